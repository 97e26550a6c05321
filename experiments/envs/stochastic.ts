/**
 * Stochastic environments: stationary Bernoulli and Gaussian arms, linear contextual
 * rewards, and Bernoulli arms whose means drift abruptly or gradually.
 */
import { Rng } from '../../policies/rng.js';
import { MeanEnv } from './mean-env.js';
import { EnvArgumentError } from './types.js';

function armCount(k: number | undefined, given: number[] | undefined, name: string): number {
  if (given) {
    if (k !== undefined && k !== given.length) {
      throw new EnvArgumentError(`k = ${k} disagrees with ${name} of length ${given.length}`);
    }
    return given.length;
  }
  if (k === undefined) throw new EnvArgumentError(`give either k or ${name}`);
  return k;
}

/** Draws K Bernoulli means uniformly in [0.05, 0.95]. */
function drawProbs(rng: Rng, out: Float64Array): void {
  for (let a = 0; a < out.length; a++) out[a] = 0.05 + 0.9 * rng.uniform();
}

export interface BernoulliParams {
  /** Fixed arm means in [0, 1]; when absent they are drawn per seed from U(0.05, 0.95). */
  probs?: number[];
  k?: number;
  baselineArm?: number;
}

export class BernoulliEnv extends MeanEnv {
  readonly kind = 'bernoulli';
  private rng = new Rng(0);
  private readonly fixed: number[] | undefined;

  constructor(p: BernoulliParams) {
    super(armCount(p.k, p.probs, 'probs'), 0, p.baselineArm ?? 0);
    if (p.probs?.some((q) => !(q >= 0 && q <= 1))) {
      throw new EnvArgumentError(`probs must lie in [0, 1], got [${p.probs.join(', ')}]`);
    }
    this.fixed = p.probs;
  }

  reset(seed: number): void {
    this.rng = new Rng(seed);
    if (this.fixed) this.means.set(this.fixed);
    else drawProbs(this.rng, this.means);
    this.start();
  }

  protected prepare(): void {}

  protected draw(arm: number): number {
    return this.rng.uniform() < this.means[arm] ? 1 : 0;
  }
}

export interface GaussianParams {
  /** Fixed arm means; when absent they are drawn per seed from N(0, 1). */
  means?: number[];
  k?: number;
  /** Reward noise standard deviation, >= 0 (default 1). */
  sd?: number;
  baselineArm?: number;
}

export class GaussianEnv extends MeanEnv {
  readonly kind = 'gaussian';
  private rng = new Rng(0);
  private readonly fixed: number[] | undefined;
  private readonly sd: number;

  constructor(p: GaussianParams) {
    super(armCount(p.k, p.means, 'means'), 0, p.baselineArm ?? 0);
    this.fixed = p.means;
    this.sd = p.sd ?? 1;
    if (!(this.sd >= 0)) throw new EnvArgumentError(`sd must be >= 0, got ${this.sd}`);
  }

  reset(seed: number): void {
    this.rng = new Rng(seed);
    if (this.fixed) this.means.set(this.fixed);
    else for (let a = 0; a < this.k; a++) this.means[a] = this.rng.normal();
    this.start();
  }

  protected prepare(): void {}

  protected draw(arm: number): number {
    return this.means[arm] + this.sd * this.rng.normal();
  }
}

export interface LinearParams {
  k: number;
  d: number;
  /** Reward noise standard deviation (default 0.1). */
  noiseSd?: number;
  baselineArm?: number;
}

/**
 * Linear contextual rewards as in the shared bench problems: theta (K×d) ~ N(0, 1) per
 * seed, contexts ~ N(0, 1)/sqrt(d), reward of arm k = x·theta_k + N(0, noiseSd²).
 */
export class LinearEnv extends MeanEnv {
  readonly kind = 'linear';
  private rng = new Rng(0);
  private readonly theta: Float64Array;
  private readonly x: Float64Array;
  private readonly noiseSd: number;

  constructor(p: LinearParams) {
    super(p.k, p.d, p.baselineArm ?? 0);
    if (!Number.isInteger(p.d) || p.d < 1)
      throw new EnvArgumentError(`d must be an integer >= 1, got ${p.d}`);
    this.noiseSd = p.noiseSd ?? 0.1;
    if (!(this.noiseSd >= 0))
      throw new EnvArgumentError(`noiseSd must be >= 0, got ${this.noiseSd}`);
    this.theta = new Float64Array(p.k * p.d);
    this.x = new Float64Array(p.d);
  }

  reset(seed: number): void {
    this.rng = new Rng(seed);
    for (let i = 0; i < this.theta.length; i++) this.theta[i] = this.rng.normal();
    this.start();
  }

  protected prepare(): void {
    const { d, k, x, theta } = this;
    const scale = 1 / Math.sqrt(d);
    for (let i = 0; i < d; i++) x[i] = this.rng.normal() * scale;
    for (let a = 0; a < k; a++) {
      let m = 0;
      for (let i = 0; i < d; i++) m += x[i] * theta[a * d + i];
      this.means[a] = m;
    }
  }

  override context(_t: number): Float64Array {
    this.ensure();
    return this.x;
  }

  protected draw(arm: number): number {
    return this.means[arm] + this.noiseSd * this.rng.normal();
  }
}

export interface DriftParams {
  k: number;
  /** "abrupt": means redrawn every `period` rounds; "gradual": sinusoidal means. */
  drift: 'abrupt' | 'gradual';
  /** Rounds between change points (abrupt) or of one full cycle (gradual). */
  period: number;
  /** Gradual only: half the peak-to-peak swing of each mean around 0.5, in (0, 0.5]. */
  amplitude?: number;
  baselineArm?: number;
}

/**
 * Non-stationary Bernoulli arms. Abrupt: piecewise constant means, redrawn from
 * U(0.05, 0.95) at every multiple of `period`. Gradual: mean of arm k at round t is
 * 0.5 + amplitude·sin(2π t / period + 2π k / K), so the best arm rotates smoothly.
 */
export class DriftEnv extends MeanEnv {
  readonly kind = 'drift';
  private rng = new Rng(0);
  private readonly drift: 'abrupt' | 'gradual';
  private readonly period: number;
  private readonly amplitude: number;

  constructor(p: DriftParams) {
    super(p.k, 0, p.baselineArm ?? 0);
    if (p.drift !== 'abrupt' && p.drift !== 'gradual') {
      throw new EnvArgumentError(`drift must be "abrupt" or "gradual", got ${String(p.drift)}`);
    }
    if (!Number.isInteger(p.period) || p.period < 1) {
      throw new EnvArgumentError(`period must be an integer >= 1, got ${p.period}`);
    }
    this.drift = p.drift;
    this.period = p.period;
    this.amplitude = p.amplitude ?? 0.4;
    if (!(this.amplitude > 0 && this.amplitude <= 0.5)) {
      throw new EnvArgumentError(`amplitude must lie in (0, 0.5], got ${this.amplitude}`);
    }
  }

  reset(seed: number): void {
    this.rng = new Rng(seed);
    this.start();
  }

  protected prepare(): void {
    if (this.drift === 'abrupt') {
      if (this.t % this.period === 0) drawProbs(this.rng, this.means);
      return;
    }
    const phase = (2 * Math.PI * this.t) / this.period;
    for (let a = 0; a < this.k; a++) {
      this.means[a] = 0.5 + this.amplitude * Math.sin(phase + (2 * Math.PI * a) / this.k);
    }
  }

  protected draw(arm: number): number {
    return this.rng.uniform() < this.means[arm] ? 1 : 0;
  }
}
