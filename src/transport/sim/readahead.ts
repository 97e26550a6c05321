/**
 * A model of block-device read-ahead, the simulated twin of kmod/mlproxy_readahead.c
 * (same knob, features and efficiency unit; the workload is modelled, not measured).
 *
 * Knob `ra_kb_log2` (min 4, max 12, step 1, default 7, max_delta 2): read-ahead
 * R = 2^k KiB. The workload runs in phases of 30..120 windows, each of one kind
 * drawn from the seed:
 *   sequential  runs of M = 256 application reads of 4 KiB (1 MiB streams), busy 90 %;
 *   random      M = 1 (isolated 4 KiB reads), busy 60 %;
 *   mixed       M = 16, busy 75 %.
 * A run of M reads (4M KiB) costs ios = 1 + (4M - 4) / R device reads of R KiB, each
 * served in t = LATENCY_MS + R / BANDWIDTH ms (an SSD: 0.1 ms, 2000 KiB/ms). Read-ahead
 * beyond what the run uses is wasted. The efficiency is the kernel's unit, bytes per
 * nanosecond of read service time, counting only the bytes the application used:
 *   eff = 4M KiB / (ios * t)   [bytes/ns * MLP_EFF_SCALE]
 * times a hashed multiplicative noise of +-5 %. The best k is 9 in sequential, 4 in
 * random and 7 (the default) in mixed phases, so a learner must track the phase.
 *
 * Features, measured over the previous window like the kernel's block-layer deltas
 * (0 in window 0); names, units and scales are the kernel's:
 *   read_kbps        device KiB/s: busy * R / t;
 *   mean_read_kb     KiB per device request, min(R, 512) (requests split at 512 KiB);
 *   read_latency_us  service time of one request;
 *   busy             share of the window with a read in flight (permille);
 *   merged_reads     reads merged into a neighbour, (M - 1) / M * min(1, 16 / R),
 *                    +-2 % noise: the model's sequentiality signal;
 *   ra_kb            read-ahead in force, KiB;
 *   delivered_kbps   KiB/s the application used: busy * 4M / (ios * t);
 *   delivered_per_read  used over read bytes, 4M / (ios * R) (scale 1000).
 * Everything is a function of (seed, window, knob), so runs are deterministic.
 */
import type { FeatureDesc, KnobDesc } from '../device.js';
import { hash32, u32Of, type SubsystemModel } from './model.js';
import { checkInt } from './synthetic.js';

export interface ReadaheadOptions {
  /** ra_seed (default 7). */
  seed?: number;
  /** ra_window_ms (default 500, as the module). */
  windowMs?: number;
}

export const WORKLOADS = ['sequential', 'random', 'mixed'] as const;
export type Workload = (typeof WORKLOADS)[number];
const RUN_LENGTH: Record<Workload, number> = { sequential: 256, random: 1, mixed: 16 };
const BUSY: Record<Workload, number> = { sequential: 0.9, random: 0.6, mixed: 0.75 };
const LATENCY_MS = 0.1;
const BANDWIDTH_KIB_PER_MS = 2000;
const MAX_REQUEST_KB = 512;
const MIN_PHASE = 30;
const MAX_PHASE = 120;
/** KiB per ms to bytes per ns. */
const KIB_PER_MS_TO_BYTES_PER_NS = 1024 / 1e6;

interface WindowOutcome {
  /** bytes/ns (float). */
  eff: number;
  features: number[];
}

export class ReadaheadModel implements SubsystemModel {
  readonly name = 'readahead';
  readonly windowMs: number;
  readonly seed: number;
  readonly features: readonly FeatureDesc[] = [
    { name: 'read_kbps', unit: 'KiB/s', scale: 1 },
    { name: 'mean_read_kb', unit: 'KiB', scale: 1000 },
    { name: 'read_latency_us', unit: 'us', scale: 1 },
    { name: 'busy', unit: 'permille', scale: 1000 },
    { name: 'merged_reads', unit: 'permille', scale: 1000 },
    { name: 'ra_kb', unit: 'KiB', scale: 1 },
    { name: 'delivered_kbps', unit: 'KiB/s', scale: 1 },
    { name: 'delivered_per_read', unit: 'ratio', scale: 1000 },
  ];
  readonly knobs: readonly KnobDesc[] = [
    { name: 'ra_kb_log2', unit: 'log2(KiB)', min: 4, max: 12, step: 1, def: 7, maxDelta: 2 },
  ];
  /** phaseStarts[j]: first window of phase j (extended lazily). */
  private readonly phaseStarts: number[] = [0];
  private last: WindowOutcome | null = null;

  constructor(opts: ReadaheadOptions = {}) {
    this.seed = checkInt('readahead seed', opts.seed ?? 7, 0, 0xffffffff);
    this.windowMs = checkInt('readahead windowMs', opts.windowMs ?? 500, 1, 3600000);
  }

  /** The workload of window w. */
  workload(w: number): Workload {
    const j = this.phaseIndex(w);
    return WORKLOADS[hash32((Math.imul(j, 0x9e3779b1) ^ this.seed ^ 0x5bd1e995) >>> 0) % 3];
  }

  /** Noise-free efficiency (bytes/ns) of workload `kind` under read-ahead 2^k KiB. */
  static idealEff(kind: Workload, k: number): number {
    const m = RUN_LENGTH[kind];
    const r = 2 ** k;
    const ios = 1 + (4 * m - 4) / r;
    const t = LATENCY_MS + r / BANDWIDTH_KIB_PER_MS;
    return ((4 * m) / (ios * t)) * KIB_PER_MS_TO_BYTES_PER_NS;
  }

  private outcome(w: number, k: number): WindowOutcome {
    const kind = this.workload(w);
    const m = RUN_LENGTH[kind];
    const r = 2 ** k;
    const t = LATENCY_MS + r / BANDWIDTH_KIB_PER_MS;
    const req = Math.min(r, MAX_REQUEST_KB);
    const merged = ((m - 1) / m) * Math.min(1, 16 / r) * (1 + 0.02 * this.unit(w, 0x2545f491));
    const ios = 1 + (4 * m - 4) / r;
    return {
      eff: ReadaheadModel.idealEff(kind, k) * (1 + 0.05 * this.unit(w, 0)),
      features: [
        Math.round(BUSY[kind] * (r / t) * 1000),
        req * 1000,
        Math.round((LATENCY_MS + req / BANDWIDTH_KIB_PER_MS) * 1000),
        Math.round(BUSY[kind] * 1000),
        Math.round(Math.min(1, merged) * 1000),
        r,
        Math.round(((BUSY[kind] * 4 * m) / (ios * t)) * 1000),
        Math.round(Math.min(1, (4 * m) / (ios * r)) * 1000),
      ],
    };
  }

  featuresAt(w: number): number[] {
    if (w === 0 || this.last === null) return [0, 0, 0, 0, 0, 2 ** this.knobs[0].def, 0, 0];
    return [...this.last.features];
  }

  endWindow(w: number, knobs: readonly number[]): number {
    this.last = this.outcome(w, knobs[0]);
    return Math.max(0, Math.round(this.last.eff * 1e6));
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
