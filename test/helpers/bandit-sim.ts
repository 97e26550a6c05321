/**
 * A small seeded reward harness for testing context-free bandit policies.
 *
 * An environment gives each arm a mean reward that may change at given rounds
 * (piecewise-stationary); rewards are Bernoulli or Gaussian around that mean.
 * runBandit() plays a policy for T rounds (select, draw, update) and records actions,
 * rewards, propensities and cumulative pseudo-regret (best legal mean minus the chosen
 * arm's mean, summed). The environment draws from its own Rng, independent of the
 * policy's, so two policies on the same seed face the same reward table.
 */
import { Rng } from '../../policies/rng.js';
import type { LegalMask, Policy } from '../../policies/types.js';

export type RewardNoise = { kind: 'bernoulli' } | { kind: 'gaussian'; sd: number };

/** From round `at` (0-based) on, the arm means are `means`. */
export interface MeanChange {
  at: number;
  means: readonly number[];
}

export interface BanditEnvironment {
  readonly k: number;
  readonly noise: RewardNoise;
  /** Mean rewards in force at `round`. */
  meansAt(round: number): readonly number[];
}

function makeEnvironment(
  means: readonly number[],
  noise: RewardNoise,
  changes: readonly MeanChange[],
): BanditEnvironment {
  const phases = [{ at: 0, means }, ...[...changes].sort((a, b) => a.at - b.at)];
  for (const p of phases) {
    if (p.means.length !== means.length) {
      throw new RangeError(`every phase needs ${means.length} arm means, got ${p.means.length}`);
    }
  }
  return {
    k: means.length,
    noise,
    meansAt(round) {
      let current = phases[0].means;
      for (const p of phases) if (p.at <= round) current = p.means;
      return current;
    },
  };
}

/** Arms paying 1 with probability means[i], else 0; optional change points. */
export function bernoulliArms(
  means: readonly number[],
  changes: readonly MeanChange[] = [],
): BanditEnvironment {
  return makeEnvironment(means, { kind: 'bernoulli' }, changes);
}

/** Arms paying means[i] + N(0, sd^2); optional change points. */
export function gaussianArms(
  means: readonly number[],
  sd: number,
  changes: readonly MeanChange[] = [],
): BanditEnvironment {
  return makeEnvironment(means, { kind: 'gaussian', sd }, changes);
}

export interface BanditRun {
  readonly actions: Int32Array;
  readonly rewards: Float64Array;
  readonly propensities: Float64Array;
  /** cumRegret[t] = pseudo-regret summed over rounds 0..t. */
  readonly cumRegret: Float64Array;
  /** Index of the best legal arm at each round (lowest index on ties). */
  readonly bestArms: Int32Array;
}

export interface RunOptions {
  rounds: number;
  /** Seed of the environment's reward draws. */
  seed: number;
  /** Legal-arm mask for a round; all arms legal when omitted. */
  legal?: (round: number) => LegalMask | undefined;
}

export function runBandit(policy: Policy, env: BanditEnvironment, opts: RunOptions): BanditRun {
  if (policy.k !== env.k) {
    throw new RangeError(`policy has ${policy.k} arms, environment has ${env.k}`);
  }
  const rng = new Rng(opts.seed);
  const n = opts.rounds;
  const run: BanditRun = {
    actions: new Int32Array(n),
    rewards: new Float64Array(n),
    propensities: new Float64Array(n),
    cumRegret: new Float64Array(n),
    bestArms: new Int32Array(n),
  };
  let regret = 0;
  for (let t = 0; t < n; t++) {
    const legal = opts.legal?.(t);
    const means = env.meansAt(t);
    const { arm, propensity } = policy.select(undefined, legal);
    let best = -1;
    for (let i = 0; i < env.k; i++) {
      if (legal !== undefined && !legal[i]) continue;
      if (best < 0 || means[i] > means[best]) best = i;
    }
    const reward =
      env.noise.kind === 'bernoulli'
        ? rng.uniform() < means[arm]
          ? 1
          : 0
        : means[arm] + env.noise.sd * rng.normal();
    policy.update(arm, reward);
    regret += means[best] - means[arm];
    run.actions[t] = arm;
    run.rewards[t] = reward;
    run.propensities[t] = propensity;
    run.cumRegret[t] = regret;
    run.bestArms[t] = best;
  }
  return run;
}

/** Pseudo-regret accumulated over rounds [from, to). */
export function regretBetween(run: BanditRun, from: number, to: number): number {
  const before = from > 0 ? run.cumRegret[from - 1] : 0;
  return run.cumRegret[to - 1] - before;
}

/** Share of rounds in [from, to) where the policy played the best legal arm. */
export function bestArmShare(run: BanditRun, from: number, to: number): number {
  let hits = 0;
  for (let t = from; t < to; t++) if (run.actions[t] === run.bestArms[t]) hits++;
  return hits / (to - from);
}
