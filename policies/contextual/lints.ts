/**
 * Linear Thompson sampling (Agrawal and Goyal 2013), disjoint per arm, no intercept.
 *
 * Arm k keeps A_k = lambda I + sum x x^T as a lower Cholesky factor R_k (A_k = R_k R_k^T,
 * rank-one updated in O(d^2)), b_k = sum r x and theta_hat_k = A_k^-1 b_k. Each decision
 * draws, for every legal arm, a real posterior sample theta_k ~ N(theta_hat_k, v^2 A_k^-1):
 * z ~ N(0, I) from the policy's Rng, solve R_k^T y = z (then y ~ N(0, A_k^-1)), and
 * theta_k = theta_hat_k + v y. The legal arm with the highest x·theta_k wins.
 *
 * Propensity. P(arm a wins) has no closed form, but since the arms are independent, the
 * score x·theta_k is exactly N(mu_k, s_k^2) with mu_k = x·theta_hat_k and
 * s_k^2 = v^2 x^T A_k^-1 x, so P(a) = E over s ~ N(mu_a, s_a^2) of prod_{j != a} Phi((s - mu_j)/s_j).
 * We estimate that expectation by Monte Carlo with `propensityDraws` draws of s taken from a
 * second Rng stream derived from the seed (so decisions do not depend on the estimate).
 * The estimator is unbiased (a Rao-Blackwellised Monte Carlo); Phi has relative error
 * below 1.2e-7. The estimate is floored at PROPENSITY_FLOOR to keep importance weights finite.
 */
import {
  argmaxLegal,
  checkArm,
  checkArmCount,
  checkContext,
  checkLegal,
  checkReward,
  legalCount,
} from '../common.js';
import {
  backSolveTransposedAt,
  cholUpdateAt,
  forwardSolveAt,
  fromPlain,
  setScaledIdentity,
  toPlain,
} from '../linalg.js';
import type { RngState } from '../rng.js';
import { deriveSeed, Rng } from '../rng.js';
import { zigguratNormal } from '../ziggurat.js';
import type { Decision, LegalMask, Policy, PolicySnapshot } from '../types.js';
import { PolicyArgumentError } from '../types.js';
import { checkContextDim, checkPositive, openSnapshot } from './checks.js';

/** Stream of the Monte Carlo propensity draws (decisions use the seed's own stream). */
const PROPENSITY_STREAM = 1;

export interface LinTsOptions {
  k: number;
  d: number;
  seed: number;
  /** Posterior scale v: theta ~ N(theta_hat, v^2 A^-1); > 0. */
  v: number;
  /** Ridge prior strength, > 0 (A starts as lambda I). */
  lambda: number;
  /** Monte Carlo draws for the propensity estimate, integer >= 1. */
  propensityDraws: number;
}

/** Smallest propensity ever reported (keeps 1/propensity finite). */
export const PROPENSITY_FLOOR = 1e-12;

const VERSION = 1;

/** Seed of the propensity stream: a fixed mix of the policy seed. */
export class LinTs implements Policy {
  readonly kind = 'lints';
  readonly learnsFrom = 'any';
  readonly k: number;
  readonly d: number;
  private readonly opts: LinTsOptions;
  /** K blocks of d x d: lower Cholesky factor of A_k. */
  private readonly chol: Float64Array;
  private readonly b: Float64Array;
  private readonly thetaHat: Float64Array;
  private readonly counts: Float64Array;
  private readonly rng: Rng;
  private readonly propensityRng: Rng;
  private readonly scores: Float64Array;
  private readonly mu: Float64Array;
  private readonly sd: Float64Array;
  private readonly z: Float64Array;
  private readonly y: Float64Array;
  private readonly bArm: Float64Array;

  constructor(opts: LinTsOptions, rng?: Rng, propensityRng?: Rng) {
    checkArmCount(opts.k);
    checkContextDim(opts.d);
    checkPositive('v', opts.v);
    checkPositive('lambda', opts.lambda);
    if (!Number.isInteger(opts.propensityDraws) || opts.propensityDraws < 1) {
      throw new PolicyArgumentError(
        `parameter "propensity_draws" must be an integer >= 1, got ${String(opts.propensityDraws)}`,
      );
    }
    const { k, d } = opts;
    this.opts = { ...opts };
    this.k = k;
    this.d = d;
    this.chol = new Float64Array(k * d * d);
    for (let a = 0; a < k; a++) setScaledIdentity(this.chol, a * d * d, d, Math.sqrt(opts.lambda));
    this.b = new Float64Array(k * d);
    this.thetaHat = new Float64Array(k * d);
    this.counts = new Float64Array(k);
    this.rng = rng ?? new Rng(opts.seed);
    this.propensityRng = propensityRng ?? new Rng(deriveSeed(opts.seed, PROPENSITY_STREAM));
    this.scores = new Float64Array(k);
    this.mu = new Float64Array(k);
    this.sd = new Float64Array(k);
    this.z = new Float64Array(d);
    this.y = new Float64Array(d);
    this.bArm = new Float64Array(d);
  }

  /** Posterior mean theta_hat_k (a copy). */
  posteriorMean(arm: number): Float64Array {
    checkArm(arm, this.k);
    return this.thetaHat.slice(arm * this.d, (arm + 1) * this.d);
  }

