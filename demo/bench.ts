/**
 * The read-ahead demo, in the QEMU guest (as root, started by demo/guest-main.sh).
 * Runs every workload at the kernel default, at every fixed read-ahead setting of the
 * grid and under the daemon with each policy, `repeats` times, and writes results.json.
 *
 *  - default: the module in EMERGENCY, pinned, no controller: the baseline, which is the
 *    disk's read_ahead_kb as the administrator left it (the module touches nothing);
 *  - fixed k (via mlproxy, the default): mlp-pin (demo/pin.c, a process of its own, so
 *    that this one's memory and event loop cannot cost the arm a window) controls the
 *    readahead subsystem, pins RECOMMENDATION and recommends k for every window (the
 *    module loaded with check_period=0, so every window can run the advice), the same
 *    path as the daemon's advice; (via sysfs): read_ahead_kb written before the
 *    readers start, the module in EMERGENCY measuring. The share of the run's windows
 *    that ran k is recorded;
 *  - daemon: a freshly loaded module (epoch 0, EMERGENCY, no reference yet), then
 *    `node dist/cli/main.js run` with the policy's config; this process only reads
 *    (feedback and status) while the workload runs, then stops the daemon;
 *  - idle-daemon: the daemon with no workload, for its idle CPU cost.
 *
 * Every child process is asynchronous (node's event loop keeps serving the windows).
 * Before every run the data files are evicted from the page cache and mincore checks
 * that none of their pages stayed. Runs are interleaved (each repeat visits every arm of
 * a workload in a rotated order) so that a drift of the host's load touches every arm
 * alike. Time zero of a run is the readers' first byte.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import nodePath from 'node:path';
import { parseArgs } from 'node:util';
import { REASON_IDLE, REASON_UNRELIABLE } from '../src/abi/constants.js';
import { SUBSYSTEM_DEFAULTS } from '../src/config/schema.js';
import { IoctlDevice } from '../src/transport/ioctl-device.js';
import { Mode } from '../src/transport/device.js';
import type { Feedback, KnobDesc, Status, SubsystemInfo } from '../src/transport/device.js';
import {
  clockTicks,
  loadModule,
  monoNs,
  must,
  procUsage,
  runAsync,
  stringOpFlags,
  unloadModule,
  Pin,
  taskTicks,
  topTasks,
  vmCounters,
  vmDelta,
  KernelStackSampler,
  threadDelta,
  threadTicks,
} from './guest.js';
import type { KernelSamples, ProcUsage } from './guest.js';
import { FIXED_HEARTBEAT_MS, RESULTS_VERSION } from './records.js';
import type {
  DaemonCost,
  Results,
  ResultsMeta,
  RunRecord,
  TransitionRecord,
  WindowRecord,
} from './records.js';
import {
  PHASE_MIN_SETTING,
  checkWorkload,
  combine,
  dataFiles,
  isJob,
  parseReaderOutputs,
  readerPlans,
} from './workloads.js';
import type { DataFiles, ReaderPlan, WorkloadName, WorkloadThroughput } from './workloads.js';

/**
 * The daemon configurations compared. `linucb` is the daemon's built-in readahead settings
 * (SUBSYSTEM_DEFAULTS, what an operator's `{"name": "readahead"}` runs): its config entry
 * names nothing, so the profile's policy, conservative and safety settings all apply.
 */
export const DAEMON_POLICIES: Record<
  string,
  { spec: string; conservative: number | false; profile?: true }
> = {
  ucb1: { spec: 'ucb1', conservative: false },
  linucb: {
    spec: SUBSYSTEM_DEFAULTS.readahead.policy!,
    conservative: readaheadConservative(),
    profile: true,
  },
  lints: { spec: 'lints', conservative: false },
  conservative: { spec: 'linucb:alpha=1', conservative: 0.1 },
};

/** The window length of the idle-daemon cost run (issue 10: <= 3% of a vCPU at 100 ms). */
export const COST_WINDOW_MS = 100;
/** Seconds the idle daemon runs before its cost is measured. */
export const COST_SETTLE_S = 10;

function readaheadConservative(): number | false {
  const c = SUBSYSTEM_DEFAULTS.readahead.conservative;
  return c ? c.alpha : false;
}

