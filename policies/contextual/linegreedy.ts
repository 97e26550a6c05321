/**
 * Linear epsilon-greedy: a disjoint ridge regression per arm (A_k = lambda I + sum x x^T,
 * no intercept). With probability epsilon a uniformly random legal arm, otherwise the legal
 * arm with the highest x·theta_k (ties to the lowest index). The propensity is exact:
 * (1 - epsilon) + epsilon/n for the greedy arm, epsilon/n for the others (n legal arms), and
 * the decision carries that distribution (distribution.ts mixUniform).
 */
import {
  argmaxLegal,
  checkArm,
  checkArmCount,
  checkContext,
  checkLegal,
  checkReward,
} from '../common.js';
import { mixUniform } from '../distribution.js';
import { Rng } from '../rng.js';
import type { Decision, LegalMask, Policy, PolicySnapshot } from '../types.js';
import { PolicyArgumentError } from '../types.js';
import { RidgeArms } from './ridge.js';
import { checkContextDim, checkPositive, openSnapshot } from './checks.js';

export interface LinEpsilonGreedyOptions {
  k: number;
  d: number;
  seed: number;
  /** Exploration probability in [0, 1]. */
  epsilon: number;
  /** Ridge prior strength, > 0. */
  lambda: number;
}

const VERSION = 1;

export class LinEpsilonGreedy implements Policy {
  readonly kind = 'linegreedy';
  readonly k: number;
  readonly d: number;
  readonly learnsFrom = 'any';
  private readonly opts: LinEpsilonGreedyOptions;
  private readonly ridge: RidgeArms;
  private readonly rng: Rng;
  private readonly scores: Float64Array;

  constructor(opts: LinEpsilonGreedyOptions, ridge?: RidgeArms, rng?: Rng) {
    checkArmCount(opts.k);
    checkContextDim(opts.d);
    checkPositive('lambda', opts.lambda);
    if (!(opts.epsilon >= 0 && opts.epsilon <= 1)) {
      throw new PolicyArgumentError(
        `parameter "epsilon" must lie in [0, 1], got ${String(opts.epsilon)}`,
      );
    }
    this.opts = { ...opts };
    this.k = opts.k;
    this.d = opts.d;
    this.ridge = ridge ?? new RidgeArms(opts.k, opts.d, opts.lambda);
    this.rng = rng ?? new Rng(opts.seed);
    this.scores = new Float64Array(opts.k);
  }

  select(context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const x = checkContext(context, this.d);
    const mask = checkLegal(legal, this.k);
    for (let a = 0; a < this.k; a++) {
      this.scores[a] = mask === undefined || mask[a] ? this.ridge.mean(a, x) : -Infinity;
    }
    const greedy = argmaxLegal(this.scores, mask);
    return mixUniform(greedy, undefined, this.opts.epsilon, mask, this.k, this.rng);
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

  static restore(snapshot: PolicySnapshot): LinEpsilonGreedy {
    const { params, state } = openSnapshot(snapshot, 'linegreedy', VERSION);
    const opts = params as unknown as LinEpsilonGreedyOptions;
    const probe = new LinEpsilonGreedy(opts);
    return new LinEpsilonGreedy(
      opts,
      RidgeArms.fromState(probe.k, probe.d, opts.lambda, state),
      Rng.fromState(snapshot.rng),
    );
  }
}
