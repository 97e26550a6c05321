/**
 * The read-ahead demo, in the QEMU guest (as root, started by scripts/demo/guest-main.sh).
 * Runs every workload at the kernel default, at every fixed read-ahead setting, and
 * under the daemon with each policy, `repeats` times, and writes results.json.
 *
 *  - default: the module runs the baseline only (EMERGENCY, pinned, no controller);
 *  - fixed s: this process controls the readahead subsystem, pins RECOMMENDATION and
 *    recommends s for every window (the kernel ramps to it by max_delta first). The
 *    setting goes through mlproxy and not /sys/block/<dev>/queue/read_ahead_kb because
 *    the module re-applies its knob (the baseline when no advice runs) at every window
 *    boundary, which overwrites a sysfs write within one window; and this way every
 *    arm's efficiency is measured by the kernel in the same way;
 *  - daemon: a freshly loaded module (epoch 0, EMERGENCY, no baseline yet), then
 *    `node dist/src/cli/main.js run` with the policy's config; this process only reads
 *    (feedback records and status) while the workload runs, then stops the daemon.
 *
 * Runs are interleaved (each repeat visits every arm of a workload in a rotated order)
 * so that a drift of the host's load touches every arm alike. Before every run the data
 * files are evicted from the page cache, and fincore checks that none of their pages
 * stayed, so that every read that read-ahead did not
 * bring in goes to the disk. The whole page cache is dropped (echo 3 > drop_caches)
 * once, at the start: a global drop before every run would also evict node's, python's
 * and the daemon's code, which the guest then re-reads over 9p at TCG speed (measured:
 * a daemon run took 63 s instead of 31 s), and does nothing more for the data files.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import nodePath from 'node:path';
import { parseArgs } from 'node:util';
import { IoctlDevice } from '../../src/transport/ioctl-device.js';
import { Mode } from '../../src/transport/device.js';
import type { Feedback, KnobDesc, Status } from '../../src/transport/device.js';
import {
  WindowWorkTimer,
  dropCaches,
  evictFiles,
  loadModule,
  monoNs,
  procUsage,
  run,
} from './guest.js';
import type { ProcUsage } from './guest.js';
import { RESULTS_VERSION } from './records.js';
import type {
  DaemonCost,
  Results,
  ResultsMeta,
  RunRecord,
  TransitionRecord,
  WindowRecord,
} from './records.js';
import {
  WORKLOAD_NAMES,
  combine,
  groupFiles,
  isWorkloadName,
  parseReaderOutput,
  readerPlans,
} from './workloads.js';
import type { ReaderOutput, ReaderPlan, WorkloadName, WorkloadThroughput } from './workloads.js';

/** The workload program, relative to the repository (the working directory). */
const READER = 'scripts/demo/reader.py';
/** Files per group on the data disk (scripts/demo/make-disk.sh). */
export const GROUP_FILES = 80;

/** The daemon configurations compared (bare policies, and the daemon's default). */
export const DAEMON_POLICIES: Record<string, { spec: string; conservative: number | false }> = {
  ucb1: { spec: 'ucb1', conservative: false },
  linucb: { spec: 'linucb:alpha=1', conservative: false },
  conservative: { spec: 'linucb:alpha=1', conservative: 0.1 },
};

