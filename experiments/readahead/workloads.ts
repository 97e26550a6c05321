/**
 * The read workloads of the read-ahead demo, run by scripts/demo/reader.py (one process
 * per reader). Every reader opens a file when it reads it: Linux copies the device's
 * read-ahead into a file's state at open (and fio's default fadvise hints double it or
 * switch it off), so only readers that keep opening files see a setting changed during
 * the run, as many real readers (builds, web and mail servers, backups) do.
 *
 * The disk holds 2 x GROUP_FILES files: the sequential readers read group 0, the random
 * ones group 1; each group is larger than the guest's page cache, so re-reading it in a
 * loop still goes to the disk.
 */
import nodePath from 'node:path';

export const WORKLOAD_NAMES = ['seq', 'rand', 'mixed', 'phase'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export const WORKLOAD_DESCRIPTIONS: Record<WorkloadName, string> = {
  seq: 'read(2) of 32 KiB, each file of group 0 start to end, one file after another',
  rand: 'a random file of group 1 opened, 16 pread(2)s of 4 KiB at random pages, closed; repeat',
  mixed: 'seq and rand at the same time (two processes)',
  phase: 'seq for the first half of the run, then rand',
};

export interface ReaderPlan {
  pattern: 'seq' | 'rand';
  /** Seconds after the workload's start at which the reader starts. */
  delaySeconds: number;
  seconds: number;
  args: string[];
}

export function isWorkloadName(s: string): s is WorkloadName {
  return (WORKLOAD_NAMES as readonly string[]).includes(s);
}

/** The data files of a group: <dataDir>/g<group>/f<nn>.bin. */
export function groupFiles(dataDir: string, group: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    nodePath.join(dataDir, `g${group}`, `f${String(i).padStart(3, '0')}.bin`),
  );
}

/** The readers of a workload over about `seconds` (serial readers share the time). */
export function readerPlans(
  workload: WorkloadName,
  groups: readonly [string[], string[]],
  seconds: number,
  seed: number,
): ReaderPlan[] {
  if (!(seconds >= 1)) throw new RangeError(`seconds must be >= 1, got ${seconds}`);
  const seq = (delay: number, secs: number): ReaderPlan => ({
    pattern: 'seq',
    delaySeconds: delay,
    seconds: secs,
    args: ['--pattern', 'seq', '--bs', '32768', '--seconds', String(secs), ...groups[0]],
  });
  const rand = (delay: number, secs: number): ReaderPlan => ({
    pattern: 'rand',
    delaySeconds: delay,
    seconds: secs,
    args: [
      '--pattern',
      'rand',
      '--per-file',
      '16',
      '--seed',
      String(seed),
      '--seconds',
      String(secs),
      ...groups[1],
    ],
  });
  const half = seconds / 2;
  switch (workload) {
    case 'seq':
      return [seq(0, seconds)];
    case 'rand':
      return [rand(0, seconds)];
    case 'mixed':
      return [seq(0, seconds), rand(0, seconds)];
    case 'phase':
      return [seq(0, half), rand(half, half)];
  }
}

export interface ReaderOutput {
  pattern: string;
  bytes: number;
  seconds: number;
  interval: number;
  samples: number[];
}

/** Parses and checks the JSON line reader.py prints. */
export function parseReaderOutput(text: string): ReaderOutput {
  const line = text.trim().split('\n').pop() ?? '';
  let doc: Partial<ReaderOutput>;
  try {
    doc = JSON.parse(line) as Partial<ReaderOutput>;
  } catch {
    throw new Error(`reader.py printed no JSON: ${text.slice(0, 300)}`);
  }
  if (typeof doc.bytes !== 'number' || typeof doc.seconds !== 'number' || !(doc.seconds > 0)) {
    throw new Error(`reader.py output lacks bytes/seconds: ${line.slice(0, 300)}`);
  }
  return {
    pattern: String(doc.pattern),
    bytes: doc.bytes,
    seconds: doc.seconds,
    interval: Number(doc.interval ?? 0.5),
    samples: Array.isArray(doc.samples) ? doc.samples.map(Number) : [],
  };
}

export interface WorkloadThroughput {
  /** Bytes of all readers per second of the workload, KiB/s. */
  throughputKiBs: number;
  /** The same over the second half of the workload (after the daemon's learning). */
  tailThroughputKiBs: number;
  seconds: number;
}

/**
 * Combines the readers' outputs: bytes over the workload's wall time (parallel readers
 * add up; serial ones share the time), and the tail rate: each reader's rate over its
 * full sample intervals that end in the second half, added up.
 */
export function combine(
  plans: readonly ReaderPlan[],
  outs: readonly ReaderOutput[],
): WorkloadThroughput {
  if (plans.length !== outs.length || plans.length === 0) {
    throw new RangeError('one output per reader plan is needed');
  }
  const end = Math.max(...plans.map((p, i) => p.delaySeconds + outs[i].seconds));
  const bytes = outs.reduce((a, o) => a + o.bytes, 0);
  const from = end / 2;
  let tailKiBs = 0;
  outs.forEach((o, i) => {
    let b = 0;
    let n = 0;
    o.samples.forEach((x, k) => {
      if (plans[i].delaySeconds + (k + 1) * o.interval > from) {
        b += x;
        n++;
      }
    });
    if (n > 0) tailKiBs += b / 1024 / (n * o.interval);
  });
  return {
    throughputKiBs: bytes / 1024 / end,
    tailThroughputKiBs: tailKiBs,
    seconds: end,
  };
}
