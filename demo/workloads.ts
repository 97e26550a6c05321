/**
 * The workloads of the read-ahead demo: commands run in the QEMU guest, each one or
 * more mlp-reader processes (demo/reader.c) over the data disk of
 * demo/make-disk.sh (seq/: 8 MiB files read with read(2); big/: 128 MiB files
 * mapped and touched at random pages). A workload may also be a script of the user's
 * (`DEMO_WORKLOADS=./my-workload.sh`): it runs with MLP_READER, MLP_DATA, MLP_SECONDS
 * and MLP_SEED in its environment and prints one reader JSON line per reader it ran.
 *
 * Throughput is what the readers see: bytes delivered to them per second, the clock
 * starting at the first byte any of them got (not at their start-up). Time workloads
 * run for a number of seconds and are measured in steady state (the last 75 % of the
 * run); job workloads do a fixed amount of work per cycle and are measured by the time
 * each cycle takes.
 */
import nodePath from 'node:path';

export const BUILTIN_WORKLOADS = ['seq', 'mmap', 'mixed', 'phase', 'pread'] as const;
export type BuiltinWorkload = (typeof BUILTIN_WORKLOADS)[number];
/** A built-in name, or the path of a workload script. */
export type WorkloadName = string;

/** The phase workload's job: sequential, then random mmap, per cycle. */
export const PHASE_SEQ_BYTES = 300 * 2 ** 20;
export const PHASE_MMAP_TOUCHES = 768;
/**
 * The phase job's fixed arms start at 64 KiB (ra_kb_log2 6): 16 and 32 KiB read 3 MiB/s
 * sequentially (the seq workload measures it), over a minute and a half per cycle, and
 * cannot be its best single setting.
 */
export const PHASE_MIN_SETTING = 6;
/** The mmap readers drop their cached pages this often (mlp-reader --drop-every). */
export const MMAP_DROP_SECONDS = 1;

export const WORKLOAD_DESCRIPTIONS: Record<BuiltinWorkload, string> = {
  seq: 'read(2) of 32 KiB, each 8 MiB file start to end, one file after another (a file is opened when it is read)',
  mmap: 'random 4 KiB page touches through mmap over 8 files of 128 MiB mapped once at the start (long-lived mappings: each touch of an unmapped page is a fault); every second the reader unmaps what it touched and evicts the files, so that the page cache does not warm up over a long run',
  mixed: '`seq` and `mmap` at the same time (two processes)',
  phase: `a job of ${PHASE_SEQ_BYTES / 2 ** 20} MiB read sequentially, then ${PHASE_MMAP_TOUCHES} random mmap touches, repeated (sequential, random, sequential, ...); measured per cycle`,
  pread:
    'control: random 4 KiB pread(2) over the 128 MiB files (Linux reads a lone random page as is: read-ahead cannot matter)',
};

/** Whether the run is a job (fixed work per cycle) rather than a fixed time. */
export const isJob = (w: WorkloadName) => w === 'phase';

export function isBuiltin(w: string): w is BuiltinWorkload {
  return (BUILTIN_WORKLOADS as readonly string[]).includes(w);
}

/** Checks a workload name: built-in, or a script path (contains a slash). */
export function checkWorkload(w: string): WorkloadName {
  if (isBuiltin(w) || w.includes('/')) return w;
  throw new Error(
    `unknown workload "${w}": one of ${BUILTIN_WORKLOADS.join(', ')}, or the path of a script (./my-workload.sh)`,
  );
}

export interface DataFiles {
  seq: string[];
  big: string[];
}

/** The data disk's files under dataDir. */
export function dataFiles(dataDir: string, seqFiles: number, bigFiles: number): DataFiles {
  return {
    seq: Array.from({ length: seqFiles }, (_, i) =>
      nodePath.join(dataDir, 'seq', `f${String(i).padStart(3, '0')}.bin`),
    ),
    big: Array.from({ length: bigFiles }, (_, i) => nodePath.join(dataDir, 'big', `b${i}.bin`)),
  };
}

/** One process of a workload: the program and its arguments. */
export interface ReaderPlan {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
}

/**
 * The processes of a workload (run at the same time). Time workloads run `seconds`
 * after their first byte; the phase job runs `cycles` cycles, or (null) whole cycles
 * until `seconds` have passed.
 */
export function readerPlans(
  w: WorkloadName,
  reader: string,
  files: DataFiles,
  opts: { seconds: number; cycles: number | null; seed: number; dataDir: string },
): ReaderPlan[] {
  const secs = String(opts.seconds);
  const seq = { cmd: reader, args: ['seq', '--seconds', secs, '--bs', '32768', ...files.seq] };
  const drop = ['--drop-every', String(MMAP_DROP_SECONDS)];
  const mmap = {
    cmd: reader,
    args: ['mmap', '--seconds', secs, '--seed', String(opts.seed), ...drop, ...files.big],
  };
  switch (w) {
    case 'seq':
      return [seq];
    case 'mmap':
      return [mmap];
    case 'mixed':
      return [seq, mmap];
    case 'pread':
      return [
        {
          cmd: reader,
          args: ['pread', '--seconds', secs, '--seed', String(opts.seed), ...files.big],
        },
      ];
    case 'phase':
      return [
        {
          cmd: reader,
          args: [
            'job',
            '--steps',
            `seq:${PHASE_SEQ_BYTES},mmap:${PHASE_MMAP_TOUCHES}`,
            ...(opts.cycles === null ? ['--seconds', secs] : ['--cycles', String(opts.cycles)]),
            '--seq-files',
            String(files.seq.length),
            '--seed',
            String(opts.seed),
            ...drop,
            ...files.seq,
            ...files.big,
          ],
        },
      ];
  }
  return [
    {
      cmd: 'sh',
      args: [w],
      env: {
        MLP_READER: reader,
        MLP_DATA: opts.dataDir,
        MLP_SECONDS: secs,
        MLP_SEED: String(opts.seed),
      },
    },
  ];
}

