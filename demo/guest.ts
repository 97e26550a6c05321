/**
 * Guest-side helpers of the read-ahead demo: child processes (mlp-pin among them),
 * loading mlproxy.ko, and a process's CPU time and memory. Every child process is
 * asynchronous, so the bench's event loop (which reads the windows' records) never
 * blocks; they need root in the QEMU guest (demo/).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end without blocking the event loop. */
export function runAsync(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: env ? { ...process.env, ...env } : process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Like runAsync, but a nonzero exit is an error naming the command. */
export async function must(cmd: string, args: string[]): Promise<string> {
  const r = await runAsync(cmd, args);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.slice(0, 4).join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** What mlp-pin did over its run (its last line), and what it said on stderr. */
export interface PinCounts {
  recs: number;
  refused: number;
  repins: number;
  messages: string[];
}

/**
 * mlp-pin (demo/pin.c) for one subsystem: it claims it, pins RECOMMENDATION and
 * recommends the knob values for every window, from its own process, until stop().
 */
export class Pin {
  private readonly child: ChildProcess;
  private stdout = '';
  private stderr = '';
  private code: number | null | undefined;
  private readonly closed: Promise<void>;

  constructor(
    private readonly bin: string,
    subsysId: number,
    knobs: number[],
  ) {
    this.child = spawn(bin, [String(subsysId), ...knobs.map(String)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.closed = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.stderr += e.message;
        this.code = null;
        resolve();
      });
      this.child.on('close', (code) => {
        this.code = code;
        resolve();
      });
    });
  }

  /** Throws when it has exited (it runs until stop()), naming what it said. */
  check(): void {
    if (this.code !== undefined) throw this.exitError();
  }

  /** Hands control back (SIGTERM: it releases its claim) and returns its counts. */
  async stop(): Promise<PinCounts> {
    if (this.code === undefined) this.child.kill('SIGTERM');
    await this.closed;
    const last = this.stdout.trim().split('\n').pop() ?? '';
    if (this.code !== 0 || !last.startsWith('{')) throw this.exitError();
    const counts = JSON.parse(last) as Omit<PinCounts, 'messages'>;
    return { ...counts, messages: this.stderr.split('\n').filter(Boolean) };
  }

  private exitError(): Error {
    return new Error(
      `${this.bin} exited ${this.code}: ${this.stderr.trim() || this.stdout.trim()}`,
    );
  }
}

/** CLOCK_MONOTONIC in ns, the clock of ktime_get_ns() and so of the feedback records. */
export function monoNs(): number {
  return Number(process.hrtime.bigint());
}

/** (Re)loads mlproxy.ko with the given parameters and waits for /dev/mlproxy. */
export async function loadModule(ko: string, params: string[]): Promise<void> {
  if (fs.existsSync('/sys/module/mlproxy')) await must('rmmod', ['mlproxy']);
  await must('insmod', [ko, ...params]);
  for (let i = 0; i < 100; i++) {
    if (fs.existsSync('/dev/mlproxy')) return;
    await sleep(20);
  }
  throw new Error('/dev/mlproxy did not appear after insmod');
}

export async function unloadModule(): Promise<void> {
  if (fs.existsSync('/sys/module/mlproxy')) await must('rmmod', ['mlproxy']);
}

export interface ProcUsage {
  /** utime + stime, ms: sampled at the scheduler tick (4 ms at HZ=250), as top and ps show. */
  cpuMs: number;
  /**
   * On-CPU time of all its threads, ms, from /proc/<pid>/task/<tid>/schedstat (the
   * scheduler's sum_exec_runtime, in ns: exact, what a cgroup's cpu.stat sums); NaN when
   * the kernel has no schedstat or shows 0 there.
   */
  runMs: number;
  /** stime alone, ms. */
  systemMs: number;
  /** utime + stime of the main thread, ms. */
  mainThreadMs: number;
  /** Major page faults so far. */
  majorFaults: number;
  /** Minor page faults so far (memory first touched, or mapped again without I/O). */
  minorFaults: number;
  /** Context switches of all its threads so far: voluntary (a wait: a wake-up each) and not. */
  voluntarySwitches: number;
  involuntarySwitches: number;
  rssKb: number;
  /** Peak resident set size (VmHWM), KiB. */
  hwmKb: number;
}

/**
 * A /proc stat file (proc(5)): its comm and the counters the bench uses. comm may hold
 * spaces and parentheses, so the fields are counted from the last ')'.
 */
function readStat(path: string): {
  comm: string;
  minflt: number;
  majflt: number;
  utime: number;
  stime: number;
} {
  const stat = fs.readFileSync(path, 'utf8');
  const close = stat.lastIndexOf(')');
  // f[0] is field 3 (state): minflt is field 10, majflt 12, utime 14, stime 15.
  const f = stat.slice(close + 2).split(' ');
  return {
    comm: stat.slice(stat.indexOf('(') + 1, close),
    minflt: Number(f[7]),
    majflt: Number(f[9]),
    utime: Number(f[11]),
    stime: Number(f[12]),
  };
}

