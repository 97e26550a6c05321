/**
 * Adversarial environments, scored by the regret against the best fixed arm in hindsight:
 * after round t it is max_k S_t(k) - (reward collected), where S_t(k) is what always
 * playing arm k would have collected. Every arm's reward is drawn each round from one
 * shared uniform (r_t(k) = 1 when u_t < p_t(k)), so S_t is known for every arm.
 *
 * - "switching" (oblivious): the good arm (p = high) changes every `period` rounds,
 *   cycling through the arms; the others pay with p = low.
 * - "adaptive": the arm the policy played most so far (ties: lowest index) pays with
 *   p = low, every other arm with p = high, so a policy that commits is punished.
 */
import { Rng } from '../../policies/rng.js';
import type { LegalMask } from '../../policies/types.js';
import type { BanditEnv, StepResult } from './types.js';
import { EnvArgumentError } from './types.js';

export interface AdversarialParams {
  k: number;
  adversary: 'switching' | 'adaptive';
  /** Switching only: rounds per good arm (default 500). */
  period?: number;
  /** Payout probability of favoured arms (default 0.9). */
  high?: number;
  /** Payout probability of punished arms (default 0.1). */
  low?: number;
  baselineArm?: number;
}

export class AdversarialEnv implements BanditEnv {
  readonly kind = 'adversarial';
  readonly d = 0;
  readonly rounds = undefined;
  readonly k: number;
  readonly baselineArm: number;
  private readonly adversary: 'switching' | 'adaptive';
  private readonly period: number;
  private readonly high: number;
  private readonly low: number;
  private rng = new Rng(0);
  private t = 0;
  private readonly probs: Float64Array;
  private readonly plays: Float64Array;
  private readonly hindsight: Float64Array;
  private bestHindsight = 0;
  private readonly result: StepResult = { reward: 0, regret: 0, vsBaseline: 0, optimal: false };

  constructor(p: AdversarialParams) {
    if (!Number.isInteger(p.k) || p.k < 2)
      throw new EnvArgumentError(`k must be an integer >= 2, got ${p.k}`);
    if (p.adversary !== 'switching' && p.adversary !== 'adaptive') {
      throw new EnvArgumentError(
        `adversary must be "switching" or "adaptive", got ${String(p.adversary)}`,
      );
    }
    this.k = p.k;
    this.adversary = p.adversary;
    this.period = p.period ?? 500;
    this.high = p.high ?? 0.9;
    this.low = p.low ?? 0.1;
    this.baselineArm = p.baselineArm ?? 0;
    if (!Number.isInteger(this.period) || this.period < 1) {
      throw new EnvArgumentError(`period must be an integer >= 1, got ${this.period}`);
    }
    if (!(this.low >= 0 && this.low <= this.high && this.high <= 1)) {
      throw new EnvArgumentError(
        `need 0 <= low <= high <= 1, got low ${this.low}, high ${this.high}`,
      );
    }
    if (!Number.isInteger(this.baselineArm) || this.baselineArm < 0 || this.baselineArm >= p.k) {
      throw new EnvArgumentError(
        `baselineArm must be an arm index in 0..${p.k - 1}, got ${this.baselineArm}`,
      );
    }
    this.probs = new Float64Array(p.k);
    this.plays = new Float64Array(p.k);
    this.hindsight = new Float64Array(p.k);
  }

  reset(seed: number): void {
    this.rng = new Rng(seed);
    this.t = 0;
    this.plays.fill(0);
    this.hindsight.fill(0);
    this.bestHindsight = 0;
    this.prepare();
  }

  private prepare(): void {
    let punished = -1;
    if (this.adversary === 'switching') {
      const good = Math.floor(this.t / this.period) % this.k;
      for (let a = 0; a < this.k; a++) this.probs[a] = a === good ? this.high : this.low;
      return;
    }
    for (let a = 0; a < this.k; a++)
      if (punished < 0 || this.plays[a] > this.plays[punished]) punished = a;
    for (let a = 0; a < this.k; a++) this.probs[a] = a === punished ? this.low : this.high;
  }

  context(_t: number): undefined {
    return undefined;
  }

  legal(_t: number): LegalMask | undefined {
    return undefined;
  }

  bestExpected(_t: number): number {
    let best = 0;
    for (let a = 0; a < this.k; a++) if (this.probs[a] > best) best = this.probs[a];
    return best;
  }

  step(arm: number): StepResult {
    if (!Number.isInteger(arm) || arm < 0 || arm >= this.k) {
      throw new EnvArgumentError(`arm ${arm} is out of range 0..${this.k - 1}`);
    }
    const u = this.rng.uniform();
    let best = -Infinity;
    for (let a = 0; a < this.k; a++) {
      this.hindsight[a] += u < this.probs[a] ? 1 : 0;
      if (this.hindsight[a] > best) best = this.hindsight[a];
    }
    const r = this.result;
    r.reward = u < this.probs[arm] ? 1 : 0;
    r.regret = best - this.bestHindsight - r.reward;
    r.vsBaseline = r.reward - (u < this.probs[this.baselineArm] ? 1 : 0);
    r.optimal = this.probs[arm] >= this.bestExpected(this.t);
    this.bestHindsight = best;
    this.plays[arm]++;
    this.t++;
    this.prepare();
    return r;
  }
}