interface Options {
  dataDir: string;
  out: string;
  ko: string;
  moduleParams: string[];
  repeats: number;
  fixedSeconds: number;
  daemonSeconds: number;
  policies: string[];
  workloads: WorkloadName[];
  phases: Set<string>;
  guestMemoryMb: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      ko: { type: 'string' },
      'module-params': { type: 'string', default: '' },
      repeats: { type: 'string', default: '3' },
      'fixed-seconds': { type: 'string', default: '4' },
      'daemon-seconds': { type: 'string', default: '20' },
      policies: { type: 'string', default: 'ucb1,linucb,conservative' },
      workloads: { type: 'string', default: WORKLOAD_NAMES.join(',') },
      phases: { type: 'string', default: 'fixed,daemon' },
      'guest-memory-mb': { type: 'string', default: '0' },
    },
  });
  const need = (k: 'data' | 'out' | 'ko') => {
    const v = values[k];
    if (!v) throw new Error(`--${k} is required`);
    return v;
  };
  const int = (k: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${k} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
  const policies = values.policies.split(',').filter(Boolean);
  for (const p of policies) {
    if (!DAEMON_POLICIES[p]) {
      throw new Error(
        `--policies: unknown "${p}" (known: ${Object.keys(DAEMON_POLICIES).join(', ')})`,
      );
    }
  }
  const workloads = values.workloads.split(',').filter(Boolean);
  for (const w of workloads) {
    if (!isWorkloadName(w))
      throw new Error(`--workloads: unknown "${w}" (known: ${WORKLOAD_NAMES.join(', ')})`);
  }
  return {
    dataDir: need('data'),
    out: need('out'),
    ko: need('ko'),
    moduleParams: values['module-params'].split(/\s+/).filter(Boolean),
    repeats: int('repeats', values.repeats, 1),
    fixedSeconds: int('fixed-seconds', values['fixed-seconds'], 1),
    daemonSeconds: int('daemon-seconds', values['daemon-seconds'], 2),
    policies,
    workloads: workloads as WorkloadName[],
    phases: new Set(values.phases.split(',')),
    guestMemoryMb: int('guest-memory-mb', values['guest-memory-mb'], 0),
  };
}

function log(msg: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** The readahead subsystem of the loaded module. */
interface Subsys {
  id: number;
  windowMs: number;
  knob: KnobDesc;
}

function findReadahead(dev: IoctlDevice): Subsys {
  const s = dev.listSubsystems().find((x) => x.name === 'readahead');
  if (!s) {
    throw new Error(
      'the module registered no readahead subsystem: is ra_dev the data disk (see dmesg)?',
    );
  }
  return { id: s.id, windowMs: s.windowMs, knob: s.knobs[0] };
}

/** Collects the readahead subsystem's windows and mode transitions from an open file. */
class WindowRecorder {
  readonly windows: WindowRecord[] = [];
  readonly transitions: TransitionRecord[] = [];
  private zeroNs = 0;
  private lastStatus: Status;

  constructor(
    private readonly dev: IoctlDevice,
    private readonly sub: Subsys,
  ) {
    dev.readFeedback();
    this.lastStatus = dev.getStatus(sub.id);
  }

  /** Time zero of the records (the workload's start). */
  markZero(): void {
    this.zeroNs = monoNs();
    this.windows.length = 0;
    this.transitions.length = 0;
  }

  /** Adds queued records; returns the readahead ones. */
  take(records: Feedback[]): Feedback[] {
    const mine = records.filter((f) => f.subsysId === this.sub.id);
    for (const f of mine) {
      this.windows.push({
        epoch: f.epoch,
        tMs: (f.windowStartNs - this.zeroNs) / 1e6,
        mode: f.mode,
        applied: f.applied,
        knob: f.knobs[0],
        eff: f.eff,
        baselineEff: f.baselineEff,
        idle: (f.reasons & (1 << 8)) !== 0,
      });
    }
    if (mine.length > 0) {
      const st = this.dev.getStatus(this.sub.id);
      if (st.transitions !== this.lastStatus.transitions) {
        this.transitions.push({
          epoch: st.lastTransitionEpoch,
          tMs: (monoNs() - this.zeroNs) / 1e6,
          from: this.lastStatus.mode,
          to: st.mode,
          reason: st.lastTransition,
          count: st.transitions - this.lastStatus.transitions,
        });
      }
      this.lastStatus = st;
    }
    return mine;
  }

  async pump(ms: number): Promise<Feedback[]> {
    return this.take(await this.dev.waitFeedback(ms));
  }

  status(): Status {
    return this.dev.getStatus(this.sub.id);
  }
}

/** Starts the workload's readers; the promise settles when the last one exits. */
function startWorkload(
  workload: WorkloadName,
  groups: readonly [string[], string[]],
  seconds: number,
  seed: number,
): { children: ChildProcess[]; done: Promise<WorkloadThroughput> } {
  const plans = readerPlans(workload, groups, seconds, seed);
  const children: ChildProcess[] = [];
  const runOne = (plan: ReaderPlan) =>
    new Promise<ReaderOutput>((resolve, reject) => {
      const child = spawn('python3', [READER, ...plan.args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      let err = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0)
          return reject(new Error(`reader.py exited with ${code}: ${err.slice(0, 500)}`));
        try {
          resolve(parseReaderOutput(out));
        } catch (e) {
          reject(e as Error);
        }
      });
    });
  const outs = plans.map((plan) =>
    plan.delaySeconds > 0
      ? new Promise<void>((r) => setTimeout(r, plan.delaySeconds * 1000)).then(() => runOne(plan))
      : runOne(plan),
  );
  return { children, done: Promise.all(outs).then((o) => combine(plans, o)) };
}