interface Options {
  dataDir: string;
  out: string;
  ko: string;
  reader: string;
  /** mlp-pin (demo/pin.c): the process that holds a fixed arm's setting (--fixed-via mlproxy). */
  pin: string | null;
  dataDev: string;
  storage: string;
  moduleParams: string[];
  repeats: number;
  fixedSeconds: number;
  daemonSeconds: number;
  phaseCycles: number;
  grid: number[] | null;
  fixedVia: 'mlproxy' | 'sysfs';
  policies: string[];
  workloads: WorkloadName[];
  phases: Set<string>;
  guestMemoryMb: number;
  costSeconds: number;
  /** Node flags of the daemon runs (e.g. --cpu-prof --cpu-prof-dir=DIR, to profile it). */
  daemonNodeArgs: string[];
  /**
   * Period of the kernel-stack sampler (guest.ts KernelStackSampler), ms; 0: off (the
   * default: at 250 ms it used 2-3% of the guest's emulated vCPU under TCG, shared with the arms it measures).
   */
  kernelStacksMs: number;
  seqFiles: number;
  bigFiles: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      ko: { type: 'string' },
      reader: { type: 'string' },
      pin: { type: 'string' },
      'data-dev': { type: 'string' },
      storage: { type: 'string', default: 'host' },
      'module-params': { type: 'string', default: '' },
      repeats: { type: 'string', default: '3' },
      'fixed-seconds': { type: 'string', default: '8' },
      'daemon-seconds': { type: 'string', default: '180' },
      'phase-cycles': { type: 'string', default: '1' },
      grid: { type: 'string', default: '' },
      'fixed-via': { type: 'string', default: 'mlproxy' },
      policies: { type: 'string', default: 'ucb1' },
      workloads: { type: 'string', default: 'seq,mmap,mixed,phase,pread' },
      phases: { type: 'string', default: 'fixed,daemon,cost' },
      'guest-memory-mb': { type: 'string', default: '0' },
      'cost-seconds': { type: 'string', default: '20' },
      'kernel-stacks-ms': { type: 'string', default: '0' },
      'seq-files': { type: 'string', default: '80' },
      'big-files': { type: 'string', default: '8' },
      'daemon-node-args': { type: 'string', default: '' },
    },
  });
  const need = (k: 'data' | 'out' | 'ko' | 'reader' | 'data-dev') => {
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
  const via = values['fixed-via'];
  if (via !== 'mlproxy' && via !== 'sysfs') {
    throw new Error(`--fixed-via must be mlproxy or sysfs, got "${via}"`);
  }
  const phases = new Set(values.phases.split(','));
  if (via === 'mlproxy' && phases.has('fixed') && !values.pin) {
    throw new Error(
      '--pin is required for the fixed arms via mlproxy: the path of mlp-pin, which demo/build-reader.sh pin builds',
    );
  }
  return {
    dataDir: need('data'),
    out: need('out'),
    ko: need('ko'),
    reader: need('reader'),
    pin: values.pin ?? null,
    dataDev: need('data-dev'),
    storage: values.storage,
    moduleParams: values['module-params'].split(/\s+/).filter(Boolean),
    repeats: int('repeats', values.repeats, 1),
    fixedSeconds: int('fixed-seconds', values['fixed-seconds'], 1),
    daemonSeconds: int('daemon-seconds', values['daemon-seconds'], 2),
    phaseCycles: int('phase-cycles', values['phase-cycles'], 1),
    grid: values.grid ? values.grid.split(',').map((x) => int('grid', x.trim(), 0)) : null,
    fixedVia: via,
    policies,
    workloads: values.workloads.split(',').filter(Boolean).map(checkWorkload),
    phases,
    guestMemoryMb: int('guest-memory-mb', values['guest-memory-mb'], 0),
    costSeconds: int('cost-seconds', values['cost-seconds'], 0),
    seqFiles: int('seq-files', values['seq-files'], 1),
    bigFiles: int('big-files', values['big-files'], 1),
    daemonNodeArgs: values['daemon-node-args'].split(/\s+/).filter(Boolean),
    kernelStacksMs: int('kernel-stacks-ms', values['kernel-stacks-ms'], 0),
  };
}

