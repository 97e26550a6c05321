/**
 * Epsilon-greedy with a fixed or a decaying exploration rate.
 *
 * With probability epsilon the policy explores (a uniform draw over the legal arms),
 * otherwise it plays the greedy arm: the legal arm with the highest mean reward, ties to
 * the lowest index. An arm never played counts as best (optimistic start), so the greedy
 * step tries each legal arm once, in index order. One uniform is drawn per decision and a
 * second only when exploring (distribution.ts mixUniform). The propensity is exact, and the
 * decision carries its distribution:
 *   (1 - epsilon) + epsilon / L   for the greedy arm,   epsilon / L   for any other,
 * with L the number of legal arms.
 *
 * Decaying schedule ("egreedy-decay"): the epsilon_n-greedy of Auer, Cesa-Bianchi and
 * Fischer (2002), epsilon_n = min(1, c K / (gap^2 n)), with n = rounds played so far + 1
 * and K the number of arms. Their regret bound needs c > 5 and gap at most the smallest
 * gap between the best and another arm's mean; their experiments found c ~ 0.15 works
 * well in practice, which is the default here.
 */
import { argmaxLegal, checkArm, checkLegal, checkReward, numParam } from '../common.js';
import { mixUniform } from '../distribution.js';
import { Rng } from '../rng.js';
import type { Decision, LegalMask, Policy, PolicySnapshot } from '../types.js';
import { banditFactory } from './factory.js';
import { readCountsAndSums, type Fields } from './snapshot.js';

export type EpsilonSchedule =
  { kind: 'fixed'; epsilon: number } | { kind: 'decay'; c: number; gap: number };

export class EpsilonGreedyPolicy implements Policy {
  readonly kind: 'egreedy' | 'egreedy-decay';
  readonly d = 0;
  readonly learnsFrom = 'any';
  private counts: Float64Array;
  private sums: Float64Array;
  /** Greedy values: the mean reward, or +Infinity for an arm never played. */
  private values: Float64Array;
  private t = 0;
  private rng: Rng;
  private readonly decayScale: number;

  constructor(
    readonly k: number,
    readonly seed: number,
    readonly schedule: EpsilonSchedule,
  ) {
    this.kind = schedule.kind === 'fixed' ? 'egreedy' : 'egreedy-decay';
    this.counts = new Float64Array(k);
    this.sums = new Float64Array(k);
    this.values = new Float64Array(k).fill(Infinity);
    this.rng = new Rng(seed);
    this.decayScale =
      schedule.kind === 'decay' ? (schedule.c * k) / (schedule.gap * schedule.gap) : 0;
  }

  /** The exploration rate of the next decision. */
  epsilon(): number {
    if (this.schedule.kind === 'fixed') return this.schedule.epsilon;
    return Math.min(1, this.decayScale / (this.t + 1));
  }

  select(_context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const mask = checkLegal(legal, this.k);
    const eps = this.epsilon();
    return mixUniform(argmaxLegal(this.values, mask), undefined, eps, mask, this.k, this.rng);
  }

  update(arm: number, reward: number): void {
    checkArm(arm, this.k);
    checkReward(reward);
    this.counts[arm] += 1;
    this.sums[arm] += reward;
    this.values[arm] = this.sums[arm] / this.counts[arm];
    this.t += 1;
  }

  snapshot(): PolicySnapshot {
    const s = this.schedule;
    return {
      kind: this.kind,
      version: 1,
      params:
        s.kind === 'fixed'
          ? { k: this.k, seed: this.seed, epsilon: s.epsilon }
          : { k: this.k, seed: this.seed, c: s.c, gap: s.gap },
      state: { t: this.t, counts: Array.from(this.counts), sums: Array.from(this.sums) },
      rng: this.rng.state(),
    };
  }

  loadState(state: Fields, rng: Rng): void {
    const { counts, sums, t } = readCountsAndSums(state, this.k, this.kind);
    for (let i = 0; i < this.k; i++) {
      this.values[i] = counts[i] > 0 ? sums[i] / counts[i] : Infinity;
    }
    this.counts = counts;
    this.sums = sums;
    this.t = t;
    this.rng = rng;
  }
}

export const EGREEDY = banditFactory({
  kind: 'egreedy',
  version: 1,
  description: 'epsilon-greedy with a fixed exploration rate epsilon; optimistic start',
  defaults: { epsilon: 0.1 },
  build: (k, seed, p) =>
    new EpsilonGreedyPolicy(k, seed, {
      kind: 'fixed',
      epsilon: numParam(p, 'epsilon', { min: 0, max: 1 }),
    }),
});

export const EGREEDY_DECAY = banditFactory({
  kind: 'egreedy-decay',
  version: 1,
  description: 'epsilon_n-greedy (Auer et al. 2002): epsilon_n = min(1, c K / (gap^2 n))',
  defaults: { c: 0.15, gap: 0.1 },
  build: (k, seed, p) =>
    new EpsilonGreedyPolicy(k, seed, {
      kind: 'decay',
      c: numParam(p, 'c', { min: 0, exclusiveMin: true }),
      gap: numParam(p, 'gap', { min: 0, exclusiveMin: true, max: 1 }),
    }),
});
