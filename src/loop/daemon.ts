/**
 * The daemon: runs one SubsystemLearner per enabled subsystem on one device, all in one
 * event loop. Each turn it lets every learner look at its state (and submit when a new
 * advice window allows it), then sleeps in device.waitFeedback() until the kernel closes
 * a window, and hands each feedback record to its subsystem's learner. Around that:
 * the decision log, checkpoints (and a status file), metrics, progress lines, config
 * reload, a clean stop, and reconnecting with backoff when the module goes away.
 *
 * Its files: one daemon per state (and log) directory (a kernel-released lock; a second
 * daemon gets a DirLockedError naming the holder's pid). Nothing is lost silently: a
 * failed decision-log append stops the daemon (the log is cut back, never torn mid-file);
 * a failed checkpoint keeps the older ones and is retried on the cadence, and stops the
 * daemon after MAX_CHECKPOINT_FAILURES in a row. A stop by a storage failure closes the
 * device first (the kernel runs its baseline), marks status.json stopped with the reason,
 * and run() rejects with the StorageError, which names the file and the fix.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { performance } from 'node:perf_hooks';
import { deriveSeed } from '../../policies/rng.js';
import { CheckpointStore } from '../checkpoint/store.js';
import { checkSubsystemsOnDevice, settingsFor } from '../config/load.js';
import type { DaemonConfig, SubsystemSettings } from '../config/schema.js';
import { DecisionLogWriter } from '../decisionlog/writer.js';
import type { DecisionRecord, RewardRecord } from '../decisionlog/record.js';
import type { Logger } from '../logging.js';
import type { DaemonMetrics, MetricsServer } from '../metrics/metrics.js';
import { startMetricsServer } from '../metrics/metrics.js';
import { REASON_GONE } from '../abi/constants.js';
import {
  StorageError,
  nodeIo,
  removeDeadTemps,
  storageError,
  writeAll,
  writeFileAtomic,
} from '../storage/io.js';
import type { FileIo } from '../storage/io.js';
import { lockDirectory } from '../storage/lock.js';
import type { DirLock } from '../storage/lock.js';
import { DeviceError, MODE_NAMES } from '../transport/device.js';
import type { Feedback, MlpDevice, Status } from '../transport/device.js';
import { BASELINE_REWARD } from './features.js';
import type { DaemonHooks, HookContext, HookSubsystem } from './hooks.js';
import { SubsystemLearner } from './learner.js';
import type { LearnerCheckpoint, LearnerSettings, LearnerSink } from './learner.js';

/** errno codes that mean "the device or module went away": reopen with backoff. */
export const RECONNECT_CODES = new Set(['ENODEV', 'EIO', 'ENOENT', 'EBADF', 'ENXIO']);

export const CHECKPOINT_PAYLOAD_VERSION = 1;

export interface CheckpointPayload {
  version: typeof CHECKPOINT_PAYLOAD_VERSION;
  savedAt: string;
  /** Daemon starts that contributed to this state. */
  runs: number;
  learners: LearnerCheckpoint[];
}

export interface SubsystemSummary {
  name: string;
  mode: string;
  decisions: number;
  fallbackDecisions: number;
  updates: number;
  meanReward: number | null;
  /** Share of applied windows whose efficiency was below the baseline reference. */
  belowBaselineShare: number | null;
  verdicts: Record<string, number>;
  collapses: number;
  budgetLeft: number | null;
  policy: string;
}

export interface RunSummary {
  runId: string;
  stopReason: string;
  /** Decisions made by this run (the per-subsystem counts include earlier runs). */
  decisions: number;
  elapsedMs: number;
  device: string;
  resumedFrom: string | null;
  lastCheckpoint: string | null;
  subsystems: SubsystemSummary[];
}