function log(msg: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** The readahead subsystem of the loaded module. */
interface Subsys {
  info: SubsystemInfo;
  id: number;
  windowMs: number;
  knob: KnobDesc;
  feature: (name: string) => number;
}

function findReadahead(dev: IoctlDevice): Subsys {
  const info = dev.listSubsystems().find((x) => x.name === 'readahead');
  if (!info) {
    throw new Error(
      'the module registered no readahead subsystem: is ra_dev the data disk (see dmesg)?',
    );
  }
  return {
    info,
    id: info.id,
    windowMs: info.windowMs,
    knob: info.knobs[0],
    feature: (name) => info.features.findIndex((f) => f.name === name),
  };
}

/** Reads the readahead subsystem's windows, features and mode transitions from an open file. */
class Recorder {
  readonly windows: WindowRecord[] = [];
  readonly transitions: TransitionRecord[] = [];
  private zeroNs = 0;
  private lastStatus: Status;
  private readonly raKb = new Map<number, number | null>();

  constructor(
    private readonly dev: IoctlDevice,
    private readonly sub: Subsys,
  ) {
    dev.readFeedback();
    this.lastStatus = dev.getStatus(sub.id);
  }

  /** Time zero of the records (the readers' first byte, known only afterwards). */
  setZero(ns: number): void {
    const shift = (this.zeroNs - ns) / 1e6;
    for (const w of this.windows) w.tMs += shift;
    for (const t of this.transitions) t.tMs += shift;
    this.zeroNs = ns;
  }

  private take(records: Feedback[]): void {
    const mine = records.filter((f) => f.subsysId === this.sub.id);
    if (mine.length === 0) return;
    const st = this.dev.getState(this.sub.id);
    const f = (name: string) => {
      const i = this.sub.feature(name);
      return i < 0 ? null : st.features[i] / this.sub.info.features[i].scale;
    };
    // ra_kb is collected as a window starts: it belongs to the window in progress.
    this.raKb.set(st.epoch, f('ra_kb'));
    for (const fb of mine) {
      // The other features describe the window that just ended, if it is the last one.
      const own = st.epoch === fb.epoch + 1;
      this.windows.push({
        epoch: fb.epoch,
        tMs: (fb.windowStartNs - this.zeroNs) / 1e6,
        lenMs: fb.windowNs / 1e6,
        mode: fb.mode,
        applied: fb.applied,
        knob: fb.knobs[0],
        raKb: this.raKb.get(fb.epoch) ?? null,
        eff: fb.eff,
        baselineEff: fb.baselineEff,
        idle: (fb.reasons & REASON_IDLE) !== 0,
        unreliable: (fb.reasons & REASON_UNRELIABLE) !== 0,
        faultShare: own ? f('fault_share') : null,
        seqShare: own ? f('seq_read_share') : null,
        ownShare: own ? f('own_ra_share') : null,
        missed: own ? f('missed_calls') : null,
      });
      this.raKb.delete(fb.epoch);
    }
    const status = this.dev.getStatus(this.sub.id);
    if (status.transitions !== this.lastStatus.transitions) {
      this.transitions.push({
        epoch: status.lastTransitionEpoch,
        tMs: (monoNs() - this.zeroNs) / 1e6,
        from: this.lastStatus.mode,
        to: status.mode,
        reason: status.lastTransition,
        count: status.transitions - this.lastStatus.transitions,
      });
    }
    this.lastStatus = status;
  }

  /** Waits, how many came back with no record, and the longest wait past its timeout (ms). */
  readonly waits = { n: 0, empty: 0, lateMaxMs: 0 };

  async pump(ms: number): Promise<void> {
    const t0 = performance.now();
    const records = await this.dev.waitFeedback(ms);
    this.waits.n++;
    if (records.length === 0) this.waits.empty++;
    this.waits.lateMaxMs = Math.max(this.waits.lateMaxMs, performance.now() - t0 - ms);
    this.take(records);
  }

  status(): Status {
    return this.dev.getStatus(this.sub.id);
  }
}

/** Runs a workload's readers; resolves with their combined throughput. */
async function runWorkload(plans: ReaderPlan[]): Promise<WorkloadThroughput> {
  const outs = await Promise.all(
    plans.map(async (p) => {
      const r = await runAsync(p.cmd, p.args, p.env);
      if (r.code !== 0) {
        throw new Error(`${p.cmd} ${p.args[0]} exited ${r.code}: ${r.stderr.slice(0, 500)}`);
      }
      return parseReaderOutputs(r.stdout);
    }),
  );
  return combine(outs.flat());
}

function statusRecord(st: Status): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const [k, v] of Object.entries(st)) {
    if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  st.modeWindows.forEach((n, i) => (out[`modeWindows${i}`] = n));
  return out;
}

