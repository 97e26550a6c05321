/**
 * The record format of the read-ahead demo (results.json): written in the guest by
 * bench.ts, read on the host by analyze.ts and report.ts.
 */
import type { KernelSamples, ThreadUse } from './guest.js';
import type { CycleRecord, WorkloadName } from './workloads.js';

export const RESULTS_VERSION = 2;

/** heartbeat_ms of the fixed and default runs: the module's largest (kmod/mlproxy_main.c). */
export const FIXED_HEARTBEAT_MS = 600000;

/** One closed window of the readahead subsystem, from the feedback records. */
export interface WindowRecord {
  epoch: number;
  /** Window start, ms after the readers' first byte (negative: before it). */
  tMs: number;
  lenMs: number;
  mode: number;
  applied: boolean;
  /** ra_kb_log2 in the record (the knob's def in a baseline window). */
  knob: number;
  /** Read-ahead in force, KiB (feature ra_kb: the exact baseline in a baseline window). */
  raKb: number | null;
  /** The kernel's efficiency: MiB/s delivered to the readers in the window. */
  eff: number;
  baselineEff: number;
  idle: boolean;
  unreliable: boolean;
  /** Features the kernel measured over this window (null when the state was not read in time). */
  faultShare: number | null;
  seqShare: number | null;
  ownShare: number | null;
  missed: number | null;
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
  /**
   * CPU time (user + system) of the daemon while the workload ran, ms, as /proc/<pid>/stat
   * counts it: sampled at the scheduler tick.
   */
  cpuRunMs: number;
  /** The same time on the CPU, exact (the scheduler's sum_exec_runtime of its threads), ms. */
  onCpuRunMs?: number;
  /**
   * The same costs over the workload's second half alone: the steady state, without
   * start-up costs that a long-running daemon pays once (V8 shrinks its heap about 50 s
   * after the start, docs/benchmarks.md).
   */
  secondHalf?: DaemonCost;
  /** Of which system time (ms): its ioctls and reads, and what the tick charged to it. */
  systemRunMs?: number;
  /** Of which the main thread's (JavaScript, the event loop), ms. */
  mainThreadRunMs?: number;
  /** Its major page faults (its code or data read back from a file after eviction). */
  majorFaults?: number;
  /** Its minor page faults. */
  minorFaults?: number;
  /** Context switches of all its threads: voluntary (each a wait and a wake-up) and not. */
  voluntarySwitches?: number;
  involuntarySwitches?: number;
  runMs: number;
  rssKb: number;
  hwmKb: number;
}

export type RunKind = 'default' | 'fixed' | 'daemon' | 'idle-daemon';

export interface RunRecord {
  kind: RunKind;
  workload: WorkloadName;
  repeat: number;
  /** fixed: the requested ra_kb_log2; default: the knob's def; daemon: null. */
  setting: number | null;
  /** fixed: how the setting was put in force. */
  via: 'mlproxy' | 'sysfs' | null;
  policy: string | null;
  startedAt: string;
  /** Module parameters of the run. */
  moduleParams: string[];
  throughputKiBs: number;
  steadyKiBs: number;
  runtimeMs: number;
  perSecondMiBs: number[];
  cycles: CycleRecord[];
  windows: WindowRecord[];
  transitions: TransitionRecord[];
  /** Share of the run's measured windows at the requested setting (fixed, default). */
  holdShare: number | null;
  /** Fixed arms: times a safety fall cleared the pin and the bench pinned again. */
  repins: number;
  daemon: DaemonCost | null;
  daemonSummary: string | null;
  /** Final status counters of the subsystem. */
  status: Record<string, number | boolean> | null;
  /** Bytes of the data files still resident after the eviction (mincore). */
  residentBytes: number | null;
  /**
   * The guest's reclaim, fault and stall counters over the run (guest.ts vmCounters:
   * /proc/vmstat and /proc/pressure deltas from the eviction's end to the last window);
   * absent in older results.
   */
  vm?: Record<string, number>;
  /**
   * The guest's tasks that used the most CPU over the run ("pid comm", ms of utime +
   * stime; the readers, the bench, the daemon, kernel threads), absent in older results.
   */
  topTasks?: { task: string; cpuMs: number }[];
  /**
   * The bench process's own cost over the run (process.resourceUsage) and its feedback
   * waits (how many, how many came back empty, the longest overrun of a wait's timeout);
   * absent in older results.
   */
  bench?: {
    userMs: number;
    systemMs: number;
    majorFaults: number;
    involuntarySwitches: number;
    waits: number;
    emptyWaits: number;
    lateMaxMs: number;
    /** Its threads that used the most system time over the run (guest.ts threadDelta). */
    threads?: ThreadUse[];
  };
  /**
   * Where the bench's threads (and a daemon run's daemon's) were when sampled in the
   * kernel over the run (guest.ts KernelStackSampler); absent in older results.
   */
  kernelStacks?: KernelSamples;
}

export interface ResultsMeta {
  version: typeof RESULTS_VERSION;
  startedAt: string;
  finishedAt: string;
  kernel: string;
  /**
   * The guest CPU's string-instruction features the kernel saw (guest.ts stringOpFlags);
   * absent in older results, which ran with TCG's full `-cpu max` (erms, rep_good).
   */
  cpuStringOps?: string[];
  storage: string;
  dataDev: string;
  guestMemoryMb: number;
  /** Parameters of the daemon runs; fixed and default runs add check_period=0. */
  moduleParams: string[];
  windowMs: number;
  knob: { name: string; min: number; max: number; def: number; maxDelta: number };
  /** read_ahead_kb of the data disk at the start (the administrator's baseline). */
  baselineKb: number;
  repeats: number;
  fixedSeconds: number;
  daemonSeconds: number;
  phaseCycles: { fixed: number; daemon: number };
  grid: number[];
  fixedVia: 'mlproxy' | 'sysfs';
  /**
   * Who recommended a fixed arm's setting via mlproxy: mlp-pin (demo/pin.c); absent in
   * older results, where the bench did from its own event loop.
   */
  fixedHeldBy?: 'mlp-pin';
  /** The kernel-stack sampler's period (DEMO_KERNEL_STACKS_MS; 0: off); absent in older results. */
  kernelStacksMs?: number;
  policies: { name: string; spec: string; conservative: number | false }[];
  workloads: WorkloadName[];
  dataFiles: { count: number; bytes: number };
}

export interface Results {
  meta: ResultsMeta;
  runs: RunRecord[];
}
