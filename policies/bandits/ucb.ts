/**
 * Optimism-based index policies for stationary rewards: UCB1 and Bernoulli KL-UCB.
 *
 * Both play every legal arm once, in index order, before using their index; t is the
 * number of rounds played so far (updates), and ties go to the lowest index. Both are
 * deterministic, so every decision has propensity 1.
 */
import { checkArm, checkLegal, checkReward, checkUnitReward, numParam } from '../common.js';
import { Rng } from '../rng.js';
import type { Decision, LegalMask, Policy, PolicySnapshot } from '../types.js';
import { banditFactory } from './factory.js';
import { readCountsAndSums, requireConsistent, type Fields } from './snapshot.js';

/** Per-arm pull counts and reward sums, shared by the stationary index policies. */
abstract class MeanIndexPolicy implements Policy {
  abstract readonly kind: string;
  readonly learnsFrom = 'any';
  readonly d = 0;
  protected counts: Float64Array;
  protected sums: Float64Array;
  protected t = 0;
  protected rng: Rng;

  constructor(
    readonly k: number,
    readonly seed: number,
  ) {
    this.counts = new Float64Array(k);
    this.sums = new Float64Array(k);
    this.rng = new Rng(seed);
  }

  abstract select(context?: ArrayLike<number>, legal?: LegalMask): Decision;
  protected abstract params(): Fields;
  protected abstract checkUpdateReward(reward: number): void;

  update(arm: number, reward: number): void {
    checkArm(arm, this.k);
    this.checkUpdateReward(reward);
    this.counts[arm] += 1;
    this.sums[arm] += reward;
    this.t += 1;
  }

  snapshot(): PolicySnapshot {
    return {
      kind: this.kind,
      version: 1,
      params: { k: this.k, seed: this.seed, ...this.params() },
      state: { t: this.t, counts: Array.from(this.counts), sums: Array.from(this.sums) },
      rng: this.rng.state(),
    };
  }

  loadState(state: Fields, rng: Rng): void {
    const { counts, sums, t } = readCountsAndSums(state, this.k, this.kind);
    this.checkSums(counts, sums);
    this.counts = counts;
    this.sums = sums;
    this.t = t;
    this.rng = rng;
  }

  /** Extra checks of restored sums (e.g. rewards in [0, 1]); none by default. */
  protected checkSums(_counts: Float64Array, _sums: Float64Array): void {}
}

/** UCB1 (Auer, Cesa-Bianchi and Fischer 2002): mean + sqrt(2 ln t / n). */
export class Ucb1Policy extends MeanIndexPolicy {
  readonly kind = 'ucb1';

  select(_context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const mask = checkLegal(legal, this.k);
    const counts = this.counts;
    const sums = this.sums;
    const twoLogT = 2 * Math.log(this.t);
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < this.k; i++) {
      if (mask !== undefined && !mask[i]) continue;
      const n = counts[i];
      if (n === 0) return { arm: i, propensity: 1 };
      const score = sums[i] / n + Math.sqrt(twoLogT / n);
      if (best < 0 || score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    return { arm: best, propensity: 1 };
  }

  protected params(): Fields {
    return {};
  }

  protected checkUpdateReward(reward: number): void {
    checkReward(reward);
  }
}

/** Bernoulli KL divergence kl(p, q), with q kept inside (0, 1). */
export function bernoulliKl(p: number, q: number): number {
  const eps = 1e-15;
  if (q < eps) q = eps;
  else if (q > 1 - eps) q = 1 - eps;
  let kl = 0;
  if (p > 0) kl += p * Math.log(p / q);
  if (p < 1) kl += (1 - p) * Math.log((1 - p) / (1 - q));
  return kl;
}

/**
 * KL-UCB index: the largest q in [mean, 1] with kl(mean, q) <= budget, found by
 * bisection to within `precision` (the returned q always satisfies the bound).
 */
export function klUcbIndex(mean: number, budget: number, precision: number): number {
  if (budget <= 0 || mean >= 1) return mean;
  let lo = mean;
  let hi = 1;
  if (bernoulliKl(mean, hi) <= budget) return 1;
  while (hi - lo > precision) {
    const mid = 0.5 * (lo + hi);
    if (bernoulliKl(mean, mid) > budget) hi = mid;
    else lo = mid;
  }
  return lo;
}

/**
 * Bernoulli KL-UCB (Garivier and Cappé 2011): index = max q in [mean, 1] with
 * n kl(mean, q) <= ln t + c ln ln t. The ln ln t term is used only once ln t > 1
 * (t >= 3), where it is positive. Rewards must lie in [0, 1].
 */
export class KlUcbPolicy extends MeanIndexPolicy {
  readonly kind = 'klucb';

  constructor(
    k: number,
    seed: number,
    readonly c: number,
    readonly precision: number,
  ) {
    super(k, seed);
  }

  select(_context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const mask = checkLegal(legal, this.k);
    const logT = Math.log(this.t);
    const explorationBudget = logT + (logT > 1 ? this.c * Math.log(logT) : 0);
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < this.k; i++) {
      if (mask !== undefined && !mask[i]) continue;
      const n = this.counts[i];
      if (n === 0) return { arm: i, propensity: 1 };
      const score = klUcbIndex(this.sums[i] / n, explorationBudget / n, this.precision);
      if (best < 0 || score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    return { arm: best, propensity: 1 };
  }

  protected params(): Fields {
    return { c: this.c, precision: this.precision };
  }

  protected checkUpdateReward(reward: number): void {
    checkUnitReward(reward);
  }

  protected override checkSums(counts: Float64Array, sums: Float64Array): void {
    for (let i = 0; i < this.k; i++) {
      requireConsistent(
        sums[i] >= 0 && sums[i] <= counts[i],
        this.kind,
        `arm ${i}: rewards lie in [0, 1], so its sum must lie in [0, count]`,
      );
    }
  }
}

export const UCB1 = banditFactory({
  kind: 'ucb1',
  version: 1,
  description: 'UCB1: each arm once, then mean + sqrt(2 ln t / n); deterministic',
  defaults: {},
  build: (k, seed) => new Ucb1Policy(k, seed),
});

export const KL_UCB = banditFactory({
  kind: 'klucb',
  version: 1,
  description: 'Bernoulli KL-UCB (rewards in [0,1]): max q with n kl(mean,q) <= ln t + c ln ln t',
  defaults: { c: 0, precision: 1e-6 },
  build: (k, seed, p) =>
    new KlUcbPolicy(
      k,
      seed,
      numParam(p, 'c', { min: 0 }),
      numParam(p, 'precision', { min: 0, exclusiveMin: true, max: 0.01 }),
    ),
});
