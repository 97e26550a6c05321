/**
 * A model of block-device read-ahead, the simulated twin of kmod/mlproxy_readahead.c: the
 * same knob, features and efficiency unit, with the workload and the disk modelled, not
 * measured. The disk is the demo's `cloud-small` profile (scripts/vm/storage.sh: 100
 * requests/s and 40 MiB/s in total, requests of at most 1280 KiB), whose fixed-setting
 * throughputs docs/results.md measures; the model reproduces them within about 15 %.
 *
 * Knob `ra_kb_log2` (min 4, max 12, step 1, default 7 = 128 KiB, no max_delta): read-ahead
 * R = 2^k KiB. The workload runs in phases of 30..120 windows, each of one kind drawn from
 * the seed:
 *   sequential  one reader, read(2) of 32 KiB through the files: requests of max(R, 32 KiB)
 *               (an oversized read reads what it asks for), back to back: MiB/s =
 *               min(100 x request, 40 MiB/s) x 0.95;
 *   random      one reader touching random pages of mapped 128 MiB files: every fault reads
 *               R around it in ceil(R / 1280 KiB) requests, so a fault takes
 *               t_f = max(requests / 100, R / 40 MiB) s and delivers 4 KiB;
 *   mixed       both at once, sharing the disk: the sequential reader keeps two requests
 *               in flight against the mapped reader's one, so it gets 2 c_s / (2 c_s + t_f)
 *               of the disk's time (c_s: one of its requests' time).
 * The best R is 512 KiB and more in sequential phases (the bandwidth), up to 128 KiB in
 * random ones (the request rate: the default is as good as 16 KiB) and 1 MiB in mixed ones.
 * The efficiency is the kernel's: MiB/s delivered to the readers (MLP_EFF_SCALE units),
 * times a hashed multiplicative noise (+-5 % sequential, +-15 % random and mixed: a
 * window sees few faults). Features follow the kernel's definitions (docs/readahead.md),
 * measured over the previous window. Everything is a function of (seed, window, knob).
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

const IOPS = 100;
const BW_KIB = 40 * 1024;
const MAX_REQ_KIB = 1280;
const READ_KIB = 32;
const PAGE_KIB = 4;
const MIN_PHASE = 30;
const MAX_PHASE = 120;
const BASELINE_KB = 128;

/** What the model's disk does in one second of a workload at read-ahead 2^k KiB. */
export interface Rates {
  /** MiB/s delivered to the readers. */
  deliveredMiBs: number;
  /** read(2) calls and faults per second. */
  reads: number;
  faults: number;
  /** Device requests per second and their mean size, KiB. */
  requests: number;
  requestKiB: number;
  /** Share of the second the disk was busy. */
  busy: number;
}

function seqRequestKiB(r: number): number {
  return Math.min(Math.max(r, READ_KIB), MAX_REQ_KIB);
}

/** Seconds of disk time of one request (or one read-around) of `kib` KiB in `n` requests. */
function cost(kib: number, n = 1): number {
  return Math.max(n / IOPS, kib / BW_KIB);
}

export function rates(kind: Workload, k: number): Rates {
  const r = 2 ** k;
  const q = seqRequestKiB(r);
  const cs = cost(q);
  const nf = Math.ceil(r / MAX_REQ_KIB);
  const tf = cost(r, nf);
  const seqShare = kind === 'sequential' ? 1 : kind === 'mixed' ? (2 * cs) / (2 * cs + tf) : 0;
  const faultShare = kind === 'random' ? 1 : kind === 'mixed' ? 1 - seqShare : 0;
  const seqKiBs = (seqShare * q * 0.95) / cs;
  const faults = faultShare / tf;
  const requests = (seqShare * 0.95) / cs + faults * nf;
  return {
    deliveredMiBs: (seqKiBs + faults * PAGE_KIB) / 1024,
    reads: seqKiBs / READ_KIB,
    faults,
    requests,
    requestKiB: requests > 0 ? (seqKiBs + faults * r) / requests : 0,
    busy: seqShare * 0.95 + faultShare,
  };
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
    { name: 'fault_share', unit: 'permille', scale: 1000 },
    { name: 'seq_read_share', unit: 'permille', scale: 1000 },
    { name: 'major_fault_share', unit: 'permille', scale: 1000 },
    { name: 'baseline_ra_kb', unit: 'KiB', scale: 1 },
    { name: 'own_ra_share', unit: 'permille', scale: 1000 },
    { name: 'missed_calls', unit: '', scale: 1 },
  ];
  readonly knobs: readonly KnobDesc[] = [
    { name: 'ra_kb_log2', unit: 'log2(KiB)', min: 4, max: 12, step: 1, def: 7, maxDelta: 0 },
  ];
  /** phaseStarts[j]: first window of phase j (extended lazily). */
  private readonly phaseStarts: number[] = [0];
  private last: number[] | null = null;

  constructor(opts: ReadaheadOptions = {}) {
    this.seed = checkInt('readahead seed', opts.seed ?? 7, 0, 0xffffffff);
    this.windowMs = checkInt('readahead windowMs', opts.windowMs ?? 500, 1, 3600000);
  }

  /** The workload of window w. */
  workload(w: number): Workload {
    const j = this.phaseIndex(w);
    return WORKLOADS[hash32((Math.imul(j, 0x9e3779b1) ^ this.seed ^ 0x5bd1e995) >>> 0) % 3];
  }

  /** Noise-free efficiency (MiB/s delivered, the feedback's unit) of a workload at 2^k KiB. */
  static idealEff(kind: Workload, k: number): number {
    return rates(kind, k).deliveredMiBs;
  }

  featuresAt(w: number, knobs?: readonly number[]): number[] {
    const f = w === 0 || this.last === null ? new Array<number>(14).fill(0) : [...this.last];
    f[5] = knobs ? 2 ** knobs[0] : BASELINE_KB;
    f[11] = BASELINE_KB;
    return f;
  }

  endWindow(w: number, knobs: readonly number[]): number {
    const kind = this.workload(w);
    const k = knobs[0];
    const r = rates(kind, k);
    const noise = kind === 'sequential' ? 0.05 : 0.15;
    const delivered = r.deliveredMiBs * (1 + noise * this.unit(w, 0));
    const ra = 2 ** k;
    const calls = r.reads + r.faults;
    const deviceKiBs = r.requests * r.requestKiB;
    // Features 5 (ra_kb) and 11 (baseline_ra_kb) are set by featuresAt.
    this.last = [
      Math.round(deviceKiBs),
      Math.round(r.requestKiB * 1000),
      Math.round((1e6 * r.busy) / Math.max(1, r.requests)),
      Math.round(1000 * Math.min(1, r.busy)),
      Math.round(1000 * (r.reads / Math.max(1, calls)) * Math.min(1, 32 / ra)),
      ra,
      Math.round(delivered * 1024),
      Math.round(Math.min(1e6, (1000 * delivered * 1024) / Math.max(1e-9, deviceKiBs))),
      Math.round((1000 * r.faults) / Math.max(1e-9, calls)),
      Math.round((1000 * r.reads) / Math.max(1e-9, calls)),
      r.faults > 0 ? 950 : 0,
      BASELINE_KB,
      0,
      0,
    ];
    return Math.max(0, Math.round(delivered * 1e6));
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