/** Windows that overlap the run [0, runtimeMs] (time zero: the first byte). */
function inRun(windows: WindowRecord[], runtimeMs: number): WindowRecord[] {
  return windows.filter((w) => w.tMs + w.lenMs > 0 && w.tMs < runtimeMs);
}

class Bench {
  private dev: IoctlDevice | null = null;
  private sub: Subsys | null = null;
  private loadedParams: string | null = null;
  readonly runs: RunRecord[] = [];
  private readonly files: DataFiles;
  private readonly sysfs: string;
  private baselineKb = 0;
  private hz = 100;
  private sampler: KernelStackSampler | null = null;

  constructor(private readonly o: Options) {
    this.files = dataFiles(o.dataDir, o.seqFiles, o.bigFiles);
    for (const f of [...this.files.seq, ...this.files.big]) {
      if (!fs.existsSync(f))
        throw new Error(`data file ${f} missing: is the data disk mounted at ${o.dataDir}?`);
    }
    this.sysfs = `/sys/block/${o.dataDev}/queue/read_ahead_kb`;
    fs.mkdirSync(o.out, { recursive: true });
  }

  private readKb(): number {
    return Number(fs.readFileSync(this.sysfs, 'utf8').trim());
  }

  private writeKb(kb: number): void {
    fs.writeFileSync(this.sysfs, String(kb));
  }

  /** The module with these parameters (reloaded when they differ, or when `fresh`). */
  private async module(params: string[], fresh: boolean): Promise<Subsys> {
    const all = [`ra_dev=${this.o.dataDev}`, ...params];
    const key = all.join(' ');
    if (fresh || key !== this.loadedParams || !this.dev) {
      this.dev?.close();
      this.dev = null;
      await loadModule(this.o.ko, all);
      this.loadedParams = key;
      this.dev = new IoctlDevice('/dev/mlproxy');
      this.sub = findReadahead(this.dev);
    }
    return this.sub!;
  }

  /**
   * The fixed and default runs' parameters: no check windows (every window can run the
   * arm), and the longest heartbeat timeout: a fixed arm measures a setting, and the
   * heartbeat it must keep is the bench's own (a guest stall of a few seconds that delays
   * this process would fall to EMERGENCY and drop the setting, which no reader asked for).
   */
  private get fixedParams(): string[] {
    return [
      ...this.o.moduleParams.filter(
        (p) => !p.startsWith('check_period=') && !p.startsWith('heartbeat_ms='),
      ),
      'check_period=0',
      `heartbeat_ms=${FIXED_HEARTBEAT_MS}`,
    ];
  }

  private async evict(): Promise<number | null> {
    const r = await runAsync(this.o.reader, ['evict', ...this.files.seq, ...this.files.big]);
    if (r.code !== 0) throw new Error(`eviction failed: ${r.stderr}`);
    try {
      return Number(JSON.parse(r.stdout.trim()).resident_bytes);
    } catch {
      return null;
    }
  }

  /** The readers; a job runs `cycles` cycles, or (null) whole cycles for `seconds`. */
  private plans(
    workload: WorkloadName,
    seconds: number,
    repeat: number,
    cycles: number | null,
  ): ReaderPlan[] {
    return readerPlans(workload, this.o.reader, this.files, {
      seconds,
      cycles,
      seed: repeat,
      dataDir: this.o.dataDir,
    });
  }

  /**
   * Awaits p while the recorder keeps pumping the windows (a fixed arm's mlp-pin
   * recommends on its own meanwhile: an eviction takes a second or more under TCG).
   */
  private async pumping<T>(rec: Recorder, sub: Subsys, p: Promise<T>): Promise<T> {
    let done = false;
    const outcome = p.finally(() => (done = true));
    while (!done) await rec.pump(sub.windowMs);
    return outcome;
  }

