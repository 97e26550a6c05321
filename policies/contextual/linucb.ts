/**
 * Disjoint LinUCB (Li, Chu, Langford and Schapire 2010). Per arm a ridge regression with
 * A_k = lambda I + sum x x^T, b_k = sum r x, no intercept; the score of arm k in context x
 * is x·theta_k + alpha sqrt(x^T A_k^-1 x), the highest legal score wins, ties go to the
 * lowest index, and the choice is deterministic (propensity 1). A_k^-1 is kept directly and
 * updated by Sherman-Morrison (faster than re-inverting; see docs/benchmarks.md).
 *
 * select() computes the full score only of arms that can win: every legal arm's x·theta_k
 * and an upper bound on its bonus (alpha ||x|| bonusScale[k], RidgeArms, times 1 + 1e-9 for
 * rounding) first; then the exact score of the arm with the highest bound, and of each other
 * legal arm, in index order, whose bound is not below the best exact score so far. A pruned
 * arm's score is below the winner's, so the choice and its tie-break (lowest index among
 * equal scores) are exactly those of scoring every arm, with the same floating-point sums.
 */
import { checkArm, checkArmCount, checkContext, checkLegal, checkReward } from '../common.js';
import { Rng } from '../rng.js';
import type { Decision, LegalMask, Policy, PolicySnapshot } from '../types.js';
import { RidgeArms } from './ridge.js';
import { checkContextDim, checkPositive, openSnapshot } from './checks.js';

export interface LinUcbOptions {
  k: number;
  d: number;
  seed: number;
  /** Exploration weight, >= 0. */
  alpha: number;
  /** Ridge prior strength, > 0 (A starts as lambda I). */
  lambda: number;
}

const VERSION = 1;

export class LinUcb implements Policy {
  readonly kind = 'linucb';
  readonly learnsFrom = 'any';
  readonly k: number;
  readonly d: number;
  private readonly opts: LinUcbOptions;
  private readonly ridge: RidgeArms;
  private readonly scores: Float64Array;
  /** Per-decision upper bounds of the scores (scratch). */
  private readonly bounds: Float64Array;
  /** LinUCB draws no random numbers; the Rng only fills the snapshot's rng field. */
  private readonly rng: Rng;

  constructor(opts: LinUcbOptions, ridge?: RidgeArms, rng?: Rng) {
    checkArmCount(opts.k);
    checkContextDim(opts.d);
    checkPositive('alpha', opts.alpha, true);
    checkPositive('lambda', opts.lambda);
    this.opts = { ...opts };
    this.k = opts.k;
    this.d = opts.d;
    this.ridge = ridge ?? new RidgeArms(opts.k, opts.d, opts.lambda, true);
    this.rng = rng ?? new Rng(opts.seed);
    this.scores = new Float64Array(opts.k);
    this.bounds = new Float64Array(opts.k);
  }

  /** The UCB score of every arm in context x (illegal arms included). */
  scoresFor(context: ArrayLike<number>): Float64Array {
    const x = checkContext(context, this.d);
    for (let a = 0; a < this.k; a++) this.scores[a] = this.score(a, x);
    return this.scores;
  }

  /** The full score, with the same sums as select() uses. */
  private score(arm: number, x: ArrayLike<number>): number {
    return this.ridge.mean(arm, x) + this.bonus(arm, x);
  }

  select(context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const x = checkContext(context, this.d);
    const mask = checkLegal(legal, this.k);
    const ridge = this.ridge;
    const alpha = this.opts.alpha;
    const means = this.scores;
    const bounds = this.bounds;
    let norm = 0;
    for (let i = 0; i < this.d; i++) norm += x[i] * x[i];
    const spread = alpha * Math.sqrt(norm) * (1 + 1e-9);
    let first = -1;
    for (let a = 0; a < this.k; a++) {
      if (mask !== undefined && !mask[a]) continue;
      means[a] = ridge.mean(a, x);
      bounds[a] = means[a] + spread * ridge.bonusScale[a];
      if (first < 0 || bounds[a] > bounds[first]) first = a;
    }
    let best = first;
    let bestScore = means[first] + this.bonus(first, x);
    for (let a = 0; a < this.k; a++) {
      if (a === first || (mask !== undefined && !mask[a]) || bounds[a] < bestScore) continue;
      const s = means[a] + this.bonus(a, x);
      if (s > bestScore || (s === bestScore && a < best)) {
        best = a;
        bestScore = s;
      }
    }
    return { arm: best, propensity: 1 };
  }

  /** alpha sqrt(x^T A_k^-1 x), as in the full score. */
  private bonus(arm: number, x: ArrayLike<number>): number {
    const q = this.ridge.quadForm(arm, x);
    return this.opts.alpha * Math.sqrt(q > 0 ? q : 0);
  }

  update(arm: number, reward: number, context?: ArrayLike<number>): void {
    checkArm(arm, this.k);
    checkReward(reward);
    const x = checkContext(context, this.d);
    this.ridge.update(arm, x, reward);
  }

  snapshot(): PolicySnapshot {
    return {
      kind: this.kind,
      version: VERSION,
      params: { ...this.opts },
      state: { ...this.ridge.state() },
      rng: this.rng.state(),
    };
  }

  static restore(snapshot: PolicySnapshot): LinUcb {
    const { params, state } = openSnapshot(snapshot, 'linucb', VERSION);
    const opts = params as unknown as LinUcbOptions;
    const probe = new LinUcb(opts); // validates the params
    return new LinUcb(
      opts,
      RidgeArms.fromState(probe.k, probe.d, opts.lambda, state, true),
      Rng.fromState(snapshot.rng),
    );
  }
}
