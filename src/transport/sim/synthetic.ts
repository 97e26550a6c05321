/**
 * The synthetic subsystem, bit-exact to docs/subsystems.md (and to kmod's C version):
 * a seeded reward landscape over one knob `level` whose best value moves with a
 * hidden phase, plus a load ramp and hashed noise.
 */
import type { FeatureDesc, KnobDesc } from '../device.js';
import { hash32, u32Of, type SubsystemModel } from './model.js';

export interface SyntheticOptions {
  /** synth_seed, u32 (default 42). */
  seed?: number;
  /** synth_period: windows per hidden phase (default 100). */
  period?: number;
  /** synth_window_ms (default 50). */
  windowMs?: number;
}

const OPT = [10, 6, 13, 4] as const;

export class SyntheticModel implements SubsystemModel {
  readonly name = 'synthetic';
  readonly windowMs: number;
  readonly seed: number;
  readonly period: number;
  readonly features: readonly FeatureDesc[] = [
    { name: 'load', unit: 'permille', scale: 1000 },
    { name: 'phase_hint', unit: 'permille', scale: 1000 },
    { name: 'last_eff', unit: 'permille', scale: 1000 },
  ];
  readonly knobs: readonly KnobDesc[] = [
    { name: 'level', unit: '', min: 0, max: 15, step: 1, def: 4, maxDelta: 8 },
  ];
  private lastEff = 0;

  constructor(opts: SyntheticOptions = {}) {
    this.seed = checkInt('synthetic seed', opts.seed ?? 42, 0, 0xffffffff);
    this.period = checkInt('synthetic period', opts.period ?? 100, 1, 0xffffffff);
    this.windowMs = checkInt('synthetic windowMs', opts.windowMs ?? 50, 1, 3600000);
  }

  phase(w: number): number {
    return Math.floor(w / this.period) % 4;
  }

  opt(w: number): number {
    return OPT[this.phase(w)];
  }

  load(w: number): number {
    const t = w % 200;
    return t < 100 ? t * 10 : (200 - t) * 10;
  }

  noise(w: number): number {
    return ((hash32(u32Of(2, w, 1) ^ this.seed) % 40001) >>> 0) - 20000;
  }

  hint(w: number): number {
    return this.phase(w) * 250 + (hash32(u32Of(2, w, 0) ^ this.seed) % 101) - 50;
  }

  /** eff(w, l) in 1/MLP_EFF_SCALE units. */
  eff(w: number, level: number): number {
    const d = level - this.opt(w);
    return Math.max(0, 1000000 - 12000 * d * d - 100 * this.load(w) + this.noise(w));
  }

  featuresAt(w: number): number[] {
    return [this.load(w), this.hint(w), w === 0 ? 0 : Math.trunc(this.lastEff / 1000)];
  }

  endWindow(w: number, knobs: readonly number[]): number {
    this.lastEff = this.eff(w, knobs[0]);
    return this.lastEff;
  }
}

export function checkInt(what: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new RangeError(`${what} must be an integer in [${lo}, ${hi}], got ${String(v)}`);
  }
  return v;
}