  /** Runs the workload while the recorder pumps the windows; returns the throughput. */
  private async measure(
    rec: Recorder,
    sub: Subsys,
    plans: ReaderPlan[],
    daemonPid: number | null = null,
  ): Promise<
    WorkloadThroughput & {
      vm: Record<string, number>;
      topTasks: RunRecord['topTasks'];
      bench: RunRecord['bench'];
      kernelStacks: KernelSamples | undefined;
    }
  > {
    // Where the bench (and the daemon) spend their time in the kernel, for the stall table
    // (opt-in: --kernel-stacks-ms).
    if (this.o.kernelStacksMs > 0) {
      this.sampler ??= new KernelStackSampler([process.pid], this.o.kernelStacksMs);
      this.sampler.watch(daemonPid === null ? [process.pid] : [process.pid, daemonPid]);
      await this.sampler.take();
    }
    const before = vmCounters();
    const tasksBefore = taskTicks();
    const threadsBefore = threadTicks(process.pid);
    const usage = process.resourceUsage();
    const waits = { ...rec.waits };
    rec.waits.lateMaxMs = 0;
    const t0 = monoNs();
    const r = await this.pumping(rec, sub, runWorkload(plans));
    // The windows in which the last bytes were delivered.
    for (let i = 0; i < 2; i++) await rec.pump(sub.windowMs * 2);
    rec.setZero(r.t0Ns);
    const top = topTasks(tasksBefore, taskTicks(), this.hz, (monoNs() - t0) / 1e6, 8);
    const u = process.resourceUsage();
    const kernelStacks = this.sampler ? await this.sampler.take() : undefined;
    return {
      ...r,
      kernelStacks,
      vm: vmDelta(before, vmCounters()),
      topTasks: top,
      // The bench's own cost: it shares the vCPU with the arm it measures.
      bench: {
        userMs: (u.userCPUTime - usage.userCPUTime) / 1000,
        systemMs: (u.systemCPUTime - usage.systemCPUTime) / 1000,
        majorFaults: u.majorPageFault - usage.majorPageFault,
        involuntarySwitches: u.involuntaryContextSwitches - usage.involuntaryContextSwitches,
        waits: rec.waits.n - waits.n,
        emptyWaits: rec.waits.empty - waits.empty,
        lateMaxMs: rec.waits.lateMaxMs,
        threads: threadDelta(threadsBefore, threadTicks(process.pid), this.hz),
      },
    };
  }

  async fixedRun(workload: WorkloadName, setting: number | null, repeat: number): Promise<void> {
    const via = setting === null ? null : this.o.fixedVia;
    const sub = await this.module(this.fixedParams, false);
    const dev = this.dev!;
    const rec = new Recorder(dev, sub);
    // A fixed arm's setting is held by mlp-pin, a process of its own (demo/pin.c says why).
    const pin = via === 'mlproxy' ? new Pin(this.o.pin!, sub.id, [setting!]) : null;
    if (pin) {
      const reached = () => rec.windows.some((w) => w.applied && w.knob === setting);
      for (let i = 0; i < 50 && !reached(); i++) {
        pin.check();
        await rec.pump(sub.windowMs * 2);
      }
      if (!reached()) {
        await pin.stop();
        throw new Error(`the knob never reached ${setting} (see dmesg)`);
      }
    } else {
      dev.setMode(sub.id, Mode.Emergency, true);
      dev.release(sub.id);
      if (via === 'sysfs') this.writeKb(2 ** setting!);
    }
    const residentBytes = await this.pumping(rec, sub, this.evict());
    const startedAt = new Date().toISOString();
    const r = await this.measure(
      rec,
      sub,
      this.plans(workload, this.o.fixedSeconds, repeat, this.o.phaseCycles),
    );
    const held = pin ? await pin.stop() : null;
    if (via === 'sysfs') this.writeKb(this.baselineKb);
    const runtimeMs = (r.endNs - r.t0Ns) / 1e6;
    const windows = inRun(rec.windows, runtimeMs);
    const at = windows.filter((w) =>
      via === 'mlproxy'
        ? w.applied && w.knob === setting
        : !w.applied &&
          (w.raKb === null || w.raKb === (via === 'sysfs' ? 2 ** setting! : this.baselineKb)),
    );
    this.runs.push({
      kind: setting === null ? 'default' : 'fixed',
      workload,
      repeat,
      setting: setting ?? sub.knob.def,
      via,
      policy: null,
      startedAt,
      moduleParams: this.loadedParams!.split(' '),
      throughputKiBs: r.throughputKiBs,
      steadyKiBs: r.steadyKiBs,
      runtimeMs,
      perSecondMiBs: r.perSecondMiBs,
      cycles: r.cycles,
      windows,
      transitions: rec.transitions,
      holdShare: windows.length ? at.length / windows.length : null,
      repins: held?.repins ?? 0,
      daemon: null,
      daemonSummary: null,
      status: statusRecord(rec.status()),
      residentBytes,
      vm: r.vm,
      topTasks: r.topTasks,
      bench: r.bench,
      kernelStacks: r.kernelStacks,
    });
    log(
      `${workload} ${setting === null ? 'default' : `fixed ${2 ** setting} KiB`} #${repeat}: ` +
        `${(r.steadyKiBs / 1024).toFixed(2)} MiB/s steady, ${(r.throughputKiBs / 1024).toFixed(2)} whole, ` +
        `${windows.length ? ((100 * at.length) / windows.length).toFixed(0) : '-'}% of ${windows.length} windows at the setting` +
        (held?.repins ? `, pinned again ${held.repins} times` : '') +
        (held?.refused
          ? `, ${held.refused} recommendations refused (${held.messages.join('; ')})`
          : ''),
    );
  }

