/**
 * The `selftest` subsystem of kmod/mlproxy_selftest.ko (docs/kernel-module.md), for the
 * simulated kernel: a noiseless efficiency that the caller sets through the knob, so
 * that tests of the mode ladder need no statistics and run alike on both devices.
 *
 *   knob x: min -12, max 12, step 2, default 0, max_delta 24;
 *   eff = base_eff + 50000 * x exactly (base_eff 1000000: x = 2 is good, x = -2 a
 *         regression, x = -12 a collapse, with the default margins);
 *   every idleEvery-th window (epoch % idleEvery == idleEvery - 1) is idle.
 *
 * Features: the window's epoch and the windows begun so far (the module counts its
 * apply() calls: one per window). Not modelled: the module's failing apply of x = 12
 * (SimKernel has no apply callback), hold_ms and selftest_wide.
 */
import type { FeatureDesc, KnobDesc } from '../device.js';
import type { SubsystemModel } from './model.js';
import { checkInt } from './synthetic.js';

export interface SelftestOptions {
  /** window_ms (default 20, 5..60000 as in the module). */
  windowMs?: number;
  /** idle_every (default 0: no idle window). */
  idleEvery?: number;
  /** base_eff: the efficiency at x = 0, raw (default 1000000; may be 0 or negative). */
  baseEff?: number;
}

export class SelftestModel implements SubsystemModel {
  readonly name = 'selftest';
  readonly windowMs: number;
  readonly idleEvery: number;
  readonly baseEff: number;
  readonly features: readonly FeatureDesc[] = [
    { name: 'epoch', unit: 'window', scale: 1 },
    { name: 'applies', unit: 'calls', scale: 1 },
  ];
  readonly knobs: readonly KnobDesc[] = [
    { name: 'x', unit: '', min: -12, max: 12, step: 2, def: 0, maxDelta: 24 },
  ];
  private applies = 0;

  constructor(opts: SelftestOptions = {}) {
    this.windowMs = checkInt('selftest windowMs', opts.windowMs ?? 20, 5, 60000);
    this.idleEvery = checkInt('selftest idleEvery', opts.idleEvery ?? 0, 0, 0xffffffff);
    this.baseEff = checkInt(
      'selftest baseEff',
      opts.baseEff ?? 1000000,
      Number.MIN_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER,
    );
  }

  /** eff(x) in 1/MLP_EFF_SCALE units, before the kernel's clamp into [0, 10^15]. */
  eff(x: number): number {
    return this.baseEff + 50000 * x;
  }

  featuresAt(w: number): number[] {
    this.applies++;
    return [w, this.applies];
  }

  endWindow(w: number, knobs: readonly number[]): number | null {
    if (this.idleEvery > 0 && w % this.idleEvery === this.idleEvery - 1) return null;
    return this.eff(knobs[0]);
  }
}
