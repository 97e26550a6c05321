/**
 * Replays a problem folder (experiments/problems/) round for round: the same draws whatever the
 * seed, so every policy faces exactly the rounds the golden traces were made on.
 */
import type { LegalMask } from '../../policies/types.js';
import type { BenchProblem } from '../bench-problem.js';
import { loadBenchProblem } from '../bench-problem.js';
import type { BanditEnv, StepResult } from './types.js';
import { EnvArgumentError } from './types.js';

export interface BenchParams {
  /** Problem folder. */
  dir: string;
  baselineArm?: number;
}

export class BenchEnv implements BanditEnv {
  readonly kind = 'bench';
  readonly k: number;
  readonly d: number;
  readonly rounds: number;
  readonly baselineArm: number;
  private readonly problem: BenchProblem;
  private readonly x: Float64Array;
  private readonly bestMean: Float64Array;
  private t = 0;
  private readonly result: StepResult = { reward: 0, regret: 0, vsBaseline: 0, optimal: false };

  constructor(p: BenchParams, loaded?: BenchProblem) {
    this.problem = loaded ?? loadBenchProblem(p.dir);
    const { K, d, T } = this.problem;
    this.k = K;
    this.d = d;
    this.rounds = T;
    this.baselineArm = p.baselineArm ?? 0;
    if (!Number.isInteger(this.baselineArm) || this.baselineArm < 0 || this.baselineArm >= K) {
      throw new EnvArgumentError(
        `baselineArm must be an arm index in 0..${K - 1}, got ${this.baselineArm}`,
      );
    }
    this.x = new Float64Array(d);
    this.bestMean = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      let best = -Infinity;
      for (let a = 0; a < K; a++) best = Math.max(best, this.mean(t, a));
      this.bestMean[t] = best;
    }
  }

  private mean(t: number, arm: number): number {
    const p = this.problem;
    return p.kind === 'linear' ? p.means![t * p.K + arm] : p.probs![arm];
  }

  reset(_seed: number): void {
    this.t = 0;
  }

  context(t: number): Float64Array | undefined {
    if (this.d === 0) return undefined;
    const { d, x } = this;
    const contexts = this.problem.contexts!;
    for (let i = 0; i < d; i++) x[i] = contexts[t * d + i];
    return this.x;
  }

  legal(_t: number): LegalMask | undefined {
    return undefined;
  }

  bestExpected(t: number): number {
    return this.bestMean[t];
  }

  step(arm: number): StepResult {
    const { t, k } = this;
    if (t >= this.rounds) throw new EnvArgumentError(`the problem has only ${this.rounds} rounds`);
    if (!Number.isInteger(arm) || arm < 0 || arm >= k) {
      throw new EnvArgumentError(`arm ${arm} is out of range 0..${k - 1}`);
    }
    const p = this.problem;
    const r = this.result;
    const m = this.mean(t, arm);
    r.reward = p.kind === 'linear' ? m + p.noise![t * k + arm] : p.rewards![t * k + arm];
    r.regret = this.bestMean[t] - m;
    r.vsBaseline = m - this.mean(t, this.baselineArm);
    r.optimal = m >= this.bestMean[t];
    this.t++;
    return r;
  }
}