/**
 * A task's schedstat (ns): its time on the CPU and runnable but waiting for it (the
 * scheduler's sum_exec_runtime and run_delay). Throws where the kernel keeps none.
 */
function readSchedstat(path: string): { runNs: number; waitNs: number } {
  const f = fs.readFileSync(path, 'utf8').split(' ');
  return { runNs: Number(f[0]), waitNs: Number(f[1]) };
}

/** CPU time and memory of a live process, from /proc/<pid>/stat and status (tiny reads). */
export function procUsage(pid: number, hz: number): ProcUsage | null {
  try {
    // majflt: page faults that read from a file (its own code, evicted).
    const { minflt, majflt, utime, stime } = readStat(`/proc/${pid}/stat`);
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    // One pass over its threads: the main thread's time (JavaScript and the event loop;
    // the rest is V8's and libuv's helper threads: collection, compilation, the blocking
    // feedback read) and everyone's wake-ups (under TCG each costs far more than natively).
    let mainTicks = NaN;
    let runNs = 0;
    let voluntarySwitches = 0;
    let involuntarySwitches = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        if (tid === String(pid)) {
          const main = readStat(`/proc/${pid}/task/${tid}/stat`);
          mainTicks = main.utime + main.stime;
        }
        const ts = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
        voluntarySwitches += statusField(ts, 'voluntary_ctxt_switches');
        involuntarySwitches += statusField(ts, 'nonvoluntary_ctxt_switches');
        // Last: a kernel without schedstat (no file) loses only this field.
        runNs += readSchedstat(`/proc/${pid}/task/${tid}/schedstat`).runNs;
      } catch {
        // the thread ended meanwhile
      }
    }
    return {
      cpuMs: ((utime + stime) * 1000) / hz,
      // A kernel without schedstat (nothing added), or one that fakes it (some sandboxes
      // print 0): NaN.
      runMs: runNs > 0 ? runNs / 1e6 : NaN,
      systemMs: (stime * 1000) / hz,
      mainThreadMs: (mainTicks * 1000) / hz,
      majorFaults: majflt,
      minorFaults: minflt,
      voluntarySwitches,
      involuntarySwitches,
      rssKb: statusField(status, 'VmRSS'),
      hwmKb: statusField(status, 'VmHWM'),
    };
  } catch {
    return null;
  }
}

/**
 * utime, stime (clock ticks) and minor faults of each thread of a process, by "tid comm",
 * with its scheduler times (schedstat, ns: on the CPU, and runnable but waiting for it;
 * NaN where the kernel keeps none): ticks charge a whole tick to whoever was running when
 * it came, the scheduler's times are exact, so the two tell a thread that ran from one that
 * was only charged.
 */
export type ThreadTicks = Map<
  string,
  { utime: number; stime: number; minflt: number; runNs: number; waitNs: number }
>;

export function threadTicks(pid: number): ThreadTicks {
  const out: ThreadTicks = new Map();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const { comm, utime, stime, minflt } = readStat(`/proc/${pid}/task/${tid}/stat`);
      let sched = { runNs: NaN, waitNs: NaN };
      try {
        sched = readSchedstat(`/proc/${pid}/task/${tid}/schedstat`);
      } catch {
        /* no schedstat */
      }
      out.set(`${tid} ${comm}`, { utime, stime, minflt, ...sched });
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return out;
}

/** A thread's CPU between two samples (threadDelta), ms. */
export interface ThreadUse {
  thread: string;
  userMs: number;
  systemMs: number;
  minorFaults: number;
  /** Exact time on the CPU, and runnable but waiting for it (schedstat), where kept. */
  runMs?: number;
  waitMs?: number;
}

/**
 * Which of a process's threads used its CPU between two samples, in ms, most system
 * time first (a thread that started meanwhile counts from 0), at most `top` of them:
 * the main thread (JavaScript, the event loop's system calls), libuv's pool (the
 * blocking feedback read), V8's helpers (collection: page faults, madvise).
 */
export function threadDelta(a: ThreadTicks, b: ThreadTicks, hz: number, top = 4): ThreadUse[] {
  const out: ThreadUse[] = [];
  for (const [thread, t] of b) {
    const p = a.get(thread) ?? { utime: 0, stime: 0, minflt: 0, runNs: 0, waitNs: 0 };
    const userMs = ((t.utime - p.utime) * 1000) / hz;
    const systemMs = ((t.stime - p.stime) * 1000) / hz;
    if (userMs + systemMs > 0 || t.minflt > p.minflt) {
      const runMs = (t.runNs - p.runNs) / 1e6;
      const waitMs = (t.waitNs - p.waitNs) / 1e6;
      out.push({
        thread,
        userMs,
        systemMs,
        minorFaults: t.minflt - p.minflt,
        // JSON has no NaN: a kernel without schedstat leaves these out.
        ...(Number.isFinite(runMs) && t.runNs > 0 ? { runMs, waitMs } : {}),
      });
    }
  }
  return out.sort((x, y) => y.systemMs - x.systemMs || y.userMs - x.userMs).slice(0, top);
}

