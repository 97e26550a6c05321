/**
 * Disjoint LinUCB (Li, Chu, Langford and Schapire 2010). Per arm a ridge regression with
 * A_k = lambda I + sum x x^T, b_k = sum r x, no intercept; the score of arm k in context x
 * is x·theta_k + alpha sqrt(x^T A_k^-1 x), the highest legal score wins, ties go to the
 * lowest index, and the choice is deterministic (propensity 1). A_k^-1 is kept directly and
 * updated by Sherman-Morrison (faster than re-inverting; see docs/benchmarks.md).
 */
import {
  argmaxLegal,
  checkArm,
  checkArmCount,
  checkContext,
  checkLegal,
  checkReward,
} from '../common.js';
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
    this.ridge = ridge ?? new RidgeArms(opts.k, opts.d, opts.lambda);
    this.rng = rng ?? new Rng(opts.seed);
    this.scores = new Float64Array(opts.k);
  }

  /** The UCB score of every arm in context x (illegal arms included). */
  scoresFor(context: ArrayLike<number>): Float64Array {
    const x = checkContext(context, this.d);
    for (let a = 0; a < this.k; a++) this.scores[a] = this.score(a, x);
    return this.scores;
  }

  private score(arm: number, x: ArrayLike<number>): number {
    return this.ridge.ucb(arm, x, this.opts.alpha);
  }

  select(context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const x = checkContext(context, this.d);
    const mask = checkLegal(legal, this.k);
    for (let a = 0; a < this.k; a++) {
      this.scores[a] = mask === undefined || mask[a] ? this.score(a, x) : -Infinity;
    }
    return { arm: argmaxLegal(this.scores, mask), propensity: 1 };
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
      RidgeArms.fromState(probe.k, probe.d, opts.lambda, state),
      Rng.fromState(snapshot.rng),
    );
  }
}
