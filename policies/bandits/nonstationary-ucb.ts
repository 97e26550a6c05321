/**
 * UCB for non-stationary (piecewise-stationary) rewards, after Garivier and Moulines,
 * "On upper-confidence bound policies for switching bandit problems" (ALT 2011).
 *
 * "ducb" (discounted UCB): every round all discounted counts N_i and sums S_i are
 * multiplied by gamma before the played arm's are increased by 1 and by the reward; the
 * index is S_i / N_i + 2 B sqrt(xi ln n / N_i), with n = sum of the N_i.
 * "swucb" (sliding-window UCB): counts and sums over the last `window` rounds only; the
 * index is S_i / N_i + B sqrt(xi ln min(t, window) / N_i).
 *
 * B (`bound`) is an upper bound on the rewards' range. An arm with no weight (never
 * played, or no pull inside the window) is played first, lowest index first. Both are
 * deterministic (propensity 1); ties go to the lowest index. Defaults follow the paper's
 * experiments in spirit (xi = 0.6) with memories of a few hundred rounds.
 */
import { checkArm, checkLegal, checkReward, numParam } from '../common.js';
import { Rng } from '../rng.js';
import type { Decision, LegalMask, Policy, PolicySnapshot } from '../types.js';
import { banditFactory } from './factory.js';
import { readArray, readNumber, requireConsistent, total, type Fields } from './snapshot.js';

/** Discounted weights below this are flushed to zero (the arm counts as unplayed again). */
const FORGOTTEN = 1e-250;

/** Index of the best legal arm under mean + scale * sqrt(1 / n); zero weight plays first. */
function selectByIndex(
  counts: Float64Array,
  sums: Float64Array,
  scale2: number,
  mask: LegalMask | undefined,
): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < counts.length; i++) {
    if (mask !== undefined && !mask[i]) continue;
    const n = counts[i];
    if (n === 0) return i;
    const score = sums[i] / n + Math.sqrt(scale2 / n);
    if (best < 0 || score > bestScore) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}

export class DiscountedUcbPolicy implements Policy {
  readonly kind = 'ducb';
  readonly learnsFrom = 'any';
  readonly d = 0;
  private counts: Float64Array;
  private sums: Float64Array;
  /** Sum of the discounted counts. */
  private weight = 0;
  private t = 0;
  private rng: Rng;

  constructor(
    readonly k: number,
    readonly seed: number,
    readonly gamma: number,
    readonly xi: number,
    readonly bound: number,
  ) {
    this.counts = new Float64Array(k);
    this.sums = new Float64Array(k);
    this.rng = new Rng(seed);
  }

  select(_context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const mask = checkLegal(legal, this.k);
    // (2 B)^2 xi ln n under the square root
    const scale2 = 4 * this.bound * this.bound * this.xi * Math.log(this.weight);
    return { arm: selectByIndex(this.counts, this.sums, scale2, mask), propensity: 1 };
  }

  update(arm: number, reward: number): void {
    checkArm(arm, this.k);
    checkReward(reward);
    const g = this.gamma;
    const counts = this.counts;
    const sums = this.sums;
    for (let i = 0; i < this.k; i++) {
      counts[i] *= g;
      sums[i] *= g;
      if (counts[i] < FORGOTTEN) {
        counts[i] = 0;
        sums[i] = 0;
      }
    }
    counts[arm] += 1;
    sums[arm] += reward;
    this.weight = this.weight * g + 1;
    this.t += 1;
  }

  snapshot(): PolicySnapshot {
    return {
      kind: this.kind,
      version: 1,
      params: { k: this.k, seed: this.seed, gamma: this.gamma, xi: this.xi, bound: this.bound },
      state: {
        t: this.t,
        weight: this.weight,
        counts: Array.from(this.counts),
        sums: Array.from(this.sums),
      },
      rng: this.rng.state(),
    };
  }

  loadState(state: Fields, rng: Rng): void {
    const counts = readArray(state, 'counts', this.k, this.kind, { min: 0 });
    const sums = readArray(state, 'sums', this.k, this.kind);
    const t = readNumber(state, 't', this.kind, { min: 0, integer: true });
    const weight = readNumber(state, 'weight', this.kind, { min: 0 });
    requireConsistent(
      Math.abs(total(counts) - weight) <= 1e-6 * Math.max(1, weight),
      this.kind,
      'state.weight must equal the sum of the discounted counts',
    );
    requireConsistent(weight <= t, this.kind, 'state.weight cannot exceed t (rounds played)');
    for (let i = 0; i < this.k; i++) {
      requireConsistent(
        counts[i] > 0 || sums[i] === 0,
        this.kind,
        `arm ${i} has a reward sum but no weight`,
      );
    }
    this.counts = counts;
    this.sums = sums;
    this.weight = weight;
    this.t = t;
    this.rng = rng;
  }
}

