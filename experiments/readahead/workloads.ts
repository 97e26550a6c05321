/**
 * The read workloads of the read-ahead demo, as fio command lines, and the parsing of
 * fio's JSON output and bandwidth logs. Every job reads through the page cache
 * (--direct=0, psync) so that read-ahead matters, and is capped by a runtime but not
 * time-based: a job that has read all its files stops early instead of re-reading
 * them from the page cache.
 */
import fs from 'node:fs';
import nodePath from 'node:path';

export const WORKLOAD_NAMES = ['seq', 'rand', 'mixed', 'phase'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export const WORKLOAD_DESCRIPTIONS: Record<WorkloadName, string> = {
  seq: 'one sequential reader, 32 KiB reads, through the four files one after another',
  rand: 'one random reader, 4 KiB reads, spread over the four files',
  mixed:
    'a sequential reader (32 KiB, files 0-1) and a random reader (4 KiB, files 2-3) at the same time',
  phase:
    'sequential (32 KiB, files 0-1) for the first half of the run, then random (4 KiB, files 2-3)',
};

/** How the jobs of a workload combine: at the same time, or one after another. */
export type JobLayout = 'parallel' | 'serial';

export interface FioPlan {
  args: string[];
  layout: JobLayout;
  /** Prefix of the bandwidth logs (fio adds _bw.<job>.log). */
  bwLogPrefix: string;
}

export function isWorkloadName(s: string): s is WorkloadName {
  return (WORKLOAD_NAMES as readonly string[]).includes(s);
}

/** The fio command line of a workload over the data files, for about `seconds`. */
export function fioPlan(
  workload: WorkloadName,
  dataFiles: readonly string[],
  seconds: number,
  logDir: string,
): FioPlan {
  if (dataFiles.length < 4) {
    throw new RangeError(`the workloads need 4 data files, got ${dataFiles.length}`);
  }
  if (!(seconds >= 1)) throw new RangeError(`seconds must be >= 1, got ${seconds}`);
  const files = (idx: number[]) => `--filename=${idx.map((i) => dataFiles[i]).join(':')}`;
  const bwLogPrefix = nodePath.join(logDir, workload);
  const common = [
    '--direct=0',
    '--ioengine=psync',
    '--invalidate=1',
    '--output-format=json',
    `--write_bw_log=${bwLogPrefix}`,
    '--log_avg_msec=500',
  ];
  const seqJob = (name: string, idx: number[], runtime: number) => [
    `--name=${name}`,
    '--rw=read',
    '--bs=32k',
    files(idx),
    '--file_service_type=sequential',
    `--runtime=${runtime}`,
  ];
  const randJob = (name: string, idx: number[], runtime: number) => [
    `--name=${name}`,
    '--rw=randread',
    '--bs=4k',
    files(idx),
    '--file_service_type=random',
    '--randseed=1234',
    `--runtime=${runtime}`,
  ];
  const half = Math.max(1, Math.round(seconds / 2));
  switch (workload) {
    case 'seq':
      return {
        args: [...common, ...seqJob('seq', [0, 1, 2, 3], seconds)],
        layout: 'parallel',
        bwLogPrefix,
      };
    case 'rand':
      return {
        args: [...common, ...randJob('rand', [0, 1, 2, 3], seconds)],
        layout: 'parallel',
        bwLogPrefix,
      };
    case 'mixed':
      return {
        args: [...common, ...seqJob('mseq', [0, 1], seconds), ...randJob('mrand', [2, 3], seconds)],
        layout: 'parallel',
        bwLogPrefix,
      };
    case 'phase':
      return {
        args: [
          ...common,
          ...seqJob('pseq', [0, 1], half),
          ...randJob('prand', [2, 3], seconds - half),
          '--stonewall',
        ],
        layout: 'serial',
        bwLogPrefix,
      };
  }
}

export interface FioJobResult {
  name: string;
  ioBytes: number;
  runtimeMs: number;
}

export interface FioResult {
  jobs: FioJobResult[];
  /** Bytes read by all jobs per second of the run, KiB/s. */
  throughputKiBs: number;
  /** Length of the run: the longest job (parallel) or the sum (serial), ms. */
  runtimeMs: number;
}

interface FioJson {
  jobs?: { jobname?: string; read?: { io_bytes?: number; runtime?: number } }[];
}

/** Parses fio's --output-format=json (which may follow warning lines). */
export function parseFioJson(text: string, layout: JobLayout): FioResult {
  const start = text.indexOf('{');
  if (start < 0) throw new Error(`fio printed no JSON: ${text.slice(0, 200)}`);
  const doc = JSON.parse(text.slice(start)) as FioJson;
  const jobs = (doc.jobs ?? []).map((j) => ({
    name: String(j.jobname ?? '?'),
    ioBytes: Number(j.read?.io_bytes ?? 0),
    runtimeMs: Number(j.read?.runtime ?? 0),
  }));
  if (jobs.length === 0) throw new Error('fio JSON has no jobs');
  const bytes = jobs.reduce((a, j) => a + j.ioBytes, 0);
  const runtimeMs =
    layout === 'serial'
      ? jobs.reduce((a, j) => a + j.runtimeMs, 0)
      : Math.max(...jobs.map((j) => j.runtimeMs));
  if (!(runtimeMs > 0)) throw new Error('fio reports a zero runtime');
  return { jobs, runtimeMs, throughputKiBs: bytes / 1024 / (runtimeMs / 1000) };
}

/** One interval of a fio bandwidth log: its end (ms since the job started) and KiB/s. */
export interface BwSample {
  tMs: number;
  kibs: number;
}

/** Reads <prefix>_bw.<n>.log for every job n = 1, 2, ... that wrote one. */
export function readBwLogs(prefix: string): BwSample[][] {
  const out: BwSample[][] = [];
  for (let n = 1; ; n++) {
    const file = `${prefix}_bw.${n}.log`;
    if (!fs.existsSync(file)) break;
    const samples: BwSample[] = [];
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const cols = line.split(',').map((c) => Number(c.trim()));
      if (cols.length >= 2 && Number.isFinite(cols[0]) && Number.isFinite(cols[1])) {
        samples.push({ tMs: cols[0], kibs: cols[1] });
      }
    }
    out.push(samples);
  }
  return out;
}

/**
 * Mean throughput (KiB/s, all jobs together) over the intervals that end after
 * `fromMs` of each job's run; null when no interval does. For parallel jobs the
 * per-job means add up; it is meant for the steady tail of a run.
 */
export function tailThroughput(logs: BwSample[][], fromMs: number): number | null {
  let total = 0;
  let any = false;
  for (const samples of logs) {
    const tail = samples.filter((s) => s.tMs > fromMs);
    if (tail.length === 0) continue;
    any = true;
    total += tail.reduce((a, s) => a + s.kibs, 0) / tail.length;
  }
  return any ? total : null;
}
