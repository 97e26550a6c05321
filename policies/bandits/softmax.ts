/**
 * Softmax (Boltzmann) exploration with a fixed temperature tau.
 *
 * Each legal arm never played is tried first, in index order (a deterministic choice,
 * propensity 1). After that, arm i is drawn with probability
 *   exp(mean_i / tau) / sum over legal j of exp(mean_j / tau),
 * computed after subtracting the largest legal mean so no exponential overflows, and drawn
 * by distribution.ts drawFrom: the propensity is that exact probability and the decision
 * carries the whole distribution.
 */
import { checkArm, checkLegal, checkReward, numParam } from '../common.js';
import { Rng } from '../rng.js';
import type { Decision, LegalMask, Policy, PolicySnapshot } from '../types.js';
import { drawFrom } from '../distribution.js';
import { banditFactory } from './factory.js';
import { readCountsAndSums, type Fields } from './snapshot.js';

export class SoftmaxPolicy implements Policy {
  readonly kind = 'softmax';
  readonly d = 0;
  readonly learnsFrom = 'any';
  private counts: Float64Array;
  private sums: Float64Array;
  private means: Float64Array;
  private t = 0;
  private rng: Rng;

  constructor(
    readonly k: number,
    readonly seed: number,
    readonly tau: number,
  ) {
    this.counts = new Float64Array(k);
    this.sums = new Float64Array(k);
    this.means = new Float64Array(k);
    this.rng = new Rng(seed);
  }

  select(_context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const mask = checkLegal(legal, this.k);
    const k = this.k;
    let maxMean = -Infinity;
    for (let i = 0; i < k; i++) {
      if (mask !== undefined && !mask[i]) continue;
      if (this.counts[i] === 0) return { arm: i, propensity: 1 };
      if (this.means[i] > maxMean) maxMean = this.means[i];
    }
    // A fresh array per decision: the decision keeps it as its distribution.
    const w = new Float64Array(k);
    const invTau = 1 / this.tau;
    let sum = 0;
    for (let i = 0; i < k; i++) {
      if (mask !== undefined && !mask[i]) continue;
      w[i] = Math.exp((this.means[i] - maxMean) * invTau);
      sum += w[i];
    }
    for (let i = 0; i < k; i++) w[i] /= sum;
    return drawFrom(w, this.rng);
  }

  update(arm: number, reward: number): void {
    checkArm(arm, this.k);
    checkReward(reward);
    this.counts[arm] += 1;
    this.sums[arm] += reward;
    this.means[arm] = this.sums[arm] / this.counts[arm];
    this.t += 1;
  }

  snapshot(): PolicySnapshot {
    return {
      kind: this.kind,
      version: 1,
      params: { k: this.k, seed: this.seed, tau: this.tau },
      state: { t: this.t, counts: Array.from(this.counts), sums: Array.from(this.sums) },
      rng: this.rng.state(),
    };
  }

  loadState(state: Fields, rng: Rng): void {
    const { counts, sums, t } = readCountsAndSums(state, this.k, this.kind);
    for (let i = 0; i < this.k; i++) {
      this.means[i] = counts[i] > 0 ? sums[i] / counts[i] : 0;
    }
    this.counts = counts;
    this.sums = sums;
    this.t = t;
    this.rng = rng;
  }
}

export const SOFTMAX = banditFactory({
  kind: 'softmax',
  version: 1,
  description: 'softmax (Boltzmann) exploration over mean rewards with temperature tau',
  defaults: { tau: 0.1 },
  build: (k, seed, p) =>
    new SoftmaxPolicy(k, seed, numParam(p, 'tau', { min: 0, exclusiveMin: true })),
});
