/**
 * What a simulated subsystem provides to SimKernel: its schema and, window by
 * window, its features and its efficiency. All values are the kernel's raw integers
 * (features in units of 1/scale, efficiency in units of 1/MLP_EFF_SCALE).
 */
import type { FeatureDesc, KnobDesc } from '../device.js';

export interface SubsystemModel {
  readonly name: string;
  readonly windowMs: number;
  readonly features: readonly FeatureDesc[];
  readonly knobs: readonly KnobDesc[];
  /**
   * Features collected at the start of window w (called once per window, w increasing),
   * with the knobs in force in it.
   */
  featuresAt(w: number, knobs?: readonly number[]): number[];
  /**
   * Efficiency of window w run with `knobs` (called once per window, at its end), or
   * null when the window was idle (nothing to measure), or a WindowMeasure that says
   * the measurement was unreliable. `advice`: whether advice ran in the window.
   */
  endWindow(w: number, knobs: readonly number[], advice: boolean): number | null | WindowMeasure;
  /**
   * Optional, called at the end of every window before endWindow: the new defaults
   * when someone else changed the setting the baseline stands for (the kernel's
   * baseline_changed callback), else null.
   */
  baselineChanged?(): number[] | null;
}

/** A window measured only in part: eff is reported with MLP_REASON_UNRELIABLE. */
export interface WindowMeasure {
  eff: number;
  unreliable: boolean;
}

/** lowbias32, the integer hash of docs/subsystems.md: kmod/mlproxy_landscape.c's, as WebAssembly. */
export { hash32 } from './rules.js';

/** (u32)(a * w + b) for a u64 epoch w held exactly in a number. */
export function u32Of(a: number, w: number, b: number): number {
  const lo = w % 4294967296;
  return ((a * lo + b) % 4294967296) >>> 0;
}
