/**
 * Catalogue of the contextual (LinUCB, linear TS, linear epsilon-greedy), tabular RL
 * (Q-learning, SARSA) policies and the conservative wrapper, with defaults and validation.
 */
import { BANDIT_POLICIES } from './catalog-bandits.js';
import { numParam } from './common.js';
import { ConservativePolicy } from './conservative.js';
import { LinEpsilonGreedy } from './contextual/linegreedy.js';
import { LinTs } from './contextual/lints.js';
import { LinUcb } from './contextual/linucb.js';
import type { PolicyFactory, PolicyParams, PolicyShape } from './registry.js';
import { QLearning } from './rl/qlearning.js';
import { Sarsa } from './rl/sarsa.js';
import type { TabularOptions } from './rl/tabular.js';
import type { Policy, PolicySnapshot } from './types.js';
import { PolicyArgumentError } from './types.js';

const TABULAR_DEFAULTS: PolicyParams = {
  bins: 4,
  lo: 0,
  hi: 1,
  edges: '',
  alpha: 0.1,
  gamma: 0.9,
  epsilon: 0.1,
  init: 0,
};

function tabularOptions(shape: PolicyShape, p: PolicyParams): TabularOptions {
  const edges = p.edges;
  if (typeof edges !== 'string' && typeof edges !== 'number') {
    throw new PolicyArgumentError('parameter "edges" must be a string such as 0.2/0.5/0.8');
  }
  return {
    k: shape.k,
    d: shape.d,
    seed: shape.seed,
    bins: numParam(p, 'bins', { min: 1, integer: true }),
    lo: numParam(p, 'lo'),
    hi: numParam(p, 'hi'),
    edges,
    alpha: numParam(p, 'alpha', { min: 0, max: 1, exclusiveMin: true }),
    gamma: numParam(p, 'gamma', { min: 0, max: 1 }),
    epsilon: numParam(p, 'epsilon', { min: 0, max: 1 }),
    init: numParam(p, 'init'),
  };
}

/** Finds a factory among every catalogue, without importing the registry (no cycle). */
function findFactory(kind: string): PolicyFactory {
  const f = [...BANDIT_POLICIES, ...CONTEXTUAL_POLICIES].find((x) => x.kind === kind);
  if (!f) {
    const known = [...BANDIT_POLICIES, ...CONTEXTUAL_POLICIES].map((x) => x.kind).join(', ');
    throw new PolicyArgumentError(`unknown inner policy "${kind}"; known policies: ${known}`);
  }
  return f;
}

function createInner(shape: PolicyShape, p: PolicyParams): Policy {
  const kind = p.inner;
  if (typeof kind !== 'string' || kind === '') {
    throw new PolicyArgumentError('parameter "inner" must name a policy, e.g. inner=linucb');
  }
  if (kind === 'conservative') {
    throw new PolicyArgumentError('a conservative policy cannot wrap another conservative policy');
  }
  const f = findFactory(kind);
  const innerParams: PolicyParams = {};
  for (const [key, value] of Object.entries(p)) {
    if (!key.startsWith('inner.')) continue;
    const name = key.slice('inner.'.length);
    if (!(name in f.defaults)) {
      const known = Object.keys(f.defaults);
      throw new PolicyArgumentError(
        `inner policy "${kind}" has no parameter "${name}"; it takes ${known.length ? known.join(', ') : 'none'}`,
      );
    }
    innerParams[name] = value;
  }
  if (f.contextual && (!Number.isInteger(shape.d) || shape.d < 1)) {
    throw new PolicyArgumentError(
      `inner policy "${kind}" is contextual and needs context length d >= 1, got ${String(shape.d)}`,
    );
  }
  return f.create(shape, { ...f.defaults, ...innerParams });
}

