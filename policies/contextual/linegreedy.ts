/**
 * Linear epsilon-greedy: a disjoint ridge regression per arm (A_k = lambda I + sum x x^T,
 * no intercept). With probability epsilon a uniformly random legal arm, otherwise the legal
 * arm with the highest x·theta_k (ties to the lowest index). The propensity is exact:
 * (1 - epsilon) + epsilon/n for the greedy arm, epsilon/n for the others (n legal arms), and
 * the decision carries that distribution (distribution.ts epsilonGreedy).
 */
import {
  checkArm,
  checkArmCount,
  checkContext,
  checkContextDim,
  checkLegal,
  checkNumber,
  checkReward,
} from '../common.js';
import { epsilonGreedy } from '../distribution.js';
import { Rng } from '../rng.js';
import type { Decision, LegalMask, Policy, PolicyFactory, PolicySnapshot } from '../types.js';
import { RidgeArms } from './ridge.js';
import { openSnapshot, withSnapshotParams } from '../snapshot.js';

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

  constructor(opts: LinEpsilonGreedyOptions, rng?: Rng) {
    checkArmCount(opts.k);
    checkContextDim(opts.d);
    checkNumber('epsilon', opts.epsilon, { min: 0, max: 1 });
    checkNumber('lambda', opts.lambda, { min: 0, exclusiveMin: true });
    this.opts = { ...opts };
    this.k = opts.k;
    this.d = opts.d;
    this.ridge = new RidgeArms(opts.k, opts.d, opts.lambda);
    this.rng = rng ?? new Rng(opts.seed);
    this.scores = new Float64Array(opts.k);
  }

  select(context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const x = checkContext(context, this.d);
    const mask = checkLegal(legal, this.k);
    for (let a = 0; a < this.k; a++) {
      this.scores[a] = mask === undefined || mask[a] ? this.ridge.mean(a, x) : -Infinity;
    }
    return epsilonGreedy(this.scores, this.opts.epsilon, mask, this.k, this.rng);
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
    const { params, state, rng } = openSnapshot(snapshot, 'linegreedy', VERSION);
    const p = withSnapshotParams(
      'linegreedy',
      () => new LinEpsilonGreedy(params as unknown as LinEpsilonGreedyOptions, rng),
    );
    p.ridge.load(state, 'linegreedy');
    return p;
  }
}

export const LINEGREEDY: PolicyFactory = {
  kind: 'linegreedy',
  description: 'linear epsilon-greedy with a ridge regression per arm',
  contextual: true,
  defaults: { epsilon: 0.1, lambda: 1 },
  create: (shape, p) =>
    new LinEpsilonGreedy({
      k: shape.k,
      d: shape.d,
      seed: shape.seed,
      epsilon: p.epsilon as number,
      lambda: p.lambda as number,
    }),
  restore: (s) => LinEpsilonGreedy.restore(s),
};