export class SlidingWindowUcbPolicy implements Policy {
  readonly kind = 'swucb';
  readonly learnsFrom = 'any';
  readonly d = 0;
  private counts: Float64Array;
  private sums: Float64Array;
  /** Ring buffer of the last `window` plays; `head` is the slot written next. */
  private readonly windowArms: Int32Array;
  private readonly windowRewards: Float64Array;
  private head = 0;
  private filled = 0;
  private t = 0;
  private rng: Rng;

  constructor(
    readonly k: number,
    readonly seed: number,
    readonly window: number,
    readonly xi: number,
    readonly bound: number,
  ) {
    this.counts = new Float64Array(k);
    this.sums = new Float64Array(k);
    this.windowArms = new Int32Array(window);
    this.windowRewards = new Float64Array(window);
    this.rng = new Rng(seed);
  }

  select(_context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const mask = checkLegal(legal, this.k);
    const horizon = Math.min(this.t, this.window);
    const scale2 = this.bound * this.bound * this.xi * Math.log(horizon);
    return { arm: selectByIndex(this.counts, this.sums, scale2, mask), propensity: 1 };
  }

  update(arm: number, reward: number): void {
    checkArm(arm, this.k);
    checkReward(reward);
    if (this.filled === this.window) {
      const old = this.windowArms[this.head];
      this.counts[old] -= 1;
      this.sums[old] = this.counts[old] === 0 ? 0 : this.sums[old] - this.windowRewards[this.head];
    } else {
      this.filled += 1;
    }
    this.windowArms[this.head] = arm;
    this.windowRewards[this.head] = reward;
    this.head = this.head + 1 === this.window ? 0 : this.head + 1;
    this.counts[arm] += 1;
    this.sums[arm] += reward;
    this.t += 1;
  }

  snapshot(): PolicySnapshot {
    const arms: number[] = [];
    const rewards: number[] = [];
    const start = this.filled === this.window ? this.head : 0;
    for (let j = 0; j < this.filled; j++) {
      const slot = (start + j) % this.window;
      arms.push(this.windowArms[slot]);
      rewards.push(this.windowRewards[slot]);
    }
    return {
      kind: this.kind,
      version: 1,
      params: {
        k: this.k,
        seed: this.seed,
        window: this.window,
        xi: this.xi,
        bound: this.bound,
      },
      // window_* run from the oldest play to the newest
      state: { t: this.t, window_arms: arms, window_rewards: rewards, sums: Array.from(this.sums) },
      rng: this.rng.state(),
    };
  }

  loadState(state: Fields, rng: Rng): void {
    const t = readNumber(state, 't', this.kind, { min: 0, integer: true });
    const filled = Math.min(t, this.window);
    const arms = readArray(state, 'window_arms', filled, this.kind, {
      min: 0,
      max: this.k - 1,
      integer: true,
    });
    const rewards = readArray(state, 'window_rewards', filled, this.kind);
    const sums = readArray(state, 'sums', this.k, this.kind);
    const counts = new Float64Array(this.k);
    const windowSums = new Float64Array(this.k);
    for (let j = 0; j < filled; j++) {
      counts[arms[j]] += 1;
      windowSums[arms[j]] += rewards[j];
    }
    for (let i = 0; i < this.k; i++) {
      requireConsistent(
        Math.abs(sums[i] - windowSums[i]) <= 1e-6 * Math.max(1, Math.abs(windowSums[i])),
        this.kind,
        `state.sums[${i}] must equal the sum of arm ${i}'s rewards in the window`,
      );
    }
    this.windowArms.set(arms);
    this.windowRewards.set(rewards);
    this.filled = filled;
    this.head = filled === this.window ? 0 : filled;
    this.counts = counts;
    this.sums = sums;
    this.t = t;
    this.rng = rng;
  }
}

export const DUCB = banditFactory({
  kind: 'ducb',
  version: 1,
  description: 'discounted UCB (Garivier and Moulines 2011) for changing rewards; discount gamma',
  defaults: { gamma: 0.998, xi: 0.6, bound: 1 },
  build: (k, seed, p) =>
    new DiscountedUcbPolicy(
      k,
      seed,
      numParam(p, 'gamma', { min: 0, exclusiveMin: true, max: 1 }),
      numParam(p, 'xi', { min: 0, exclusiveMin: true }),
      numParam(p, 'bound', { min: 0, exclusiveMin: true }),
    ),
});

export const SWUCB = banditFactory({
  kind: 'swucb',
  version: 1,
  description: 'sliding-window UCB (Garivier and Moulines 2011) over the last `window` rounds',
  defaults: { window: 500, xi: 0.6, bound: 1 },
  build: (k, seed, p) =>
    new SlidingWindowUcbPolicy(
      k,
      seed,
      numParam(p, 'window', { min: 1, max: 10_000_000, integer: true }),
      numParam(p, 'xi', { min: 0, exclusiveMin: true }),
      numParam(p, 'bound', { min: 0, exclusiveMin: true }),
    ),
});
