/**
 * Features and rewards: what the policy sees and what it is paid. A subsystem's profile
 * (profiles.ts) may narrow the features to some of them and choose the reward's shape.
 *
 * Features. Each raw kernel feature becomes v = raw / scale (the unit the kernel
 * declares), then the bounded normalisation x = tanh(v): monotone, about linear for
 * |v| < 0.5, and inside (-1, 1) whatever a subsystem reports. A bias feature 1 is
 * appended so linear policies can learn a per-arm intercept: d = nFeatures + 1.
 *
 * Reward, against a reference efficiency (the baseline windows around the advice, see
 * pairing.ts; the kernel's baseline_eff for a window in which no advice ran), in [0, 1],
 * 0.5 meaning "as good as the baseline":
 *   ratio      r = clamp(eff / ref, 0, 2) / 2: 1 means twice as good or better;
 *   log-ratio  r = clamp(0.5 + log2(eff / ref) / 4, 0, 1): 1 means 4x, 0 means 1/4 or worse.
 * It needs a reference (> 0); before the first one there is no reward.
 */
import type { StateSnapshot, SubsystemInfo } from '../transport/device.js';
import type { Profile, RewardShape } from './profiles.js';

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

/** The ratio reward of a window against the kernel's baseline_eff, undefined before one exists. */
export function rewardOf(eff: number, baselineEff: number): number | undefined {
  return baselineEff > 0 ? rewardFrom(eff, baselineEff, 'ratio') : undefined;
}

/**
 * The reward of efficiency `eff` against `reference`, in the profile's shape. A reference
 * of 0 or less (a baseline that delivered nothing) makes any better window worth 1, an
 * equal one 0.5, a worse one 0.
 */
export function rewardFrom(eff: number, reference: number, shape: RewardShape): number | undefined {
  if (!Number.isFinite(eff) || !Number.isFinite(reference)) return undefined;
  if (!(reference > 0)) return eff > reference ? 1 : eff < reference ? 0 : 0.5;
  if (shape === 'ratio') return Math.min(2, Math.max(0, eff / reference)) / 2;
  if (!(eff > 0)) return 0;
  return Math.min(1, Math.max(0, 0.5 + Math.log2(eff / reference) / 4));
}

/** The context's dimension under a profile: its features plus the bias. */
export function contextDimension(info: SubsystemInfo, profile: Profile): number {
  return (profile.features?.length ?? info.features.length) + 1;
}

/** The context of a state under a profile (the profile's features, normalised, and the bias). */
export function contextOf(
  info: SubsystemInfo,
  state: StateSnapshot,
  profile: Profile,
  out: Float64Array = new Float64Array(contextDimension(info, profile)),
): Float64Array {
  if (!profile.features) return normaliseFeatures(info, state, out);
  profile.features.forEach((i, j) => {
    const v = (state.features[i] ?? 0) / (info.features[i].scale || 1);
    out[j] = Number.isFinite(v) ? Math.tanh(v) : 0;
  });
  out[profile.features.length] = 1;
  return out;
}

/** The reward of a window as good as the baseline reference. */
export const BASELINE_REWARD = 0.5;