/** A number field of a /proc status file ("Key:   123 kB"), NaN when absent. */
function statusField(status: string, key: string): number {
  return Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
}

/** The clock ticks per second of /proc/<pid>/stat (getconf CLK_TCK). */
export async function clockTicks(): Promise<number> {
  const r = await runAsync('getconf', ['CLK_TCK']);
  return Number(r.stdout.trim()) || 100;
}

/**
 * The guest's memory and stall counters a run is measured under (to find what stalls the
 * guest, issue 10): from /proc/vmstat, reclaim (direct: allocstall, pgscan_direct; kswapd:
 * pgscan_kswapd), major faults and refaults of file pages (the tools' own code on 9p evicted
 * and read again); from /proc/pressure (PSI, when the kernel has it), the microseconds some
 * or all tasks stalled on memory, io and the CPU.
 */
export type VmCounters = Record<string, number>;

/** The CPU features that choose the kernel's page-zeroing and copy routines. */
const STRING_OP_FLAGS = ['erms', 'fsrm', 'rep_good'];

/**
 * Which of ERMS, FSRM and REP_GOOD the guest kernel sees (the first `flags` line of
 * /proc/cpuinfo): they decide whether it zeroes and copies pages with `rep stosb` /
 * `rep movsb`, which QEMU's TCG runs a byte at a time (scripts/vm/run-in-guest.sh).
 */
export function stringOpFlags(cpuinfo: string): string[] {
  const flags = new Set((/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '').trim().split(/\s+/));
  return STRING_OP_FLAGS.filter((f) => flags.has(f));
}

const VMSTAT_KEYS = [
  'pgscan_direct',
  'pgscan_kswapd',
  'pgsteal_direct',
  'pgsteal_kswapd',
  'pgmajfault',
  'workingset_refault_file',
  'compact_stall',
  'pgpgin',
  // Pages a process gave back with MADV_FREE that reclaim then dropped: each is a fresh
  // zeroed page when the process writes there again (it stayed 0 in the stalls measured).
  'pglazyfreed',
];

export function vmCounters(): VmCounters {
  const out: VmCounters = {};
  try {
    for (const line of fs.readFileSync('/proc/vmstat', 'utf8').split('\n')) {
      const [k, v] = line.split(' ');
      if (k?.startsWith('allocstall')) out.allocstall = (out.allocstall ?? 0) + Number(v);
      else if (VMSTAT_KEYS.includes(k)) out[k] = Number(v);
    }
  } catch {
    /* no /proc/vmstat: nothing to report */
  }
  // Where the guest's CPU went (issue 10's stalls: PSI cpu saturated, task unknown): the
  // aggregate line of /proc/stat, in clock ticks.
  try {
    const cpu = /^cpu +(.*)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    const v = (cpu?.[1] ?? '').split(/\s+/).map(Number);
    CPU_FIELDS.forEach((k, i) => {
      if (Number.isFinite(v[i])) out[`cpu_${k}_ticks`] = v[i];
    });
  } catch {
    /* no /proc/stat */
  }
  for (const res of ['memory', 'io', 'cpu']) {
    try {
      for (const line of fs.readFileSync(`/proc/pressure/${res}`, 'utf8').split('\n')) {
        const m = /^(some|full) .*total=(\d+)/.exec(line);
        if (m) out[`psi_${res}_${m[1]}_us`] = Number(m[2]);
      }
    } catch {
      /* PSI off (psi=0) or absent */
    }
  }
  return out;
}

/** The first fields of /proc/stat's cpu line (proc(5)). */
const CPU_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'];

/** utime + stime (clock ticks) of every task, by "pid comm" (threads count in their process). */
export type TaskTicks = Map<string, number>;

export function taskTicks(): TaskTicks {
  const out: TaskTicks = new Map();
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const { comm, utime, stime } = readStat(`/proc/${pid}/stat`);
      out.set(`${pid} ${comm}`, utime + stime);
    } catch {
      /* the task ended meanwhile */
    }
  }
  return out;
}

/**
 * The tasks that used the most CPU between two samples, in ms (a task that started
 * meanwhile counts from 0), at most `top` of them, each at least 1% of the interval.
 */