export interface DaemonOptions {
  config: DaemonConfig;
  /** The device, already open. */
  device: MlpDevice;
  /** Reopens the device after it went away (defaults to failing). */
  reopenDevice?: () => MlpDevice;
  logger: Logger;
  metrics?: DaemonMetrics;
  /** Stop after this many decisions in this run. */
  maxDecisions?: number;
  /** Stop after this much wall-clock time. */
  durationMs?: number;
  runId?: string;
  /** File operations of the checkpoints, decision log and status file (tests inject faults). */
  io?: FileIo;
  /** Called on every turn of the loop and while waiting to reconnect (the systemd watchdog). */
  onAlive?: () => void;
  /** Called once the daemon holds its directories, has resumed and is about to loop. */
  onStarted?: () => void;
  /** Sees every decision and reward record and may hand in policies to adopt (src/fleet/). */
  hooks?: DaemonHooks;
  /**
   * While every subsystem's windows are idle, read feedback at most this often (ms), the
   * records of several windows at once. Default: IDLE_WAIT_MS on a device whose windows
   * run in real time, 0 (every window) on the simulated device's virtual clock.
   */
  idleWaitMs?: number;
}

/** Checkpoint failures in a row after which the daemon stops (its learning can no longer be saved). */
export const MAX_CHECKPOINT_FAILURES = 3;

export const DECISION_LOG_NAME = 'decisions.jsonl';
export const STATUS_FILE_NAME = 'status.json';

function toLearnerSettings(s: SubsystemSettings, seed: number): LearnerSettings {
  return {
    policy: s.policy,
    conservative: s.conservative === false ? null : { alpha: s.conservative.alpha },
    exploration: s.exploration.epsilon,
    seed,
    maxArms: s.maxArms,
    safety: { ...s.safety },
    adviceWindowsOnly: s.adviceWindowsOnly,
    ttlMs: s.ttlMs,
    heartbeatMs: s.heartbeatMs,
  };
}

const EVENT_LOG_INTERVAL_MS = 5000;
/**
 * The idle daemon's wake-up period (see DaemonOptions.idleWaitMs): well under the module's
 * default heartbeat_ms (2000), and not above a subsystem's heartbeatMs setting.
 */
export const IDLE_WAIT_MS = 500;
/** Idle windows in a row, in every subsystem, after which the daemon waits idly. */
export const IDLE_RUN_WINDOWS = 3;
/** How often the daemon looks for subsystems that (re)appeared. */
const GENERATION_CHECK_MS = 5000;

export class Daemon implements LearnerSink {
  readonly runId: string;
  private config: DaemonConfig;
  private device: MlpDevice;
  private readonly log: Logger;
  private readonly metrics?: DaemonMetrics;
  private metricsServer?: MetricsServer;
  private readonly learners: SubsystemLearner[] = [];
  private byId = new Map<number, SubsystemLearner>();
  /** The registry generation the learners were attached at. */
  private generation = 0;
  private lastGenerationCheckMs = 0;
  private store!: CheckpointStore;
  private writer!: DecisionLogWriter;
  private stopReason: string | null = null;
  private wakeSleep: (() => void) | null = null;
  private runDecisions = 0;
  private decisionsAtCheckpoint = 0;
  private lastCheckpointMs = 0;
  private lastProgressMs = 0;
  private startMs = 0;
  private runs = 1;
  private resumedFrom: string | null = null;
  private lastCheckpoint: string | null = null;
  private stepStart = 0;
  private locks: DirLock[] = [];
  /** The storage failure that stops this run, if any. */
  private fatal: StorageError | null = null;
  private checkpointFailuresInARow = 0;
  private checkpointsThisRun = 0;
  /** Counters of the learners when this run started (metrics count this process only). */
  private countedStats = new Map<string, { fallbacks: number; lost: number; collapses: number }>();
  /** The gauges as last set, per subsystem (set again only when they change). */
  private shownGauges = new Map<string, { mode: number; budget: number | undefined }>();
  /** The feedback wait of every turn and the idle wait, from the attached subsystems. */
  private waitMs = 500;
  private idleWaitMs = 0;
  /** Policy updates of all learners at the last checkpoint. */
  private updatesAtCheckpoint = 0;

  constructor(private readonly options: DaemonOptions) {
    this.config = options.config;
    this.device = options.device;
    this.log = options.logger;
    this.metrics = options.metrics;
    this.runId = options.runId ?? `${Date.now().toString(36)}-${process.pid.toString(36)}`;
  }

  get metricsPort(): number | undefined {
    return this.metricsServer?.port;
  }

  /** Asks the loop to stop after the current step (signals call this). */
  requestStop(reason: string): void {
    if (this.stopReason === null) this.stopReason = reason;
    this.wakeSleep?.();
    this.device.interruptWait();
  }