function statusRecord(st: Status): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const [k, v] of Object.entries(st)) {
    if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  st.modeWindows.forEach((n, i) => (out[`modeWindows${i}`] = n));
  return out;
}

class Bench {
  private dev: IoctlDevice | null = null;
  private sub: Subsys | null = null;
  private readonly timer = new WindowWorkTimer();
  readonly runs: RunRecord[] = [];
  private readonly dataFiles: string[];
  private readonly groups: [string[], string[]];

  constructor(private readonly o: Options) {
    this.groups = [groupFiles(o.dataDir, 0, GROUP_FILES), groupFiles(o.dataDir, 1, GROUP_FILES)];
    this.dataFiles = [...this.groups[0], ...this.groups[1]];
    for (const f of this.dataFiles) {
      if (!fs.existsSync(f))
        throw new Error(`data file ${f} missing: is the data disk mounted at ${o.dataDir}?`);
    }
    fs.mkdirSync(o.out, { recursive: true });
  }

  private async freshModule(): Promise<Subsys> {
    this.dev?.close();
    this.dev = null;
    await loadModule(this.o.ko, this.o.moduleParams);
    this.timer.start();
    this.dev = new IoctlDevice('/dev/mlproxy');
    this.sub = findReadahead(this.dev);
    return this.sub;
  }

