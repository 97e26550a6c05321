/**
 * Guest-side helpers of the read-ahead demo: loading mlproxy.ko, dropping the page
 * cache, timing the module's window work with ftrace, and reading a process's CPU
 * time and memory from /proc. They need root in the QEMU guest (scripts/demo/).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** CLOCK_MONOTONIC in ns, the clock of ktime_get_ns() and so of the feedback records. */
export function monoNs(): number {
  return Number(process.hrtime.bigint());
}

/** (Re)loads mlproxy.ko with the given parameters and waits for /dev/mlproxy. */
export async function loadModule(ko: string, params: string[]): Promise<void> {
  if (fs.existsSync('/sys/module/mlproxy')) run('rmmod', ['mlproxy']);
  run('insmod', [ko, ...params]);
  for (let i = 0; i < 100; i++) {
    if (fs.existsSync('/dev/mlproxy')) return;
    await sleep(20);
  }
  throw new Error('/dev/mlproxy did not appear after insmod');
}

/** Drops the whole page cache (and with it node's and fio's code read over 9p). */
export function dropCaches(): void {
  run('sync', []);
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
}

/**
 * Evicts the given files from the page cache (posix_fadvise(POSIX_FADV_DONTNEED) in one
 * process, `reader.py --pattern evict`) and returns the bytes of them still resident
 * afterwards, from fincore (util-linux); null without fincore.
 */
export function evictFiles(reader: string, files: readonly string[]): number | null {
  run('python3', [reader, '--pattern', 'evict', ...files]);
  try {
    const out = run('fincore', ['--bytes', '--noheadings', '--output', 'RES', ...files]);
    return out
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => Number.isFinite(n))
      .reduce((a, n) => a + n, 0);
  } catch {
    return null;
  }
}

export interface ProcUsage {
  /** utime + stime, ms. */
  cpuMs: number;
  rssKb: number;
  /** Peak resident set size (VmHWM), KiB. */
  hwmKb: number;
}

/** CPU time and memory of a live process, from /proc/<pid>/stat and status. */
export function procUsage(pid: number): ProcUsage | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    const hz = Number(run('getconf', ['CLK_TCK']).trim()) || 100;
    return { cpuMs: (ticks * 1000) / hz, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

const TRACEFS = '/sys/kernel/tracing';

/**
 * Times mlp_window_work (one window's end and the next one's start: measure, feedback,
 * ladder, apply, collect) with the function_graph tracer. start() after every insmod
 * (the function moves); collect() returns the durations since start(), in us.
 */
export class WindowWorkTimer {
  readonly available: boolean;
  readonly problem: string | null;

  constructor() {
    let problem: string | null = null;
    try {
      if (!fs.existsSync(`${TRACEFS}/current_tracer`)) {
        fs.mkdirSync(TRACEFS, { recursive: true });
        run('mount', ['-t', 'tracefs', 'nodev', TRACEFS]);
      }
      if (!fs.readFileSync(`${TRACEFS}/available_tracers`, 'utf8').includes('function_graph')) {
        problem = 'the guest kernel has no function_graph tracer';
      }
    } catch (e) {
      problem = `tracefs unavailable: ${(e as Error).message}`;
    }
    this.problem = problem;
    this.available = problem === null;
  }

  start(): void {
    if (!this.available) return;
    const w = (f: string, v: string) => fs.writeFileSync(`${TRACEFS}/${f}`, v);
    w('tracing_on', '0');
    w('current_tracer', 'nop');
    w('set_ftrace_filter', 'mlp_window_work');
    w('current_tracer', 'function_graph');
    w('trace', '');
    w('tracing_on', '1');
  }

  collect(): number[] {
    if (!this.available) return [];
    const text = fs.readFileSync(`${TRACEFS}/trace`, 'utf8');
    fs.writeFileSync(`${TRACEFS}/trace`, '');
    const out: number[] = [];
    const re = /([\d.]+) us\s+\|\s+mlp_window_work/;
    for (const line of text.split('\n')) {
      const m = re.exec(line);
      if (m) out.push(Number(m[1]));
    }
    return out;
  }

  stop(): void {
    if (!this.available) return;
    fs.writeFileSync(`${TRACEFS}/tracing_on`, '0');
    fs.writeFileSync(`${TRACEFS}/current_tracer`, 'nop');
  }
}