  /** Applies a new config (SIGHUP); settings that need a restart are reported. */
  async reload(next: DaemonConfig): Promise<void> {
    const old = this.config;
    const needRestart = (['device', 'stateDir', 'logDir'] as const).filter(
      (k) => old[k] !== next[k],
    );
    if (JSON.stringify(old.sim) !== JSON.stringify(next.sim)) needRestart.push('sim' as never);
    if (JSON.stringify(old.decisionLog) !== JSON.stringify(next.decisionLog)) {
      needRestart.push('decisionLog' as never);
    }
    if (JSON.stringify(old.fleet) !== JSON.stringify(next.fleet))
      needRestart.push('fleet' as never);
    if (needRestart.length) {
      this.log.warn(
        `config reload: ${needRestart.join(', ')} changed; they take effect on restart`,
      );
    }
    this.config = { ...next, device: old.device, stateDir: old.stateDir, logDir: old.logDir };
    this.config.sim = old.sim;
    this.config.decisionLog = old.decisionLog;
    this.config.fleet = old.fleet;
    this.log.level = next.logLevel;
    this.learners.forEach((l, i) => {
      const s = settingsFor(next, l.name);
      if (s) l.reconfigure(toLearnerSettings(s, deriveSeed(next.seed, i)));
    });
    this.setWaits();
    if (old.metrics.port !== next.metrics.port) {
      await this.metricsServer?.close();
      this.metricsServer = undefined;
      await this.startMetrics();
    }
    this.log.info('config reloaded');
  }

  private async startMetrics(): Promise<void> {
    const port = this.config.metrics.port;
    if (port === null || !this.metrics) return;
    this.metrics.enableProcessMetrics();
    this.metricsServer = await startMetricsServer(this.metrics.registry, port);
    this.log.info(`metrics on http://127.0.0.1:${this.metricsServer.port}/metrics`);
  }

  // LearnerSink --------------------------------------------------------------------

  decision(l: SubsystemLearner, record: DecisionRecord): void {
    this.appendLog(record);
    this.options.hooks?.decision?.(this.hookContext(l), record);
    this.runDecisions++;
    if (this.metrics) {
      this.metrics.decisions.inc({ subsystem: l.name });
      this.metrics.verdicts.inc({ subsystem: l.name, verdict: record.verdict });
      // A histogram observation costs a bucket search and label hashing per window, and
      // only a metrics scrape reads it: none is made while no metrics are served.
      if (this.metricsServer) {
        this.metrics.loopLatency.observe((performance.now() - this.stepStart) / 1000);
      }
    }
  }

  reward(l: SubsystemLearner, record: RewardRecord, updated: boolean): void {
    this.appendLog(record);
    this.options.hooks?.reward?.(this.hookContext(l), record, updated);
    if (updated && this.metrics && this.metricsServer) {
      this.metrics.rewards.observe({ subsystem: l.name }, record.reward);
    }
  }

  /** Appends to the decision log; a failure stops the daemon after this step. */
  private appendLog(record: DecisionRecord | RewardRecord): void {
    if (this.writer.failure) return;
    try {
      this.writer.append(record);
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      this.metrics?.logWriteFailures.inc();
      this.stopForStorage(err);
    }
  }

  /** A storage failure that ends the run: the device is closed at once (kernel baseline). */
  private stopForStorage(err: StorageError): void {
    if (this.fatal) return;
    this.fatal = err;
    this.log.error({ path: err.path, code: err.code }, `${err.message}; stopping`);
    this.releaseDevice();
    this.requestStop(`storage failure (${err.code}) on ${err.path}`);
  }

  private releaseDevice(): void {
    try {
      this.device.close();
    } catch {
      // already closed
    }
  }

  private readonly eventsSeen = new Map<string, { at: number; suppressed: number }>();

  /** Safety events, rate-limited per subsystem and message to one line every 5 s. */
  event(l: SubsystemLearner, message: string, fields?: Record<string, unknown>): void {
    const key = `${l.name}\0${message}`;
    const now = Date.now();
    const seen = this.eventsSeen.get(key);
    if (seen && now - seen.at < EVENT_LOG_INTERVAL_MS) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.eventsSeen.set(key, { at: now, suppressed: 0 });
    const again = suppressed ? ` (and ${suppressed} more times since the last report)` : '';
    this.log.warn({ subsystem: l.name, ...fields }, `${l.name}: ${message}${again}`);
  }