  /** Pins the mode and drives the knob to `value` (fixed) or leaves the baseline (null). */
  private async holdSetting(rec: WindowRecorder, value: number | null): Promise<() => void> {
    const dev = this.dev!;
    const sub = this.sub!;
    if (value === null) {
      dev.setMode(sub.id, Mode.Emergency, true);
      dev.release(sub.id);
      for (let i = 0; i < 20; i++) {
        const got = await rec.pump(sub.windowMs * 2);
        if (got.some((f) => !f.applied && f.knobs[0] === sub.knob.def)) break;
      }
      return () => {};
    }
    dev.claim(sub.id);
    dev.setMode(sub.id, Mode.Recommendation, true);
    let stopped = false;
    const recommend = () => {
      const st = dev.getState(sub.id);
      try {
        dev.recommend({
          subsysId: sub.id,
          epoch: st.epoch,
          modelVersion: 0,
          propensity: 1,
          knobs: [value],
        });
      } catch {
        /* a rate-limited or stale submission: the next window retries */
      }
    };
    recommend();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      const got = await rec.pump(sub.windowMs * 2);
      if (got.length > 0) recommend();
      reached = got.some((f) => f.applied && f.knobs[0] === value);
    }
    if (!reached)
      throw new Error(`the knob never reached ${value} (check dmesg and the module's max_delta)`);
    // Keep recommending in the background until the caller stops it.
    const loop = async () => {
      while (!stopped) {
        const got = await rec.pump(sub.windowMs * 2);
        if (got.length > 0 && !stopped) recommend();
      }
    };
    const looping = loop();
    return () => {
      stopped = true;
      void looping;
    };
  }

  async fixedRun(workload: WorkloadName, setting: number | null, repeat: number): Promise<void> {
    const sub = this.sub!;
    const rec = new WindowRecorder(this.dev!, sub);
    const stopHold = await this.holdSetting(rec, setting);
    const residentBytes = evictFiles(READER, this.dataFiles);
    this.timer.collect();
    rec.markZero();
    const startedAt = new Date().toISOString();
    const wl = startWorkload(workload, this.groups, this.o.fixedSeconds, repeat);
    let done = false;
    const outcome = wl.done.finally(() => (done = true));
    if (setting === null) {
      while (!done) await rec.pump(sub.windowMs);
    }
    const r = await outcome;
    stopHold();
    await rec.pump(sub.windowMs * 1.5);
    const st = rec.status();
    const windowWorkUs = this.timer.collect();
    this.runs.push({
      kind: setting === null ? 'default' : 'fixed',
      workload,
      repeat,
      setting: setting ?? sub.knob.def,
      policy: null,
      startedAt,
      throughputKiBs: r.throughputKiBs,
      tailThroughputKiBs: r.tailThroughputKiBs,
      runtimeMs: r.seconds * 1000,
      windows: rec.windows.filter((w) => w.tMs >= 0 && w.tMs <= r.seconds * 1000),
      transitions: [],
      windowWorkUs,
      daemon: null,
      daemonSummary: null,
      status: statusRecord(st),
      residentBytes,
    });
    log(
      `${workload} ${setting === null ? 'default' : `fixed 2^${setting} KiB`} #${repeat}: ${(r.throughputKiBs / 1024).toFixed(1)} MiB/s`,
    );
  }

  async daemonRun(workload: WorkloadName, policy: string, repeat: number): Promise<void> {
    const sub = await this.freshModule();
    const dev = this.dev!;
    const rec = new WindowRecorder(dev, sub);
    const p = DAEMON_POLICIES[policy];
    const dir = `/tmp/daemon-${policy}`;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const config = {
      device: '/dev/mlproxy',
      stateDir: nodePath.join(dir, 'state'),
      logDir: nodePath.join(dir, 'log'),
      logLevel: 'info',
      seed: repeat,
      subsystems: [
        { name: 'synthetic', enabled: false },
        {
          name: 'readahead',
          policy: p.spec,
          conservative: p.conservative === false ? false : { alpha: p.conservative },
        },
      ],
    };
    const cfgFile = nodePath.join(dir, 'config.json');
    fs.writeFileSync(cfgFile, JSON.stringify(config, null, 2));
    const child = spawn(
      process.execPath,
      ['dist/src/cli/main.js', 'run', '--config', cfgFile, '--no-pretty'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    // Wait for the daemon to take control (node starts slowly under TCG).
    for (let i = 0; !rec.status().controlled; i++) {
      if (i > 600 || child.exitCode !== null) {
        throw new Error(`the daemon did not take control of readahead: ${output.slice(-1000)}`);
      }
      await rec.pump(100);
    }
    const atStart: ProcUsage | null = procUsage(child.pid!);
    const residentBytes = evictFiles(READER, this.dataFiles);
    this.timer.collect();
    rec.markZero();
    const startedAt = new Date().toISOString();
    const wl = startWorkload(workload, this.groups, this.o.daemonSeconds, repeat);
    let done = false;
    const outcome = wl.done.finally(() => (done = true));
    while (!done) await rec.pump(sub.windowMs);
    const r = await outcome;
    const atEnd = procUsage(child.pid!);
    const st = rec.status();
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15000);
    const code = await exited;
    clearTimeout(killer);
    await rec.pump(0);
    const windowWorkUs = this.timer.collect();
    const daemon: DaemonCost | null =
      atStart && atEnd
        ? {
            cpuMs: atEnd.cpuMs,
            cpuRunMs: atEnd.cpuMs - atStart.cpuMs,
            runMs: r.seconds * 1000,
            rssKb: atEnd.rssKb,
            hwmKb: atEnd.hwmKb,
          }
        : null;
    const logDir = nodePath.join(this.o.out, 'daemon', `${workload}-${policy}-${repeat}`);
    fs.mkdirSync(logDir, { recursive: true });
    fs.writeFileSync(nodePath.join(logDir, 'daemon.log'), output);
    if (fs.existsSync(config.logDir))
      fs.cpSync(config.logDir, nodePath.join(logDir, 'decisions'), { recursive: true });
    const summaryAt = output.lastIndexOf('summary:');
    this.runs.push({
      kind: 'daemon',
      workload,
      repeat,
      setting: null,
      policy,
      startedAt,
      throughputKiBs: r.throughputKiBs,
      tailThroughputKiBs: r.tailThroughputKiBs,
      runtimeMs: r.seconds * 1000,
      windows: rec.windows.filter((w) => w.tMs >= 0 && w.tMs <= r.seconds * 1000),
      transitions: rec.transitions,
      windowWorkUs,
      daemon,
      daemonSummary:
        summaryAt >= 0
          ? output.slice(summaryAt, summaryAt + 1500).split('"')[0]
          : `exit ${code}: ${output.slice(-300)}`,
      status: statusRecord(st),
      residentBytes,
    });
    log(
      `${workload} daemon ${policy} #${repeat}: ${(r.throughputKiBs / 1024).toFixed(1)} MiB/s, mode ${st.mode}, exit ${code}`,
    );
  }

  async main(): Promise<Results> {
    const o = this.o;
    const startedAt = new Date().toISOString();
    const sub = await this.freshModule();
    const settings: number[] = [];
    for (let v = sub.knob.min; v <= sub.knob.max; v += sub.knob.step) settings.push(v);
    const arms: (number | null)[] = [null, ...settings];
    dropCaches();
    if (o.phases.has('fixed')) {
      for (let rep = 1; rep <= o.repeats; rep++) {
        for (const w of o.workloads) {
          // Rotate the order each repeat so that no arm always runs first or last.
          const shift = ((rep - 1) * 4) % arms.length;
          for (const arm of [...arms.slice(shift), ...arms.slice(0, shift)]) {
            await this.fixedRun(w, arm, rep);
          }
        }
        this.save(startedAt, sub);
      }
    }
    if (o.phases.has('daemon')) {
      for (let rep = 1; rep <= o.repeats; rep++) {
        for (const w of o.workloads) {
          for (const p of o.policies) await this.daemonRun(w, p, rep);
        }
        this.save(startedAt, sub);
      }
    }
    this.timer.stop();
    this.dev?.close();
    return this.save(startedAt, sub);
  }

  private save(startedAt: string, sub: Subsys): Results {
    const o = this.o;
    const meta: ResultsMeta = {
      version: RESULTS_VERSION,
      startedAt,
      finishedAt: new Date().toISOString(),
      kernel: run('uname', ['-r']).trim(),
      python: run('python3', ['--version']).trim(),
      guestMemoryMb: o.guestMemoryMb,
      moduleParams: o.moduleParams,
      windowMs: sub.windowMs,
      knob: {
        name: sub.knob.name,
        min: sub.knob.min,
        max: sub.knob.max,
        def: sub.knob.def,
        maxDelta: sub.knob.maxDelta,
      },
      repeats: o.repeats,
      fixedSeconds: o.fixedSeconds,
      daemonSeconds: o.daemonSeconds,
      policies: o.policies.map((name) => ({ name, ...DAEMON_POLICIES[name] })),
      workloads: o.workloads,
      dataFiles: {
        count: this.dataFiles.length,
        bytes: this.dataFiles.reduce((a, f) => a + fs.statSync(f).size, 0),
      },
      windowWorkTimer: this.timer.problem,
    };
    const results: Results = { meta, runs: this.runs };
    const file = nodePath.join(o.out, 'results.json');
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(results));
    fs.renameSync(`${file}.tmp`, file);
    return results;
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const bench = new Bench(opts);
  const results = await bench.main();
  log(`done: ${results.runs.length} runs in ${nodePath.join(opts.out, 'results.json')}`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