  /** Starts the daemon with a policy on a fresh module; resolves once it controls readahead. */
  private async startDaemon(
    policy: string,
    repeat: number,
    dir: string,
    params: string[] = this.o.moduleParams,
  ) {
    const sub = await this.module(params, true);
    const dev = this.dev!;
    const rec = new Recorder(dev, sub);
    const p = DAEMON_POLICIES[policy];
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
        p.profile
          ? { name: 'readahead' }
          : {
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
      [...this.o.daemonNodeArgs, 'dist/cli/main.js', 'run', '--config', cfgFile, '--no-pretty'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    // Node starts slowly under TCG: give it a minute.
    const deadline = monoNs() + 60e9;
    while (!rec.status().controlled) {
      if (monoNs() > deadline || child.exitCode !== null) {
        if (child.exitCode === null) child.kill('SIGKILL');
        const code = await exited; // its output is all read once it closed
        throw new Error(
          `the daemon (exit ${code}) did not take control of readahead: ${output.slice(-2000)}`,
        );
      }
      await rec.pump(100);
    }
    const stop = async (): Promise<{ code: number | null; output: string }> => {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15000);
      const code = await exited;
      clearTimeout(killer);
      return { code, output };
    };
    return { sub, rec, child, config, stop };
  }

  private cost(a: ProcUsage | null, b: ProcUsage | null, runMs: number): DaemonCost | null {
    return a && b
      ? {
          cpuRunMs: b.cpuMs - a.cpuMs,
          ...(Number.isFinite(b.runMs - a.runMs) ? { onCpuRunMs: b.runMs - a.runMs } : {}),
          systemRunMs: b.systemMs - a.systemMs,
          mainThreadRunMs: b.mainThreadMs - a.mainThreadMs,
          majorFaults: b.majorFaults - a.majorFaults,
          minorFaults: b.minorFaults - a.minorFaults,
          voluntarySwitches: b.voluntarySwitches - a.voluntarySwitches,
          involuntarySwitches: b.involuntarySwitches - a.involuntarySwitches,
          runMs,
          rssKb: b.rssKb,
          hwmKb: b.hwmKb,
        }
      : null;
  }

  /** A daemon run's cost, and its second half's when the midpoint was sampled. */
  private daemonCost(
    start: ProcUsage | null,
    startNs: number,
    mid: { u: ProcUsage | null; ns: number } | null,
    end: ProcUsage | null,
    endNs: number,
  ): DaemonCost | null {
    const whole = this.cost(start, end, (endNs - startNs) / 1e6);
    const late = mid ? this.cost(mid.u, end, (endNs - mid.ns) / 1e6) : null;
    return whole && late ? { ...whole, secondHalf: late } : whole;
  }

  async daemonRun(workload: WorkloadName, policy: string, repeat: number): Promise<void> {
    const dir = `/tmp/daemon-${policy}`;
    const { sub, rec, child, config, stop } = await this.startDaemon(policy, repeat, dir);
    const residentBytes = await this.pumping(rec, sub, this.evict());
    const atStart = procUsage(child.pid!, this.hz);
    const startedAt = new Date().toISOString();
    const t0 = monoNs();
    // The daemon's usage at the workload's midpoint too: its second half is the steady state.
    let atMid: { u: ProcUsage | null; ns: number } | null = null;
    const midTimer = setTimeout(
      () => (atMid = { u: procUsage(child.pid!, this.hz), ns: monoNs() }),
      (this.o.daemonSeconds * 1000) / 2,
    );
    const r = await this.measure(
      rec,
      sub,
      this.plans(workload, this.o.daemonSeconds, repeat, null),
      child.pid!,
    );
    clearTimeout(midTimer);
    const atEnd = procUsage(child.pid!, this.hz);
    const endNs = monoNs();
    const st = rec.status();
    const { code, output } = await stop();
    const runtimeMs = (r.endNs - r.t0Ns) / 1e6;
    const logDir = nodePath.join(
      this.o.out,
      'daemon',
      `${workload.replace(/\W/g, '_')}-${policy}-${repeat}`,
    );
    fs.mkdirSync(logDir, { recursive: true });
    fs.writeFileSync(nodePath.join(logDir, 'daemon.log'), output);
    if (fs.existsSync(config.logDir))
      fs.cpSync(config.logDir, nodePath.join(logDir, 'decisions'), { recursive: true });
    const summaryAt = output.lastIndexOf('summary');
    this.runs.push({
      kind: 'daemon',
      workload,
      repeat,
      setting: null,
      via: null,
      policy,
      startedAt,
      moduleParams: this.loadedParams!.split(' '),
      throughputKiBs: r.throughputKiBs,
      steadyKiBs: r.steadyKiBs,
      runtimeMs,
      perSecondMiBs: r.perSecondMiBs,
      cycles: r.cycles,
      windows: inRun(rec.windows, runtimeMs),
      transitions: rec.transitions,
      holdShare: null,
      repins: 0,
      // Over the span the two samples cover (the daemon's stop, after them, is not in it).
      daemon: this.daemonCost(atStart, t0, atMid, atEnd, endNs),
      daemonSummary:
        summaryAt >= 0
          ? output.slice(summaryAt, summaryAt + 1500)
          : `exit ${code}: ${output.slice(-300)}`,
      status: statusRecord(st),
      residentBytes,
      vm: r.vm,
      topTasks: r.topTasks,
      bench: r.bench,
      kernelStacks: r.kernelStacks,
    });
    log(
      `${workload} daemon ${policy} #${repeat}: ${(r.steadyKiBs / 1024).toFixed(2)} MiB/s steady, ` +
        `mode ${st.mode}, exit ${code}`,
    );
  }

  /**
   * The module parameters of the idle-daemon cost run: the daemon runs' with 100 ms windows
   * (the window issue 10's cost goal names; the settle time at its default, half of it).
   */
  private get costParams(): string[] {
    return [
      ...this.o.moduleParams.filter(
        (p) => !p.startsWith('ra_window_ms=') && !p.startsWith('ra_settle_ms='),
      ),
      `ra_window_ms=${COST_WINDOW_MS}`,
    ];
  }

  /** The daemon's cost with nothing to read: every window idle, at 100 ms windows. */
  async idleDaemonRun(policy: string): Promise<void> {
    const { sub, rec, child, stop } = await this.startDaemon(
      policy,
      1,
      `/tmp/daemon-idle-${policy}`,
      this.costParams,
    );
    // Its start-up (JIT compilation, the first collections, the first checkpoint) is not
    // its steady cost: measure after COST_SETTLE_S, as scripts/vm/idle-cpu.sh does.
    const settled = monoNs() + COST_SETTLE_S * 1e9;
    while (monoNs() < settled) await rec.pump(sub.windowMs);
    const a = procUsage(child.pid!, this.hz);
    const t0 = monoNs();
    while (monoNs() - t0 < this.o.costSeconds * 1e9) await rec.pump(sub.windowMs);
    const b = procUsage(child.pid!, this.hz);
    const runMs = (monoNs() - t0) / 1e6;
    const st = rec.status();
    const { code } = await stop();
    const daemon = this.cost(a, b, runMs);
    this.runs.push({
      kind: 'idle-daemon',
      workload: 'idle',
      repeat: 1,
      setting: null,
      via: null,
      policy,
      startedAt: new Date(Date.now() - runMs).toISOString(),
      moduleParams: this.loadedParams!.split(' '),
      throughputKiBs: 0,
      steadyKiBs: 0,
      runtimeMs: runMs,
      perSecondMiBs: [],
      cycles: [],
      windows: [],
      transitions: rec.transitions,
      holdShare: null,
      repins: 0,
      daemon,
      daemonSummary: `exit ${code}`,
      status: statusRecord(st),
      residentBytes: null,
    });
    log(
      `idle daemon ${policy}: ${daemon ? ((100 * daemon.cpuRunMs) / daemon.runMs).toFixed(1) : '?'}% CPU over ${(runMs / 1000).toFixed(0)} s`,
    );
  }

  async main(): Promise<Results> {
    const o = this.o;
    const startedAt = new Date().toISOString();
    this.hz = await clockTicks();
    this.baselineKb = this.readKb();
    const sub = await this.module(this.fixedParams, true);
    const grid = o.grid ?? [];
    if (grid.length === 0) {
      for (let v = sub.knob.min; v <= sub.knob.max; v += sub.knob.step) grid.push(v);
    }
    for (const g of grid) {
      if (g < sub.knob.min || g > sub.knob.max)
        throw new Error(`--grid value ${g} is outside the knob's ${sub.knob.min}..${sub.knob.max}`);
    }
    const arms: (number | null)[] = [null, ...grid];
    // The phase job skips the settings that cannot be its best (PHASE_MIN_SETTING); the
    // pread control needs only the grid's ends and the default to show it is immune.
    const armsOf = (w: WorkloadName) =>
      isJob(w)
        ? arms.filter((a) => a === null || a >= PHASE_MIN_SETTING)
        : w === 'pread'
          ? arms.filter(
              (a) =>
                a === null || a === grid[0] || a === grid[grid.length - 1] || a === sub.knob.def,
            )
          : arms;
    await must('sh', ['-c', 'sync; echo 3 > /proc/sys/vm/drop_caches']);
    const save = () => this.save(startedAt, sub, grid);
    if (o.phases.has('cost')) for (const p of o.policies) await this.idleDaemonRun(p);
    if (o.phases.has('fixed')) {
      for (let rep = 1; rep <= o.repeats; rep++) {
        for (const w of o.workloads) {
          // Rotate the order each repeat so that no arm always runs first or last.
          const mine = armsOf(w);
          const shift = ((rep - 1) * 2) % mine.length;
          for (const arm of [...mine.slice(shift), ...mine.slice(0, shift)]) {
            await this.fixedRun(w, arm, rep);
          }
        }
        save();
      }
    }
    if (o.phases.has('daemon')) {
      for (let rep = 1; rep <= o.repeats; rep++) {
        for (const w of o.workloads) {
          for (const p of o.policies) await this.daemonRun(w, p, rep);
        }
        save();
      }
    }
    this.dev?.close();
    this.dev = null;
    await unloadModule();
    if (this.readKb() !== this.baselineKb) {
      throw new Error(`read_ahead_kb is ${this.readKb()}, not the ${this.baselineKb} it was`);
    }
    return save();
  }

  private save(startedAt: string, sub: Subsys, grid: number[]): Results {
    const o = this.o;
    const meta: ResultsMeta = {
      version: RESULTS_VERSION,
      startedAt,
      finishedAt: new Date().toISOString(),
      kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
      cpuStringOps: stringOpFlags(fs.readFileSync('/proc/cpuinfo', 'utf8')),
      storage: o.storage,
      dataDev: o.dataDev,
      guestMemoryMb: o.guestMemoryMb,
      moduleParams: [`ra_dev=${o.dataDev}`, ...o.moduleParams],
      windowMs: sub.windowMs,
      knob: {
        name: sub.knob.name,
        min: sub.knob.min,
        max: sub.knob.max,
        def: sub.knob.def,
        maxDelta: sub.knob.maxDelta,
      },
      baselineKb: this.baselineKb,
      repeats: o.repeats,
      fixedSeconds: o.fixedSeconds,
      daemonSeconds: o.daemonSeconds,
      phaseCycles: { fixed: o.phaseCycles, daemon: 0 },
      grid,
      fixedVia: o.fixedVia,
      fixedHeldBy: 'mlp-pin',
      kernelStacksMs: o.kernelStacksMs,
      policies: o.policies.map((name) => ({ name, ...DAEMON_POLICIES[name] })),
      workloads: o.workloads,
      dataFiles: {
        count: this.files.seq.length + this.files.big.length,
        bytes: [...this.files.seq, ...this.files.big].reduce((a, f) => a + fs.statSync(f).size, 0),
      },
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