  // Run ----------------------------------------------------------------------------

  async run(): Promise<RunSummary> {
    const cfg = this.config;
    let error: unknown;
    let summary: RunSummary | undefined;
    try {
      for (const [dir, what] of [
        [cfg.stateDir, 'state directory'],
        [cfg.logDir, 'log directory'],
      ] as const) {
        try {
          fs.mkdirSync(dir, { recursive: true });
        } catch (err) {
          throw storageError(what, dir, err);
        }
        if (this.locks.some((l) => fs.realpathSync(l.dir) === fs.realpathSync(dir))) continue;
        this.locks.push(await lockDirectory(dir, what));
      }
      // Under the lock no other daemon writes here: temp files of dead processes are leftovers.
      const removed = removeDeadTemps(cfg.stateDir);
      if (removed.length)
        this.log.info(`removed temp files of crashed runs: ${removed.join(', ')}`);
      this.store = new CheckpointStore(cfg.stateDir, cfg.checkpoint.keep, { io: this.options.io });
      const loaded = this.store.loadLatest<CheckpointPayload>((m) => this.log.warn(m), {
        setAside: true,
      });
      this.writer = new DecisionLogWriter(nodePath.join(cfg.logDir, DECISION_LOG_NAME), {
        maxBytes: cfg.decisionLog.maxBytes,
        keep: cfg.decisionLog.keep,
        onWarning: (m) => this.log.warn(m),
        io: this.options.io,
      });
      this.setUpLearners(loaded?.payload);
      if (loaded) {
        this.resumedFrom = loaded.file;
        this.lastCheckpoint = loaded.file;
        this.runs = (loaded.payload.runs ?? 0) + 1;
        this.log.info(
          { checkpoint: loaded.file, seq: loaded.seq },
          `resumed from checkpoint ${nodePath.basename(loaded.file)} (saved ${loaded.time})`,
        );
      } else {
        this.log.info(`no checkpoint in ${cfg.stateDir}: starting fresh`);
      }
      this.attachAll();
      await this.startMetrics();
      this.startMs = performance.now();
      this.lastCheckpointMs = this.startMs;
      this.lastProgressMs = this.startMs;
      this.options.onStarted?.();
      await this.loop();
      this.finalCheckpoint();
      summary = this.summary();
    } catch (err) {
      error = err;
      // Keep what was learnt even when the loop failed (a device error, a bug).
      if (this.writer && this.learners.length) this.finalCheckpoint();
    } finally {
      // The kernel first: a closed device runs its baseline.
      this.releaseDevice();
      await this.metricsServer?.close();
      this.writer?.close();
      const failure = this.fatal ?? error;
      if (this.store) {
        this.writeStatus(
          false,
          failure ? `stopped by an error: ${(failure as Error).message}` : undefined,
        );
      }
      for (const l of this.locks.splice(0)) await l.release();
    }
    if (error !== undefined) throw error;
    if (this.fatal) throw this.fatal;
    return summary!;
  }

  private setUpLearners(payload: CheckpointPayload | undefined): void {
    const infos = this.device.listSubsystems();
    if (infos.length === 0) throw new Error(`${this.device.description}: no subsystems registered`);
    infos.forEach((info, i) => {
      const s = settingsFor(this.config, info.name);
      if (!s) {
        this.log.info(`${info.name}: disabled in the config`);
        return;
      }
      const l = new SubsystemLearner(
        info,
        toLearnerSettings(s, deriveSeed(this.config.seed, i)),
        this,
        this.runId,
      );
      const cp = payload?.learners?.find((c) => c.name === info.name);
      if (cp) {
        const why = l.resume(cp);
        if (why) this.log.warn(`${info.name}: checkpoint not used: ${why}; starting afresh`);
      }
      this.learners.push(l);
    });
    const { skipped } = checkSubsystemsOnDevice(
      this.config,
      infos.map((i) => i.name),
      this.device.description,
    );
    for (const name of skipped) {
      this.log.info(`${name}: not on this device (optional in the config): skipped`);
    }
    if (this.learners.length === 0) throw new Error('every subsystem is disabled in the config');
    for (const l of this.learners) {
      this.log.info(
        `${l.name}: ${l.grid.k} arms over ${l.info.knobs.map((k) => k.name).join(', ')}, ${l.d} features, policy ${l.policyLabel}`,
      );
    }
  }

