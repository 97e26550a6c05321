/**
 * Per-subsystem learning profiles: which of the kernel's features the policy sees, which
 * knob values are its arms, and how a window's efficiency becomes a reward. A subsystem
 * without a profile learns with every feature, the whole knob grid (thinned to maxArms)
 * and the linear ratio reward.
 *
 * readahead (kmod/mlproxy_readahead.c, docs/readahead.md):
 *  - context: `seq_read_share` and `fault_share` (with the bias, d = 3): the share of the
 *    readers' calls that were sequential read(2)s and mmap faults (the rest random reads).
 *    Sequential readers want a large read-ahead, mmap readers of large files a small one;
 *    the other features (rates, latencies) follow the setting as much as the workload;
 *  - arms: 128 KiB, 512 KiB, 1 MiB (ra_kb_log2 7, 9, 10), plus the administrator's value.
 *    On the demo's cloud-small disk (docs/results.md, docs/readahead.md "The daemon's
 *    arms") they are every workload's best fixed setting: sequential read(2) 1 MiB
 *    (512 KiB..4 MiB within 0.6 %), random mmap faults 128 KiB, both at once 512 KiB, the
 *    sequential-then-mmap job 512 KiB. 16 KiB was never better than 128 KiB there (mmap
 *    0.38 against 0.39 MiB/s) and is the costliest wrong arm (sequential and mixed readers
 *    lose 4x: one exploration of it in a mixed workload is a kernel collapse); 2 and 4 MiB
 *    were never better than 1 MiB, cost mixed readers 20-27 % and mmap readers 5-10x. A
 *    LinUCB that settles on the wrong neighbour loses little: 1 MiB in the mixed workload
 *    is 93 % of 512 KiB, 512 KiB in the sequential one 99.97 % of 1 MiB (with 2 MiB as the
 *    top arm the daemon drifted to it in a mixed shake-out run: its context, the share of
 *    sequential calls, grows with the setting). Three arms are learned faster than four;
 * *  - reward: log ratio, so that 2x and 3x the baseline differ (sequential reads gain 3x
 *    from 1 MiB on) and 1/4 and 1/10 too (mmap readers lose 10x at 4 MiB).
 */
import type { StateSnapshot, SubsystemInfo } from '../transport/device.js';

export type RewardShape = 'ratio' | 'log-ratio';

/**
 * Whether an advice window at the baseline arm runs exactly the baseline (then it can
 * serve as a reference: the learner plays it once when the workload changed, instead of
 * waiting for the kernel's next baseline window). readahead: the administrator's value
 * (feature baseline_ra_kb) is the default's 2^def KiB.
 */
export function baselineArmIsExact(info: SubsystemInfo, state: StateSnapshot): boolean {
  if (info.name !== 'readahead' || info.knobs.length !== 1) return false;
  const i = info.features.findIndex((f) => f.name === 'baseline_ra_kb');
  if (i < 0) return false;
  return state.features[i] / (info.features[i].scale || 1) === 2 ** info.knobs[0].def;
}

export interface Profile {
  /** Indices into the subsystem's features the context is made of; null: all of them. */
  features: number[] | null;
  /** Per knob, the values of the arms (on the kernel's grid); null: the grid. */
  values: number[][] | null;
  reward: RewardShape;
}

export const DEFAULT_PROFILE: Readonly<Profile> = { features: null, values: null, reward: 'ratio' };

const READAHEAD = {
  features: ['seq_read_share', 'fault_share'],
  values: [7, 9, 10],
};

/** The profile of a subsystem (falls back to the default when its schema is not the expected one). */
export function profileFor(info: SubsystemInfo): Profile {
  if (info.name !== 'readahead' || info.knobs.length !== 1) return { ...DEFAULT_PROFILE };
  const features = READAHEAD.features.map((n) => info.features.findIndex((f) => f.name === n));
  const k = info.knobs[0];
  const onGrid = READAHEAD.values.every(
    (v) => v >= k.min && v <= k.max && (v - k.min) % k.step === 0,
  );
  return {
    features: features.every((i) => i >= 0) ? features : null,
    // The baseline is an arm too, whatever the administrator's value maps to.
    values: onGrid ? [[...new Set([...READAHEAD.values, k.def])].sort((a, b) => a - b)] : null,
    reward: 'log-ratio',
  };
}