/** What one reader reports (reader.c's JSON line). */
export interface ReaderOutput {
  pattern: string;
  bytes: number;
  ops: number;
  /** CLOCK_MONOTONIC ns of its first delivered byte (0: none) and of its end. */
  firstNs: number;
  endNs: number;
  intervalMs: number;
  /** Bytes delivered in each interval after firstNs. */
  samples: number[];
  steps: { kind: string; bytes: number; startNs: number; endNs: number }[];
}

/** Every reader JSON line in a process's output (a script may run several readers). */
export function parseReaderOutputs(text: string): ReaderOutput[] {
  const out: ReaderOutput[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    let d: Record<string, unknown>;
    try {
      d = JSON.parse(t) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof d.bytes !== 'number' || typeof d.first_ns !== 'number') continue;
    const steps = Array.isArray(d.steps) ? (d.steps as Record<string, number | string>[]) : [];
    out.push({
      pattern: String(d.pattern),
      bytes: d.bytes,
      ops: Number(d.ops ?? 0),
      firstNs: d.first_ns,
      endNs: Number(d.end_ns),
      intervalMs: Number(d.interval_ms ?? 100),
      samples: Array.isArray(d.samples) ? (d.samples as unknown[]).map(Number) : [],
      steps: steps.map((s) => ({
        kind: String(s.kind),
        bytes: Number(s.bytes),
        startNs: Number(s.start_ns),
        endNs: Number(s.end_ns),
      })),
    });
  }
  if (out.length === 0) {
    throw new Error(`the workload printed no reader JSON line: ${text.slice(0, 300)}`);
  }
  return out;
}

/** One cycle of a job workload. */
export interface CycleRecord {
  bytes: number;
  seconds: number;
  /** Seconds of each step (seq, mmap). */
  steps: { kind: string; seconds: number; startS: number }[];
}

export interface WorkloadThroughput {
  /** CLOCK_MONOTONIC ns of the first byte any reader got: time zero of the run. */
  t0Ns: number;
  endNs: number;
  bytes: number;
  /** Bytes over the run, from the first byte, KiB/s. */
  throughputKiBs: number;
  /** Steady state: time workloads over the last 75 % of the run; jobs over the cycles after the first. */
  steadyKiBs: number;
  /** Delivered MiB/s of the readers together, per second from t0. */
  perSecondMiBs: number[];
  cycles: CycleRecord[];
}

/** Share of a time run treated as warm-up before the steady state. */
export const WARMUP_SHARE = 0.25;

/** Combines the readers' outputs into the workload's throughput. */
export function combine(outs: readonly ReaderOutput[]): WorkloadThroughput {
  const started = outs.filter((o) => o.firstNs > 0);
  if (started.length === 0) throw new Error('no reader delivered a byte');
  const t0 = Math.min(...started.map((o) => o.firstNs));
  const end = Math.max(...outs.map((o) => o.endNs));
  const bytes = outs.reduce((a, o) => a + o.bytes, 0);
  const runS = (end - t0) / 1e9;
  // Per-second series and the steady-state bytes from the readers' interval samples.
  const perSecond = new Array<number>(Math.max(1, Math.ceil(runS))).fill(0);
  const warmNs = t0 + WARMUP_SHARE * (end - t0);
  let steadyBytes = 0;
  for (const o of started) {
    o.samples.forEach((b, k) => {
      const at = o.firstNs + k * o.intervalMs * 1e6;
      const sec = Math.floor((at - t0) / 1e9);
      if (sec >= 0 && sec < perSecond.length) perSecond[sec] += b / 2 ** 20;
      if (at >= warmNs) steadyBytes += b;
    });
  }
  const cycles = jobCycles(outs);
  let steadyKiBs = steadyBytes / 1024 / ((end - warmNs) / 1e9);
  if (cycles.length > 0) {
    const use = cycles.length > 1 ? cycles.slice(1) : cycles;
    steadyKiBs =
      use.reduce((a, c) => a + c.bytes, 0) / 1024 / use.reduce((a, c) => a + c.seconds, 0);
  }
  return {
    t0Ns: t0,
    endNs: end,
    bytes,
    throughputKiBs: bytes / 1024 / runS,
    steadyKiBs,
    perSecondMiBs: perSecond.map((x) => Math.round(x * 1000) / 1000),
    cycles,
  };
}

/** The cycles of a job reader: its steps grouped by the length of one cycle. */
function jobCycles(outs: readonly ReaderOutput[]): CycleRecord[] {
  const job = outs.find((o) => o.pattern === 'job' && o.steps.length > 0);
  if (!job) return [];
  const kinds = job.steps.map((s) => s.kind);
  let per = kinds.length;
  for (let n = 1; n <= kinds.length; n++) {
    if (kinds.length % n === 0 && kinds.every((k, i) => k === kinds[i % n])) {
      per = n;
      break;
    }
  }
  const t0 = job.firstNs || job.steps[0].startNs;
  const cycles: CycleRecord[] = [];
  for (let c = 0; c * per < job.steps.length; c++) {
    const steps = job.steps.slice(c * per, (c + 1) * per);
    cycles.push({
      bytes: steps.reduce((a, s) => a + s.bytes, 0),
      seconds: (steps[steps.length - 1].endNs - steps[0].startNs) / 1e9,
      steps: steps.map((s) => ({
        kind: s.kind,
        seconds: (s.endNs - s.startNs) / 1e9,
        startS: (s.startNs - t0) / 1e9,
      })),
    });
  }
  return cycles;
}