  /** Draws theta ~ N(theta_hat_k, v^2 A_k^-1) into `out` from the policy's Rng. */
  sampleTheta(arm: number, out: Float64Array): Float64Array {
    const d = this.d;
    const z = this.z;
    for (let i = 0; i < d; i++) z[i] = zigguratNormal(this.rng);
    backSolveTransposedAt(this.chol, arm * d * d, d, z, out);
    const v = this.opts.v;
    const off = arm * d;
    for (let i = 0; i < d; i++) out[i] = this.thetaHat[off + i] + v * out[i];
    return out;
  }

  select(context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const x = checkContext(context, this.d);
    const mask = checkLegal(legal, this.k);
    const d = this.d;
    const theta = this.y;
    for (let a = 0; a < this.k; a++) {
      if (mask !== undefined && !mask[a]) {
        this.scores[a] = -Infinity;
        continue;
      }
      this.sampleTheta(a, theta);
      let s = 0;
      for (let i = 0; i < d; i++) s += x[i] * theta[i];
      this.scores[a] = s;
    }
    const arm = argmaxLegal(this.scores, mask);
    return { arm, propensity: this.estimatePropensity(arm, x, mask), estimated: true };
  }

  /** Monte Carlo estimate of P(arm wins | context, legal set); see the file comment. */
  private estimatePropensity(
    arm: number,
    x: ArrayLike<number>,
    mask: LegalMask | undefined,
  ): number {
    if (legalCount(mask, this.k) === 1) return 1;
    const d = this.d;
    const v = this.opts.v;
    let xNorm = 0;
    for (let i = 0; i < d; i++) xNorm += x[i] * x[i];
    // x = 0 makes every score exactly 0: the lowest legal index wins with certainty.
    if (xNorm === 0) return 1;
    for (let a = 0; a < this.k; a++) {
      if (mask !== undefined && !mask[a]) continue;
      let m = 0;
      for (let i = 0; i < d; i++) m += x[i] * this.thetaHat[a * d + i];
      this.mu[a] = m;
      forwardSolveAt(this.chol, a * d * d, d, x, this.z);
      let q = 0;
      for (let i = 0; i < d; i++) q += this.z[i] * this.z[i];
      this.sd[a] = v * Math.sqrt(q);
    }
    const draws = this.opts.propensityDraws;
    const muA = this.mu[arm];
    const sdA = this.sd[arm];
    let sum = 0;
    for (let m = 0; m < draws; m++) {
      const s = muA + sdA * zigguratNormal(this.propensityRng);
      let p = 1;
      for (let j = 0; j < this.k; j++) {
        if (j === arm || (mask !== undefined && !mask[j])) continue;
        const z = (s - this.mu[j]) / this.sd[j];
        // Phi(z) rounds to 1 in double precision above 8.3: skip the erfc.
        if (z < 8.3) p *= normalCdf(z);
        if (p === 0) break;
      }
      sum += p;
    }
    const est = sum / draws;
    return est > PROPENSITY_FLOOR ? est : PROPENSITY_FLOOR;
  }

  update(arm: number, reward: number, context?: ArrayLike<number>): void {
    checkArm(arm, this.k);
    checkReward(reward);
    const x = checkContext(context, this.d);
    const d = this.d;
    const off = arm * d * d;
    for (let i = 0; i < d; i++) this.b[arm * d + i] += reward * x[i];
    cholUpdateAt(this.chol, off, d, x, this.z);
    this.refreshThetaHat(arm);
    this.counts[arm]++;
  }

  /** theta_hat = A^-1 b by two triangular solves. */
  private refreshThetaHat(arm: number): void {
    const d = this.d;
    for (let i = 0; i < d; i++) this.bArm[i] = this.b[arm * d + i];
    forwardSolveAt(this.chol, arm * d * d, d, this.bArm, this.z);
    backSolveTransposedAt(this.chol, arm * d * d, d, this.z, this.y);
    this.thetaHat.set(this.y, arm * d);
  }

  snapshot(): PolicySnapshot {
    return {
      kind: this.kind,
      version: VERSION,
      params: { ...this.opts },
      state: {
        chol: toPlain(this.chol),
        b: toPlain(this.b),
        counts: toPlain(this.counts),
        propensityRng: this.propensityRng.state(),
      },
      rng: this.rng.state(),
    };
  }

  static restore(snapshot: PolicySnapshot): LinTs {
    const { params, state } = openSnapshot(snapshot, 'lints', VERSION);
    const opts = params as unknown as LinTsOptions;
    const p = new LinTs(
      opts,
      Rng.fromState(snapshot.rng),
      Rng.fromState(state.propensityRng as RngState),
    );
    const { k, d } = p;
    p.chol.set(fromPlain(state.chol, k * d * d, 'chol'));
    p.b.set(fromPlain(state.b, k * d, 'b'));
    p.counts.set(fromPlain(state.counts, k, 'counts'));
    for (let a = 0; a < k; a++) p.refreshThetaHat(a);
    return p;
  }
}

/** Standard normal CDF via erfc (Numerical Recipes erfcc, relative error < 1.2e-7). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z * Math.SQRT1_2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
