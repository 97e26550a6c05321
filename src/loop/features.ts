/**
 * Features and rewards: what the policy sees and what it is paid.
 *
 * Features. Each raw kernel feature becomes v = raw / scale (the unit the kernel
 * declares), then the bounded normalisation x = tanh(v): monotone, about linear for
 * |v| < 0.5, and inside (-1, 1) whatever a subsystem reports. A bias feature 1 is
 * appended so linear policies can learn a per-arm intercept: d = nFeatures + 1.
 *
 * Reward. r = clamp(eff / baselineEff, 0, 2) / 2, in [0, 1]: 0.5 means "as good as the
 * kernel's baseline reference", 1 means twice as good or better. It needs a baseline
 * reference (baselineEff > 0); before the first one there is no reward.
 */
import type { StateSnapshot, SubsystemInfo } from '../transport/device.js';

export function featureDimension(info: SubsystemInfo): number {
  return info.features.length + 1;
}

export function normaliseFeatures(
  info: SubsystemInfo,
  state: StateSnapshot,
  out: Float64Array = new Float64Array(featureDimension(info)),
): Float64Array {
  const n = info.features.length;
  for (let i = 0; i < n; i++) {
    const scale = info.features[i].scale || 1;
    const v = (state.features[i] ?? 0) / scale;
    out[i] = Number.isFinite(v) ? Math.tanh(v) : 0;
  }
  out[n] = 1;
  return out;
}

/** The reward of a window in which the advice ran, or undefined without a baseline. */
export function rewardOf(eff: number, baselineEff: number): number | undefined {
  if (!(baselineEff > 0) || !Number.isFinite(eff)) return undefined;
  return Math.min(2, Math.max(0, eff / baselineEff)) / 2;
}

/** The reward of a window as good as the baseline reference. */
export const BASELINE_REWARD = 0.5;
