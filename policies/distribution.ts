/**
 * Exact action distributions, turned into a draw and a propensity. Every randomised choice
 * whose distribution has a closed form goes through here, so that a decision can carry its
 * full distribution over the arms (Decision.distribution) and its propensity is exactly the
 * probability of the arm drawn:
 *
 * - drawFrom(probs, rng): one uniform, inverse CDF in arm order; the arm drawn, its
 *   probability and the distribution itself (EXP3).
 * - mixUniform(base, pi, epsilon, legal, k, rng): with probability epsilon a uniformly drawn
 *   legal arm, otherwise `base`. If `base` was drawn from pi (pi undefined: the point mass on
 *   `base`), the arm played has exactly the distribution
 *       q(a) = (1 - epsilon) pi(a) + epsilon / L      over the L legal arms, 0 elsewhere.
 *   Around a greedy arm this is epsilon-greedy (egreedy, linegreedy, the tabular RL policies);
 *   around any policy it is the daemon's exploration (UniformExploration).
 * - UniformExploration: that mix around a policy's decisions, with its own seeded Rng and a
 *   state for checkpoints; decisions it cannot mix exactly (forced ones, or ones without a
 *   known distribution such as Thompson sampling's) pass through unchanged.
 *
 * Distributions are Float64Arrays of length K with 0 for illegal arms. Lazily built ones
 * (mixUniform's) read the legal mask and the base distribution when first read, so read
 * them before the mask or the policy changes.
 */
import { legalCount, nthLegal } from './common.js';
import { Rng } from './rng.js';
import type { RngState } from './rng.js';
import type { Decision, LegalMask } from './types.js';
import { PolicyArgumentError } from './types.js';

/** A decision whose distribution is known. */
export interface DistributedDecision extends Decision {
  readonly distribution: Float64Array;
}

/**
 * Draws an arm from `probs` (non-negative, summing to 1) with one uniform of `rng`. The
 * last arm with positive probability absorbs rounding at the top of the CDF. The returned
 * decision references `probs`: do not change it afterwards.
 */
export function drawFrom(probs: Float64Array, rng: Rng): DistributedDecision {
  const u = rng.uniform();
  let acc = 0;
  let arm = -1;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (!(p > 0)) continue;
    acc += p;
    arm = i;
    if (u < acc) break;
  }
  if (arm < 0) throw new PolicyArgumentError('drawFrom: the distribution has no positive mass');
  return { arm, propensity: probs[arm], distribution: probs };
}

/** The point mass on `arm` over k arms. */
export function pointMass(k: number, arm: number): Float64Array {
  const out = new Float64Array(k);
  out[arm] = 1;
  return out;
}

/** True when a decision is deterministic: an exact propensity of 1. */
function isPointMass(d: Decision): boolean {
  return d.estimated !== true && d.propensity === 1;
}

/**
 * The exact distribution of a decision, when known: its own, or the point mass on its arm
 * when it is deterministic (an exact propensity 1); undefined otherwise (Thompson sampling,
 * whose propensities are estimates).
 */
export function distributionOf(d: Decision, k: number): Float64Array | undefined {
  if (d.distribution !== undefined) return d.distribution;
  return isPointMass(d) ? pointMass(k, d.arm) : undefined;
}

/** True when `dist` gives every legal arm a positive probability. */
export function hasFullSupport(dist: ArrayLike<number> | undefined, legal?: LegalMask): boolean {
  if (dist === undefined) return false;
  for (let i = 0; i < dist.length; i++) {
    if ((legal === undefined || legal[i]) && !(dist[i] > 0)) return false;
  }
  return true;
}

/** mixUniform's decision: the mixed distribution is built on first read. */
class MixedDecision implements Decision {
  private dist: Float64Array | undefined;

  constructor(
    readonly arm: number,
    readonly propensity: number,
    private readonly base: number,
    private readonly pi: Float64Array | undefined,
    private readonly epsilon: number,
    private readonly legal: LegalMask | undefined,
    private readonly k: number,
    private readonly n: number,
  ) {}

  get distribution(): Float64Array {
    if (this.dist === undefined) {
      const out = new Float64Array(this.k);
      const keep = 1 - this.epsilon;
      const explore = this.epsilon / this.n;
      for (let a = 0; a < this.k; a++) {
        if (this.legal !== undefined && !this.legal[a]) continue;
        const pa = this.pi === undefined ? (a === this.base ? 1 : 0) : this.pi[a];
        out[a] = keep * pa + explore;
      }
      this.dist = out;
    }
    return this.dist;
  }
}

/**
 * With probability `epsilon` a uniform legal arm, else `base` (see the file comment). `pi`
 * is the distribution `base` was drawn from (undefined: `base` was chosen
 * deterministically). Draws one uniform, and a second one only when exploring.
 */
export function mixUniform(
  base: number,
  pi: Float64Array | undefined,
  epsilon: number,
  legal: LegalMask | undefined,
  k: number,
  rng: Rng,
): Decision {
  const n = legal === undefined ? k : legalCount(legal, k);
  const arm = rng.uniform() < epsilon ? nthLegal(legal, rng.int(n)) : base;
  const pArm = pi === undefined ? (arm === base ? 1 : 0) : pi[arm];
  const propensity = (1 - epsilon) * pArm + epsilon / n;
  return new MixedDecision(arm, propensity, base, pi, epsilon, legal, k, n);
}

/** Checks an exploration rate. */
export function checkEpsilon(epsilon: number, name = 'epsilon'): number {
  if (typeof epsilon !== 'number' || !(epsilon >= 0 && epsilon <= 1)) {
    throw new PolicyArgumentError(`${name} must lie in [0, 1], got ${String(epsilon)}`);
  }
  return epsilon;
}

/**
 * Uniform exploration around a policy (the daemon's): each decision the policy makes is
 * replaced, with probability epsilon, by a uniformly drawn legal arm, and the propensity
 * logged is the exact one of the mix. Decisions it cannot mix exactly pass through: a
 * forced one (Decision.forced: a guard's choice must be played as it is) and one whose
 * distribution is unknown (no Decision.distribution and not an exact propensity 1: Thompson
 * sampling, which randomises on its own but only estimates its propensity).
 */
export class UniformExploration {
  private epsilonValue: number;

  constructor(
    epsilon: number,
    private rng: Rng,
  ) {
    this.epsilonValue = checkEpsilon(epsilon, 'exploration epsilon');
  }

  static seeded(epsilon: number, seed: number): UniformExploration {
    return new UniformExploration(epsilon, new Rng(seed));
  }

  get epsilon(): number {
    return this.epsilonValue;
  }

  set epsilon(value: number) {
    this.epsilonValue = checkEpsilon(value, 'exploration epsilon');
  }

  /** True when `d` can be mixed with exact propensities. */
  static mixable(d: Decision): boolean {
    return !d.forced && (d.distribution !== undefined || isPointMass(d));
  }

  /** The decision to play: `d` mixed with uniform exploration when it can be. */
  decide(d: Decision, legal: LegalMask | undefined, k: number): Decision {
    if (this.epsilonValue === 0 || !UniformExploration.mixable(d)) return d;
    return mixUniform(d.arm, d.distribution, this.epsilonValue, legal, k, this.rng);
  }

  state(): RngState {
    return this.rng.state();
  }

  restore(state: RngState): void {
    this.rng = Rng.fromState(state);
  }
}