export const CONTEXTUAL_POLICIES: PolicyFactory[] = [
  {
    kind: 'linucb',
    description:
      'disjoint LinUCB (Li et al. 2010): ridge per arm, x.theta + alpha sqrt(x^T A^-1 x)',
    contextual: true,
    defaults: { alpha: 1, lambda: 1 },
    create: (shape, p) =>
      new LinUcb({
        k: shape.k,
        d: shape.d,
        seed: shape.seed,
        alpha: numParam(p, 'alpha', { min: 0 }),
        lambda: numParam(p, 'lambda', { min: 0, exclusiveMin: true }),
      }),
    restore: (s) => LinUcb.restore(s),
  },
  {
    kind: 'lints',
    description:
      'linear Thompson sampling (Agrawal and Goyal 2013): theta ~ N(theta_hat, v^2 A^-1) per arm',
    contextual: true,
    defaults: { v: 0.5, lambda: 1, propensity_draws: 32 },
    create: (shape, p) =>
      new LinTs({
        k: shape.k,
        d: shape.d,
        seed: shape.seed,
        v: numParam(p, 'v', { min: 0, exclusiveMin: true }),
        lambda: numParam(p, 'lambda', { min: 0, exclusiveMin: true }),
        propensityDraws: numParam(p, 'propensity_draws', { min: 1, integer: true }),
      }),
    restore: (s) => LinTs.restore(s),
  },
  {
    kind: 'linegreedy',
    description: 'linear epsilon-greedy with a ridge regression per arm',
    contextual: true,
    defaults: { epsilon: 0.1, lambda: 1 },
    create: (shape, p) =>
      new LinEpsilonGreedy({
        k: shape.k,
        d: shape.d,
        seed: shape.seed,
        epsilon: numParam(p, 'epsilon', { min: 0, max: 1 }),
        lambda: numParam(p, 'lambda', { min: 0, exclusiveMin: true }),
      }),
    restore: (s) => LinEpsilonGreedy.restore(s),
  },
  {
    kind: 'qlearning',
    description: 'tabular Q-learning over discretised contexts, epsilon-greedy',
    contextual: true,
    defaults: TABULAR_DEFAULTS,
    create: (shape, p) => new QLearning(tabularOptions(shape, p)),
    restore: (s) => QLearning.restore(s),
  },
  {
    kind: 'sarsa',
    description:
      'tabular SARSA over discretised contexts, epsilon-greedy (update applied at the next select)',
    contextual: true,
    defaults: TABULAR_DEFAULTS,
    create: (shape, p) => new Sarsa(tabularOptions(shape, p)),
    restore: (s) => Sarsa.restore(s),
  },
  {
    kind: 'conservative',
    description:
      'conservative wrapper (Wu et al. 2016, CLUCB): plays the baseline arm unless exploring keeps reward >= (1-alpha) x baseline',
    // The inner policy decides whether a context is needed (checked in create).
    contextual: false,
    defaults: {
      alpha: 0.1,
      baseline: 0,
      baseline_reward: 'estimate',
      delta: 0.05,
      reward_min: 0,
      reward_max: 1,
      inner: 'linucb',
    },
    create: (shape, p) => {
      const known = p.baseline_reward;
      if (known !== 'estimate' && typeof known !== 'number') {
        throw new PolicyArgumentError(
          `parameter "baseline_reward" must be a number or "estimate", got ${String(known)}`,
        );
      }
      return new ConservativePolicy(createInner(shape, p), {
        alpha: numParam(p, 'alpha', { min: 0, max: 1 }),
        baseline: numParam(p, 'baseline', { min: 0, integer: true }),
        baselineReward: known === 'estimate' ? null : numParam(p, 'baseline_reward'),
        delta: numParam(p, 'delta', { min: 0, max: 1, exclusiveMin: true }),
        rewardMin: numParam(p, 'reward_min', { min: 0 }),
        rewardMax: numParam(p, 'reward_max'),
      });
    },
    restore: (s) =>
      ConservativePolicy.restore(s, (inner: PolicySnapshot) => {
        if (!inner || typeof inner.kind !== 'string') {
          throw new PolicyArgumentError('conservative snapshot must hold the inner snapshot');
        }
        return findFactory(inner.kind).restore(inner);
      }),
  },
];
