/**
 * Linear epsilon-greedy: a disjoint ridge regression per arm (A_k = lambda I + sum x x^T,
 * no intercept). With probability epsilon a uniformly random legal arm, otherwise the legal
 * arm with the highest x·theta_k (ties to the lowest index). The propensity is exact:
 * (1 - epsilon) + epsilon/n for the greedy arm, epsilon/n for the others (n legal arms), and
 * the decision carries that distribution (distribution.ts epsilonGreedy).
 */
import { checkContext, checkLegal, checkNumber } from '../common.js';
import { epsilonGreedy } from '../distribution.js';
import { Rng } from '../rng.js';
import type { Decision, LegalMask, PolicyFactory, PolicySnapshot } from '../types.js';
import { RidgePolicy, type RidgeOptions } from './ridge.js';

export interface LinEpsilonGreedyOptions extends RidgeOptions {
  /** Exploration probability in [0, 1]. */
  epsilon: number;
}

export class LinEpsilonGreedy extends RidgePolicy<LinEpsilonGreedyOptions> {
  readonly kind = 'linegreedy';

  constructor(opts: LinEpsilonGreedyOptions, rng?: Rng) {
    super(opts, false, rng);
    checkNumber('epsilon', opts.epsilon, { min: 0, max: 1 });
  }

  select(context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const x = checkContext(context, this.d);
    const mask = checkLegal(legal, this.k);
    for (let a = 0; a < this.k; a++) {
      this.scores[a] = mask === undefined || mask[a] ? this.ridge.mean(a, x) : -Infinity;
    }
    return epsilonGreedy(this.scores, this.opts.epsilon, mask, this.k, this.rng);
  }

  static restore(snapshot: PolicySnapshot): LinEpsilonGreedy {
    return RidgePolicy.restoreWith(
      snapshot,
      'linegreedy',
      (o: LinEpsilonGreedyOptions, rng) => new LinEpsilonGreedy(o, rng),
    );
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
