/**
 * Shared bookkeeping of environments whose rounds have an expected reward per arm:
 * subclasses fill `means` for the round and draw the realised reward; this class turns
 * a choice into reward, pseudo-regret, gain over the baseline arm and optimality.
 */
import type { LegalMask } from '../../policies/types.js';
import type { BanditEnv, StepResult } from './types.js';
import { EnvArgumentError } from './types.js';

export abstract class MeanEnv implements BanditEnv {
  abstract readonly kind: string;
  readonly rounds: number | undefined = undefined;
  protected readonly means: Float64Array;
  protected t = 0;
  /** The round whose means (and context) are in place; prepared lazily so that step() never overwrites a context the caller still holds. */
  private prepared = -1;
  private readonly result: StepResult = { reward: 0, regret: 0, vsBaseline: 0, optimal: false };

  constructor(
    readonly k: number,
    readonly d: number,
    readonly baselineArm: number,
  ) {
    if (!Number.isInteger(k) || k < 1)
      throw new EnvArgumentError(`k must be an integer >= 1, got ${k}`);
    if (!Number.isInteger(baselineArm) || baselineArm < 0 || baselineArm >= k) {
      throw new EnvArgumentError(
        `baselineArm must be an arm index in 0..${k - 1}, got ${baselineArm}`,
      );
    }
    this.means = new Float64Array(k);
  }

  abstract reset(seed: number): void;
  /** Fills this.means (and the context) for round this.t. */
  protected abstract prepare(): void;
  /** Realised reward of `arm` this round. */
  protected abstract draw(arm: number): number;

  /** Call at the end of reset(): starts at round 0. */
  protected start(): void {
    this.t = 0;
    this.prepared = -1;
  }

  /** Prepares the current round once. */
  protected ensure(): void {
    if (this.prepared !== this.t) {
      this.prepare();
      this.prepared = this.t;
    }
  }

  context(_t: number): Float64Array | undefined {
    this.ensure();
    return undefined;
  }

  legal(_t: number): LegalMask | undefined {
    return undefined;
  }

  bestExpected(_t: number): number {
    this.ensure();
    let best = -Infinity;
    for (let a = 0; a < this.k; a++) if (this.means[a] > best) best = this.means[a];
    return best;
  }

  step(arm: number): StepResult {
    if (!Number.isInteger(arm) || arm < 0 || arm >= this.k) {
      throw new EnvArgumentError(`arm ${arm} is out of range 0..${this.k - 1}`);
    }
    this.ensure();
    const best = this.bestExpected(this.t);
    const r = this.result;
    r.reward = this.draw(arm);
    r.regret = best - this.means[arm];
    r.vsBaseline = this.means[arm] - this.means[this.baselineArm];
    r.optimal = this.means[arm] >= best;
    this.t++;
    return r;
  }
}
