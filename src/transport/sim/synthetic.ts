/**
 * The synthetic subsystem of docs/subsystems.md as mlproxy_synthetic.ko registers it:
 * its landscape (a seeded reward over one knob `level` whose best value moves with a
 * hidden phase, plus a load ramp and hashed noise) is kmod/mlproxy_landscape.c, run
 * here as WebAssembly (rules.ts); this file holds the schema and the last_eff feature.
 */
import type { FeatureDesc, KnobDesc } from '../device.js';
import type { SubsystemModel } from './model.js';
import { landscape, type SynthParams } from './rules.js';

export interface SyntheticOptions {
  /** synth_seed, u32 (default 42). */
  seed?: number;
  /** synth_period: windows per hidden phase (default 100). */
  period?: number;
  /** synth_window_ms (default 50). */
  windowMs?: number;
}

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
  private readonly p: SynthParams;
  private lastEff = 0;

  constructor(opts: SyntheticOptions = {}) {
    this.seed = checkInt('synthetic seed', opts.seed ?? 42, 0, 0xffffffff);
    this.period = checkInt('synthetic period', opts.period ?? 100, 1, 0xffffffff);
    this.windowMs = checkInt('synthetic windowMs', opts.windowMs ?? 50, 1, 3600000);
    this.p = { seed: this.seed, period: this.period };
  }

  /** The best level of window w. */
  opt(w: number): number {
    return landscape.opt(w, this.p);
  }

  load(w: number): number {
    return landscape.load(w);
  }

  noise(w: number): number {
    return landscape.noise(w, this.p);
  }

  hint(w: number): number {
    return landscape.hint(w, this.p);
  }

  /** eff(w, l) in 1/MLP_EFF_SCALE units. */
  eff(w: number, level: number): number {
    return landscape.eff(w, level, this.p);
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