  /**
   * Claims every learner's subsystem by name. With `keep`, a learner whose subsystem
   * is still there under the same id stays as it is (its pending decisions too).
   */
  private attachAll(keep = false): void {
    const infos = this.device.listSubsystems();
    this.generation = this.device.version().generation;
    const before = this.byId;
    this.byId = new Map();
    for (const l of this.learners) {
      const info = infos.find((i) => i.name === l.name);
      if (!info) {
        this.log.warn(`${l.name}: not on the device any more; idle until it returns`);
        continue;
      }
      if (!(keep && before.get(info.id) === l)) l.attach(this.device, info.id);
      this.byId.set(info.id, l);
    }
    // Only our subsystems' records are queued for this file.
    this.device.subscribe([...this.byId.keys()]);
    this.setWaits();
    if (this.options.hooks) {
      const v = this.device.version();
      this.abi = { major: v.abiMajor, minor: v.abiMinor };
      this.hookViews = new Map(
        this.learners.map((l) => [
          l.name,
          {
            name: l.name,
            signature: l.grid.signature(),
            k: l.grid.k,
            d: l.d,
            baselineArm: l.grid.baselineArm,
            policy: l.settings.policy,
          },
        ]),
      );
      this.options.hooks.attached?.(this.abi, [...this.hookViews.values()]);
    }
  }

  private abi = { major: 0, minor: 0 };
  private hookViews = new Map<string, HookSubsystem>();

  private hookContext(l: SubsystemLearner): HookContext {
    return { subsystem: this.hookViews.get(l.name)!, mode: l.mode, abi: this.abi };
  }

  /** Policies handed in by the hooks (verified there), applied between turns. */
  private applyAdoptions(): void {
    for (const req of this.options.hooks?.takeAdoptions?.() ?? []) {
      const l = this.learners.find((x) => x.name === req.subsystem);
      if (!l || !this.byId.has(l.id)) {
        req.settle({ adopted: false, reason: `subsystem ${req.subsystem} is not running here` });
        continue;
      }
      let outcome;
      try {
        outcome = l.adopt(req.snapshot, this.device);
      } catch (err) {
        req.settle({ adopted: false, reason: `device error: ${(err as Error).message}` });
        throw err;
      }
      if (outcome.adopted) {
        this.log.info(
          `${l.name}: adopted ${req.label}; kernel mode ${MODE_NAMES[outcome.modeBefore!]} -> ${MODE_NAMES[outcome.modeAfter!]}` +
            (outcome.reason ? ` (${outcome.reason})` : ''),
        );
      } else {
        this.log.warn(`${l.name}: ${req.label} not adopted: ${outcome.reason}`);
      }
      req.settle(outcome);
    }
  }

  /** A subsystem went away (GONE record) or the registry changed: attach anew. */
  private reattachIfChanged(records: readonly Feedback[]): void {
    for (const fb of records) {
      if (!(fb.reasons & REASON_GONE)) continue;
      const l = this.byId.get(fb.subsysId);
      if (l) this.log.warn(`${l.name}: the subsystem went away; idle until it returns`);
    }
    const now = performance.now();
    const gone = records.some((fb) => fb.reasons & REASON_GONE);
    if (!gone && now - this.lastGenerationCheckMs < GENERATION_CHECK_MS) return;
    this.lastGenerationCheckMs = now;
    if (!gone && this.device.version().generation === this.generation) return;
    this.attachAll(true);
  }

  /** The feedback wait (twice the shortest window, at most 500 ms) and the idle wait. */
  private setWaits(): void {
    let w = Infinity;
    let heartbeat = Infinity;
    for (const l of this.byId.values()) {
      w = Math.min(w, l.info.windowMs);
      heartbeat = Math.min(heartbeat, l.settings.heartbeatMs);
    }
    if (!Number.isFinite(w)) w = 250;
    this.waitMs = Math.max(1, Math.min(500, 2 * w));
    const virtual = this.config.sim.enabled && this.config.sim.clock === 'auto';
    const idle = Math.min(this.options.idleWaitMs ?? (virtual ? 0 : IDLE_WAIT_MS), heartbeat);
    // Waiting pays only when it spans windows: else it adds a wake-up to each read.
    this.idleWaitMs = idle >= 2 * w ? idle : 0;
  }

