/**
 * A model of block-device read-ahead, the second simulated subsystem.
 *
 * Knob `ra_kb_log2` (min 4, max 12, step 1, default 7, max_delta 2): read-ahead
 * R = 2^k KiB. The workload runs in phases of 30..120 windows, each of one kind
 * drawn from the seed:
 *   sequential  runs of M = 256 requests of 4 KiB (1 MiB streams): large R wins;
 *   random      M = 1 (isolated 4 KiB reads): every extra KiB is wasted, small R wins;
 *   mixed       M = 16: the default R = 128 KiB is about right.
 * A run of M requests (4M KiB) costs ios = 1 + (4M - 4) / R device reads, each of
 * LATENCY_MS + R / BANDWIDTH ms (an SSD: 0.1 ms, 2000 KiB/ms). The efficiency is the
 * delivered bandwidth as a fraction of the device's,
 *   eff = 4M / (ios * (LATENCY_MS + R / BANDWIDTH)) / BANDWIDTH,
 * times a hashed multiplicative noise of +-5 %, in 1/MLP_EFF_SCALE units. The best k
 * is 9 for sequential, 4 for random and 7 for mixed phases.
 *
 * Features (scale 1000), measured over the previous window (0 in window 0):
 *   seq_permille    share of requests that continued a stream, (M - 1) / M, +-2 % noise;
 *   hit_permille    share of requests served from the page cache, 1 - ios / M;
 *   waste_permille  share of read-ahead bytes never used;
 *   last_eff        the previous window's efficiency / 1000.
 * Everything is a function of (seed, window, knob), so runs are deterministic.
 */
import type { FeatureDesc, KnobDesc } from '../device.js';
import { hash32, u32Of, type SubsystemModel } from './model.js';
import { checkInt } from './synthetic.js';

export interface ReadaheadOptions {
  /** ra_seed (default 7). */
  seed?: number;
  /** ra_window_ms (default 100). */
  windowMs?: number;
}

export const WORKLOADS = ['sequential', 'random', 'mixed'] as const;
export type Workload = (typeof WORKLOADS)[number];
const RUN_LENGTH: Record<Workload, number> = { sequential: 256, random: 1, mixed: 16 };
const LATENCY_MS = 0.1;
const BANDWIDTH_KIB_PER_MS = 2000;
const MIN_PHASE = 30;
const MAX_PHASE = 120;

interface WindowOutcome {
  eff: number;
  seq: number;
  hit: number;
  waste: number;
}

export class ReadaheadModel implements SubsystemModel {
  readonly name = 'readahead';
  readonly windowMs: number;
  readonly seed: number;
  readonly features: readonly FeatureDesc[] = [
    { name: 'seq_permille', unit: 'permille', scale: 1000 },
    { name: 'hit_permille', unit: 'permille', scale: 1000 },
    { name: 'waste_permille', unit: 'permille', scale: 1000 },
    { name: 'last_eff', unit: 'permille', scale: 1000 },
  ];
  readonly knobs: readonly KnobDesc[] = [
    { name: 'ra_kb_log2', unit: 'log2(KiB)', min: 4, max: 12, step: 1, def: 7, maxDelta: 2 },
  ];
  /** phaseStarts[j]: first window of phase j (extended lazily). */
  private readonly phaseStarts: number[] = [0];
  private last: WindowOutcome | null = null;

  constructor(opts: ReadaheadOptions = {}) {
    this.seed = checkInt('readahead seed', opts.seed ?? 7, 0, 0xffffffff);
    this.windowMs = checkInt('readahead windowMs', opts.windowMs ?? 100, 1, 3600000);
  }

  /** The workload of window w. */
  workload(w: number): Workload {
    const j = this.phaseIndex(w);
    return WORKLOADS[hash32((Math.imul(j, 0x9e3779b1) ^ this.seed ^ 0x5bd1e995) >>> 0) % 3];
  }

  /** Noise-free efficiency of running workload `kind` with read-ahead 2^k KiB (a fraction). */
  static idealEff(kind: Workload, k: number): number {
    return ReadaheadModel.outcome(kind, k).eff;
  }

  private static outcome(kind: Workload, k: number): WindowOutcome {
    const m = RUN_LENGTH[kind];
    const r = 2 ** k;
    const ios = 1 + (4 * m - 4) / r;
    const ms = ios * (LATENCY_MS + r / BANDWIDTH_KIB_PER_MS);
    return {
      eff: (4 * m) / ms / BANDWIDTH_KIB_PER_MS,
      seq: (m - 1) / m,
      hit: 1 - Math.min(1, ios / m),
      waste: 1 - (4 * m) / (ios * r),
    };
  }

  featuresAt(w: number): number[] {
    if (w === 0 || this.last === null) return [0, 0, 0, 0];
    const o = this.last;
    const jitter = 1 + 0.02 * this.unit(w, 0x2545f491);
    return [
      Math.round(Math.min(1, o.seq * jitter) * 1000),
      Math.round(o.hit * 1000),
      Math.round(o.waste * 1000),
      Math.trunc(o.eff / 1000),
    ];
  }

  endWindow(w: number, knobs: readonly number[]): number {
    const o = ReadaheadModel.outcome(this.workload(w), knobs[0]);
    const eff = Math.max(0, Math.round(o.eff * (1 + 0.05 * this.unit(w, 0)) * 1000000));
    this.last = { ...o, eff };
    return eff;
  }

  /** A hashed uniform number in [-1, 1) for window w and a salt. */
  private unit(w: number, salt: number): number {
    return (hash32(u32Of(2, w, 1) ^ this.seed ^ salt) / 4294967296) * 2 - 1;
  }

  private phaseIndex(w: number): number {
    const starts = this.phaseStarts;
    while (starts[starts.length - 1] <= w) {
      const j = starts.length - 1;
      const len =
        MIN_PHASE + (hash32((j ^ this.seed ^ 0x68e31da4) >>> 0) % (MAX_PHASE - MIN_PHASE + 1));
      starts.push(starts[j] + len);
    }
    // Binary search: the last start <= w.
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= w) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
