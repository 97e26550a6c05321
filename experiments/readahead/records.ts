/**
 * The record format of the read-ahead demo (results.json): written in the guest by
 * bench.ts, read on the host by report.ts.
 */
import type { WorkloadName } from './workloads.js';

export const RESULTS_VERSION = 1;

/** One closed window of the readahead subsystem, from the feedback records. */
export interface WindowRecord {
  epoch: number;
  /** Window start, ms after the workload started (negative: before it). */
  tMs: number;
  mode: number;
  applied: boolean;
  /** ra_kb_log2 in force during the window. */
  knob: number;
  eff: number;
  baselineEff: number;
  idle: boolean;
}

/** A mode change seen in the status after a window. */
export interface TransitionRecord {
  epoch: number;
  tMs: number;
  from: number;
  to: number;
  /** MLP_TRANS_* of the status (the last transition when several happened). */
  reason: number;
  /** Transitions counted since the previous status read (usually 1). */
  count: number;
}

export interface DaemonCost {
  /** CPU time (user + system) from the daemon's start to its stop, ms. */
  cpuMs: number;
  /** CPU time while the workload ran (after the start-up), ms. */
  cpuRunMs: number;
  runMs: number;
  rssKb: number;
  hwmKb: number;
}

export type RunKind = 'default' | 'fixed' | 'daemon';

export interface RunRecord {
  kind: RunKind;
  workload: WorkloadName;
  repeat: number;
  /** fixed: the ra_kb_log2 value; default: the kernel's default value. */
  setting: number | null;
  policy: string | null;
  startedAt: string;
  throughputKiBs: number;
  /** Throughput over the second half of the run (from the readers' interval samples). */
  tailThroughputKiBs: number | null;
  runtimeMs: number;
  windows: WindowRecord[];
  transitions: TransitionRecord[];
  /** mlp_window_work durations during the run, us ([] when untraced). */
  windowWorkUs: number[];
  daemon: DaemonCost | null;
  /** The daemon's last log lines (its summary). */
  daemonSummary: string | null;
  /** Final status counters of the subsystem. */
  status: Record<string, number | boolean> | null;
  /** Bytes of the data files still in the page cache after the eviction (fincore). */
  residentBytes: number | null;
}

export interface ResultsMeta {
  version: typeof RESULTS_VERSION;
  startedAt: string;
  finishedAt: string;
  kernel: string;
  python: string;
  guestMemoryMb: number;
  moduleParams: string[];
  windowMs: number;
  knob: { name: string; min: number; max: number; def: number; maxDelta: number };
  repeats: number;
  fixedSeconds: number;
  daemonSeconds: number;
  policies: { name: string; spec: string; conservative: number | false }[];
  workloads: WorkloadName[];
  /** The data disk's files: how many, and their bytes together. */
  dataFiles: { count: number; bytes: number };
  windowWorkTimer: string | null;
}

export interface Results {
  meta: ResultsMeta;
  runs: RunRecord[];
}