  /** Every attached subsystem's last IDLE_RUN_WINDOWS windows were idle. */
  private allIdle(): boolean {
    if (this.byId.size === 0) return false;
    for (const l of this.byId.values()) if (l.idleRun < IDLE_RUN_WINDOWS) return false;
    return true;
  }

  private stopDue(): string | null {
    if (this.stopReason) return this.stopReason;
    const o = this.options;
    if (o.maxDecisions !== undefined && this.runDecisions >= o.maxDecisions) {
      return `reached ${o.maxDecisions} decisions`;
    }
    if (o.durationMs !== undefined && performance.now() - this.startMs >= o.durationMs) {
      return `ran for ${o.durationMs / 1000} s`;
    }
    return null;
  }

  private async loop(): Promise<void> {
    let reason: string | null;
    let turns = 0;
    while ((reason = this.stopDue()) === null) {
      if (this.fatal) break;
      // A virtual-time device answers at once; let signals and metrics scrapes in now and then.
      if (++turns % 64 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        await this.turn();
      } catch (err) {
        if (err instanceof DeviceError && RECONNECT_CODES.has(err.code)) {
          await this.reconnect(err);
          continue;
        }
        throw err;
      }
      this.options.onAlive?.();
      if (this.fatal) break;
      const now = performance.now();
      const c = this.config.checkpoint;
      const sinceLast = this.runDecisions - this.decisionsAtCheckpoint;
      if (
        // Early in a run, so that a daemon that dies within seconds still saves.
        (this.checkpointsThisRun === 0 &&
          sinceLast >= Math.min(c.firstDecisions, c.everyDecisions)) ||
        sinceLast >= c.everyDecisions ||
        (now - this.lastCheckpointMs >= c.everySeconds * 1000 && this.learnedSinceCheckpoint())
      ) {
        this.writeCheckpoint();
      }
      if (
        this.config.progressSeconds > 0 &&
        now - this.lastProgressMs >= this.config.progressSeconds * 1000
      ) {
        this.lastProgressMs = now;
        this.log.info(`progress: ${this.progressLine()}`);
      }
    }
    reason ??= this.stopReason ?? 'stopped';
    this.stopReason = reason;
    this.log.info(`stopping: ${reason}`);
  }

  /** One turn: every learner looks and maybe submits, then wait for feedback. */
  private async turn(): Promise<void> {
    this.applyAdoptions();
    for (const l of this.byId.values()) {
      this.stepStart = performance.now();
      l.step(this.device);
    }
    // Idle: the records of several windows in one wake-up (the step above sent the
    // heartbeat when it was due). requestStop() cuts the wait short.
    if (this.idleWaitMs > 0 && this.allIdle()) {
      await this.sleep(this.idleWaitMs);
      if (this.stopReason !== null) return;
    }
    const records = await this.device.waitFeedback(this.waitMs);
    for (const fb of records) {
      if (!(fb.reasons & REASON_GONE)) this.byId.get(fb.subsysId)?.onFeedback(fb);
    }
    this.reattachIfChanged(records);
    if (this.metrics) for (const l of this.byId.values()) this.showLearner(l, this.metrics);
  }