export function topTasks(
  a: TaskTicks,
  b: TaskTicks,
  hz: number,
  intervalMs: number,
  top = 5,
): { task: string; cpuMs: number }[] {
  const out: { task: string; cpuMs: number }[] = [];
  for (const [task, t] of b) {
    const cpuMs = ((t - (a.get(task) ?? 0)) * 1000) / hz;
    if (cpuMs >= intervalMs / 100) out.push({ task, cpuMs });
  }
  return out.sort((x, y) => y.cpuMs - x.cpuMs).slice(0, top);
}

/** b - a per counter present in both. */
export function vmDelta(a: VmCounters, b: VmCounters): VmCounters {
  const out: VmCounters = {};
  for (const k of Object.keys(b)) if (k in a) out[k] = b[k] - a[k];
  return out;
}

/**
 * Where some processes' threads were in the kernel, sampled: every `periodMs` a worker
 * thread reads /proc/<pid>/task/<tid>/stat of each watched thread and, for one that is
 * runnable (R: it was preempted, on the guest's one vCPU) or in uninterruptible sleep
 * (D), its kernel stack (/proc/.../stack, root only). A stack is named by its first
 * frames below the scheduler's own; one preempted on its way back to user space counts
 * as `user`. This finds what a process did in the kernel when its system time grows
 * (the bench's stalls): a thread that loops in the kernel without rescheduling also
 * keeps the sampler off the CPU, which shows as the longest gap between samples.
 */
export interface KernelSamples {
  /** Samples taken, and thread-samples that found a watched thread in R or D. */
  samples: number;
  hits: number;
  /** The longest time between two samples, ms (the period when nothing held the CPU). */
  maxGapMs: number;
  /** The most frequent stacks: "<state> frame < caller < ...", with their counts. */
  top: { stack: string; n: number }[];
}

const SAMPLER_SRC = `
const fs = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const self = fs.readlinkSync('/proc/thread-self').split('/').pop();
const SCHED = /^(__schedule|schedule|schedule_timeout|schedule_hrtimeout_range_clock|schedule_preempt_disabled|preempt_schedule\\w*|__cond_resched|_cond_resched|io_schedule\\w*|preempt_count_\\w+)$/;
const USER = /exit_to_user_mode|irqentry_exit_to_user|syscall_exit_to_user/;
let pids = workerData.pids, counts = new Map(), samples = 0, hits = 0, maxGap = 0, last = 0;
function sample() {
  const now = Number(process.hrtime.bigint()) / 1e6;
  if (last) maxGap = Math.max(maxGap, now - last);
  last = now;
  samples++;
  for (const pid of pids) {
    let tids;
    try { tids = fs.readdirSync('/proc/' + pid + '/task'); } catch { continue; }
    for (const tid of tids) {
      if (tid === self) continue;
      const dir = '/proc/' + pid + '/task/' + tid;
      try {
        const st = fs.readFileSync(dir + '/stat', 'utf8');
        const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
        if (state !== 'R' && state !== 'D') continue;
        hits++;
        const frames = fs.readFileSync(dir + '/stack', 'utf8').split('\\n')
          .map((l) => l.replace(/^\\[<[0-9a-f]+>\\] /, '').replace(/\\+0x.*$/, '').trim())
          .filter(Boolean);
        let i = 0;
        while (i < frames.length && SCHED.test(frames[i])) i++;
        const rest = frames.slice(i);
        const key = state + ' ' + (rest.length === 0 || USER.test(rest[0]) ? 'user' : rest.slice(0, 4).join(' < '));
        counts.set(key, (counts.get(key) || 0) + 1);
      } catch { /* the thread ended meanwhile */ }
    }
  }
}
const timer = setInterval(sample, workerData.periodMs);
parentPort.on('message', (m) => {
  if (m.pids) { pids = m.pids; return; }
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([stack, n]) => ({ stack, n }));
  parentPort.postMessage({ id: m.id, samples, hits, maxGapMs: maxGap, top });
  counts = new Map(); samples = 0; hits = 0; maxGap = 0; last = 0;
  if (m.stop) { clearInterval(timer); parentPort.close(); }
});
`;

export class KernelStackSampler {
  private readonly worker: Worker;
  private next = 0;

  constructor(pids: number[], periodMs = 250) {
    this.worker = new Worker(SAMPLER_SRC, { eval: true, workerData: { pids, periodMs } });
    this.worker.unref();
  }

  /** Watch these processes from now on. */
  watch(pids: number[]): void {
    this.worker.postMessage({ pids });
  }

  /** The samples since the last take (or the start), and a fresh count from now. */
  take(stop = false): Promise<KernelSamples> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const on = (m: KernelSamples & { id: number }) => {
        if (m.id !== id) return;
        this.worker.off('message', on);
        this.worker.off('error', reject);
        const { id: _, ...s } = m;
        resolve(s);
      };
      this.worker.on('message', on);
      this.worker.once('error', reject);
      this.worker.postMessage({ id, stop });
    });
  }
}