  /**
   * The gauges (mode, exploration budget) and the per-process counters of safety
   * fallbacks, lost feedback and collapses, touched only when they changed: a metrics
   * update costs label hashing, and most windows change nothing.
   */
  private showLearner(l: SubsystemLearner, m: DaemonMetrics): void {
    const labels = { subsystem: l.name };
    const budget = l.budgetLeft();
    const shown = this.shownGauges.get(l.name);
    if (!shown || shown.mode !== l.mode || shown.budget !== budget) {
      if (!shown || shown.mode !== l.mode) m.mode.set(labels, l.mode);
      if (budget !== undefined && (!shown || shown.budget !== budget)) m.budget.set(labels, budget);
      this.shownGauges.set(l.name, { mode: l.mode, budget });
    }
    const was = this.countedStats.get(l.name);
    const fallbacks = l.stats.fallbackDecisions;
    const lost = l.stats.lostFeedback;
    const collapses = l.safety.collapses;
    if (was && was.fallbacks === fallbacks && was.lost === lost && was.collapses === collapses) {
      return;
    }
    this.countedStats.set(l.name, { fallbacks, lost, collapses });
    if (!was) return;
    if (fallbacks > was.fallbacks) m.fallbacks.inc(labels, fallbacks - was.fallbacks);
    if (lost > was.lost) m.lostFeedback.inc(labels, lost - was.lost);
    if (collapses > was.collapses) m.collapses.inc(labels, collapses - was.collapses);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeSleep = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleep = done;
    });
  }

  /** Keeps the models, reopens the device with exponential backoff, re-claims. */
  private async reconnect(cause: DeviceError): Promise<void> {
    this.log.warn(`device trouble: ${cause.message}; keeping the models and reopening`);
    this.releaseDevice();
    this.writeCheckpoint();
    let delay = 100;
    while (this.stopDue() === null) {
      this.options.onAlive?.();
      await this.sleep(delay);
      if (this.stopDue() !== null) return;
      try {
        if (!this.options.reopenDevice) throw cause;
        this.device = this.options.reopenDevice();
        this.attachAll();
        this.metrics?.deviceReconnects.inc();
        this.log.info(`device ${this.device.description} reopened; resuming`);
        return;
      } catch (err) {
        this.log.warn(`reopen failed (${(err as Error).message}); retrying in ${delay} ms`);
        delay = Math.min(delay * 2, 10000);
      }
    }
  }

  private lastCheckpointError: StorageError | null = null;

  private policyUpdates(): number {
    let n = 0;
    for (const l of this.learners) n += l.stats.updates + l.stats.skippedUpdates;
    return n;
  }

  /**
   * Whether a timed checkpoint has anything to save: a decision or a reward since the
   * last one. An idle daemon changes only counters (windows seen), which the next
   * checkpoint or the one at exit saves; it rewrites no files.
   */
  private learnedSinceCheckpoint(): boolean {
    return (
      this.runDecisions !== this.decisionsAtCheckpoint ||
      this.policyUpdates() !== this.updatesAtCheckpoint
    );
  }
  private lastKernel: Record<string, Status> | null = null;

  /** The checkpoint at the end of a run; its failure makes the run fail (learning lost). */
  private finalCheckpoint(): void {
    if (this.checkpointFailuresInARow >= MAX_CHECKPOINT_FAILURES) return;
    if (!this.writeCheckpoint() && !this.fatal && this.lastCheckpointError) {
      this.fatal = this.lastCheckpointError;
    }
  }

  /**
   * Writes a checkpoint (after flushing the decision log). A failure is logged with the
   * file and the fix, counted, keeps every older checkpoint, and is retried on the next
   * cadence; MAX_CHECKPOINT_FAILURES in a row stop the daemon. Returns success.
   */
  private writeCheckpoint(): boolean {
    if (!this.writer.failure) {
      try {
        this.writer.sync();
      } catch (err) {
        if (!(err instanceof StorageError)) throw err;
        this.metrics?.logWriteFailures.inc();
        this.stopForStorage(err);
      }
    }
    const payload: CheckpointPayload = {
      version: CHECKPOINT_PAYLOAD_VERSION,
      savedAt: new Date().toISOString(),
      runs: this.runs,
      learners: this.learners.map((l) => l.checkpoint()),
    };
    // Retry on the cadence, not on every turn.
    this.decisionsAtCheckpoint = this.runDecisions;
    this.updatesAtCheckpoint = this.policyUpdates();
    this.lastCheckpointMs = performance.now();
    this.checkpointsThisRun++;
    try {
      this.lastCheckpoint = this.store.save(payload);
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      this.metrics?.checkpointFailures.inc();
      this.checkpointFailuresInARow++;
      this.lastCheckpointError = err;
      const kept = this.lastCheckpoint
        ? `the last good checkpoint ${nodePath.basename(this.lastCheckpoint)} is kept`
        : 'no checkpoint of this state exists yet';
      if (this.checkpointFailuresInARow >= MAX_CHECKPOINT_FAILURES) {
        this.stopForStorage(
          new StorageError(
            `${err.message}; ${this.checkpointFailuresInARow} checkpoints failed in a row (${kept})`,
            err.path,
            err.code,
          ),
        );
      } else {
        this.log.error(
          { path: err.path, code: err.code },
          `checkpoint failed: ${err.message}; ${kept}; retrying on the cadence (${this.checkpointFailuresInARow} of ${MAX_CHECKPOINT_FAILURES} failures in a row stop the daemon)`,
        );
      }
      return false;
    }
    this.checkpointFailuresInARow = 0;
    this.metrics?.lastCheckpointTime.set(Date.now() / 1000);
    this.log.debug({ checkpoint: this.lastCheckpoint }, 'checkpoint written');
    this.writeStatus(true);
    return true;
  }

  /**
   * status.json for `mlproxy status`: atomic for readers, not fsynced (informational).
   * When the atomic write fails (a full disk has no room for a temp file) the file is
   * overwritten in place, so that a stop is still recorded; a failure here is only logged.
   */
  private writeStatus(running: boolean, error?: string): void {
    const status = {
      pid: process.pid,
      running,
      runId: this.runId,
      device: this.device.description,
      simulated: this.device.simulated,
      updatedAt: new Date().toISOString(),
      stopReason: running ? null : (this.stopReason ?? 'stopped'),
      error: error ?? null,
      resumedFrom: this.resumedFrom,
      lastCheckpoint: this.lastCheckpoint,
      runDecisions: this.runDecisions,
      subsystems: this.learners.map((l) => this.summariseLearner(l)),
      kernel: running ? (this.lastKernel = this.kernelStatus()) : this.lastKernel,
    };
    const file = nodePath.join(this.config.stateDir, STATUS_FILE_NAME);
    const text = JSON.stringify(status, null, 2) + '\n';
    try {
      writeFileAtomic(file, text, { durable: false, io: this.options.io, what: 'status file' });
    } catch (err) {
      try {
        const fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w');
        try {
          writeAll(this.options.io ?? nodeIo, fd, Buffer.from(text), 0);
          fs.ftruncateSync(fd, Buffer.byteLength(text));
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        this.log.warn(
          `${(err as Error).message}; mlproxy status may show this daemon's state as stale`,
        );
      }
    }
  }

  /** The kernel's counters of every attached subsystem (the simulated device lives only here). */
  private kernelStatus(): Record<string, Status> | null {
    const out: Record<string, Status> = {};
    try {
      for (const [id, l] of this.byId) out[l.name] = this.device.getStatus(id);
    } catch {
      return null;
    }
    return out;
  }

  private summariseLearner(l: SubsystemLearner): SubsystemSummary {
    const s = l.stats;
    return {
      name: l.name,
      mode: MODE_NAMES[l.mode] ?? String(l.mode),
      decisions: s.decisions,
      fallbackDecisions: s.fallbackDecisions,
      updates: s.updates,
      meanReward: s.updates ? s.rewardSum / s.updates : null,
      belowBaselineShare: s.appliedWindows ? s.belowBaseline / s.appliedWindows : null,
      verdicts: { ...s.verdicts },
      collapses: l.safety.collapses,
      budgetLeft: l.budgetLeft() ?? null,
      policy: l.policyLabel,
    };
  }

  progressLine(): string {
    return this.learners
      .map((l) => {
        const s = this.summariseLearner(l);
        const reward = s.meanReward === null ? '-' : s.meanReward.toFixed(3);
        const below =
          s.belowBaselineShare === null ? '-' : `${(100 * s.belowBaselineShare).toFixed(0)}%`;
        return `${s.name}: ${s.decisions} decisions, mode ${s.mode}, mean reward ${reward} (baseline ${BASELINE_REWARD}), ${below} of advice windows below baseline`;
      })
      .join(' | ');
  }

  summary(): RunSummary {
    return {
      runId: this.runId,
      stopReason: this.stopReason ?? 'running',
      decisions: this.runDecisions,
      elapsedMs: performance.now() - this.startMs,
      device: this.device.description,
      resumedFrom: this.resumedFrom,
      lastCheckpoint: this.lastCheckpoint,
      subsystems: this.learners.map((l) => this.summariseLearner(l)),
    };
  }
}
