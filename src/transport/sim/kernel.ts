/**
 * SimKernel: an in-process model of the mlproxy kernel module, following the
 * semantics written in kmod/include/uapi/linux/mlproxy.h (windows and epochs, the
 * advice schedule by mode, verdicts and reasons, feedback rings, the mode ladder,
 * control and permissions). Several open files (the fake kernel's, fake-kernel.ts)
 * attach to one kernel, which is how EBUSY (two controllers) and per-file feedback
 * rings are modelled.
 *
 * Clocks:
 *   real    windows end on setTimeout every window_ms (npm start);
 *   manual  virtual time; windows end only in advance()/advanceMs() (tests);
 *   auto    virtual time, and a read() of the fake kernel that finds nothing queued
 *           advances to the next window end at once (benchmarks: no real waiting).
 * Virtual windows are exactly window_ms long; with several subsystems, advance(n)
 * moves n times to the earliest next window end, closing every window ending then.
 * Everything is deterministic for given seeds in the virtual clocks.
 *
 * Like the module, windows are parked while no file is open (the defaults in force,
 * no window runs; the first open starts the next window, epoch + 1 after a park),
 * a feedback record carries the state of the window that began as it was queued,
 * efficiencies are within [0, 10^15] raw and a baseline reference <= 0 is none.
 */
import { performance } from 'node:perf_hooks';
import {
  ABI_MINOR,
  MAX_FEATURES,
  MAX_KNOBS,
  MAX_SUBSYS,
  MAX_TTL_MS,
  MODE_COLLABORATION,
  MODE_EMERGENCY,
  MODE_LEARNING,
  MODE_RECOMMENDATION,
  NR_MODES,
  REASON_BASELINE_WINDOW,
  REASON_EMERGENCY,
  REASON_EXPIRED,
  REASON_GONE,
  REASON_IDLE,
  REASON_OFF_GRID,
  REASON_OUT_OF_BOUNDS,
  REASON_RATE_LIMIT,
  REASON_STALE,
  REASON_STEP_LIMIT,
  REASON_UNRELIABLE,
  TRANS_ADMIN,
  TRANS_BASELINE,
  TRANS_CLOSED,
  TRANS_COLLAPSE,
  TRANS_HEARTBEAT,
  TRANS_NONE,
  TRANS_PROMOTE,
  TRANS_RECOVER,
  TRANS_REGRESSION,
  VERDICT_APPLIED,
  VERDICT_CLAMPED,
  VERDICT_NONE,
  VERDICT_REJECTED,
  VERDICT_SHADOWED,
} from '../../abi/constants.js';
import type {
  Feedback,
  ModeValue,
  RecommendResult,
  Recommendation,
  StateSnapshot,
  Status,
  SubsystemInfo,
  VerdictValue,
  VersionInfo,
} from '../device.js';
import { deviceError } from '../errors.js';
import type { SubsystemModel, WindowMeasure } from './model.js';
import { ReadaheadModel, type ReadaheadOptions } from './readahead.js';
import { SelftestModel, type SelftestOptions } from './selftest.js';
import { SyntheticModel, checkInt, type SyntheticOptions } from './synthetic.js';

/** The module parameters of kmod (same names, camelCase, same defaults). */
export interface KernelParams {
  learningPeriod: number;
  checkPeriod: number;
  promoteWindows: number;
  promoteMarginPct: number;
  demoteMarginPct: number;
  collapsePct: number;
  heartbeatMs: number;
  emergencyHoldWindows: number;
  maxEpochLag: number;
  defaultTtlMs: number;
  ringRecords: number;
}

export const DEFAULT_PARAMS: Readonly<KernelParams> = {
  learningPeriod: 10,
  checkPeriod: 16,
  promoteWindows: 8,
  promoteMarginPct: 2,
  demoteMarginPct: 5,
  collapsePct: 50,
  heartbeatMs: 2000,
  emergencyHoldWindows: 10,
  maxEpochLag: 1,
  defaultTtlMs: 1000,
  ringRecords: 256,
};

const PARAM_LIMITS: Record<keyof KernelParams, [number, number]> = {
  learningPeriod: [1, 1000000],
  checkPeriod: [0, 100000],
  promoteWindows: [1, 1000000],
  promoteMarginPct: [0, 100],
  demoteMarginPct: [0, 100],
  collapsePct: [0, 100],
  heartbeatMs: [1, 3600000],
  emergencyHoldWindows: [0, 1000000],
  maxEpochLag: [0, 1000000],
  defaultTtlMs: [1, MAX_TTL_MS],
  ringRecords: [1, 1 << 20],
};

export type ClockKind = 'real' | 'manual' | 'auto';

/** Advice windows waiting for their judgement, at most this many (MLP_PAIR_MAX). */
const PAIR_MAX = 4096;
/** The baseline windows advice is judged against are at most this many windows away (MLP_PAIR_GAP). */
const PAIR_GAP = 4;

export interface SimKernelOptions {
  clock?: ClockKind;
  params?: Partial<KernelParams>;
  /**
   * Which built-in subsystems to register, in order (default synthetic and readahead;
   * selftest, the test module's noiseless subsystem, only when asked for).
   */
  subsystems?: ('synthetic' | 'readahead' | 'selftest')[];
  synthetic?: SyntheticOptions;
  readahead?: ReadaheadOptions;
  selftest?: SelftestOptions;
  /** Extra models registered after the built-ins. */
  models?: SubsystemModel[];
}

/** The kernel side of one open file: its feedback ring and waiters. */
export class SimFile {
  readonly ring: Feedback[] = [];
  dropped = 0;
  closed = false;
  /** The ABI minor the file said it speaks (MLP_IOC_VERSION); GONE records need 1. */
  minor = 0;
  /** Subsystem ids whose records the file wants; empty: every subsystem. */
  subscribed: number[] = [];
  private readonly waiters = new Set<() => void>();

  wants(subsysId: number): boolean {
    return this.subscribed.length === 0 || this.subscribed.includes(subsysId);
  }

  constructor(
    readonly kernel: SimKernel,
    readonly privileged: boolean,
    readonly pid: number,
  ) {}

  /** Takes every queued record. */
  drain(): Feedback[] {
    return this.ring.splice(0, this.ring.length);
  }

  onRecord(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }

  wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

interface Pending {
  recId: number;
  deadlineNs: number;
  verdict: VerdictValue;
  reasons: number;
  knobs: number[];
}

/** One registered subsystem and its kernel state. */
class SimSubsystem {
  defaults: number[];
  epoch = 0;
  winStartNs = 0;
  /** Planned end of the window in progress (the next one's planned start). */
  planNs = 0;
  parked = true;
  started = false;
  resync = false;
  winMode: ModeValue = MODE_EMERGENCY;
  winAdvice = false;
  winRecId = 0;
  winVerdict: VerdictValue = VERDICT_NONE;
  winReasons = 0;
  knobs: number[];
  features: number[] = [];
  lastAdvised: number[];
  pending: Pending | null = null;
  nextRecId = 1;
  mode: ModeValue = MODE_EMERGENCY;
  pinned = false;
  /** The reference: the raw efficiency of the last measured baseline window; <= 0: none. */
  baselineEff = 0;
  haveBaseline = false;
  baseEpoch = 0;
  /** Advice windows measured since that window, waiting for the next one. */
  pairSum = 0;
  pairN = 0;
  pairFirst = 0;
  pairLast = 0;
  lastEff = 0;
  heartbeatMissed = false;
  hold = 0;
  goodStreak = 0;
  controller: SimFile | null = null;
  lastHeartbeatNs = 0;
  timer: NodeJS.Timeout | null = null;
  readonly c = {
    windows: 0,
    adviceWindows: 0,
    baselineWindows: 0,
    modeWindows: [0, 0, 0, 0] as [number, number, number, number],
    recs: 0,
    recsApplied: 0,
    recsClamped: 0,
    recsRejected: 0,
    recsShadowed: 0,
    recsExpired: 0,
    feedbackRecords: 0,
    feedbackDropped: 0,
    transitions: 0,
    promotions: 0,
    demotions: 0,
    emergencies: 0,
    heartbeatMisses: 0,
    lastTransitionEpoch: 0,
    lastTransition: TRANS_NONE,
    lateMaxNs: 0,
    replans: 0,
  };

  constructor(
    readonly id: number,
    readonly model: SubsystemModel,
  ) {
    this.defaults = model.knobs.map((k) => k.def);
    this.knobs = [...this.defaults];
    this.lastAdvised = [...this.defaults];
  }

  get windowNs(): number {
    return this.model.windowMs * 1e6;
  }

  info(): SubsystemInfo {
    const m = this.model;
    return {
      id: this.id,
      name: m.name,
      windowMs: m.windowMs,
      features: m.features.map((f) => ({ ...f })),
      // def follows an adopted baseline (MLP_TRANS_BASELINE), as in the kernel.
      knobs: m.knobs.map((k, i) => ({ ...k, def: this.defaults[i] })),
    };
  }
}

/** Raw efficiencies are clamped into [0, MLP_EFF_LIMIT]. */
const EFF_LIMIT = 1e15;

export class SimKernel {
  readonly clock: ClockKind;
  readonly params: Readonly<KernelParams>;
  /** Registered subsystems in registration order (the listing's index order). */
  private subs: SimSubsystem[] = [];
  private nextId = 1;
  private generation = 0;
  private readonly files = new Set<SimFile>();
  private virtualNs = 0;
  private readonly realOriginMs = performance.now();
  private stopped = false;

  constructor(opts: SimKernelOptions = {}) {
    this.clock = opts.clock ?? 'manual';
    if (!['real', 'manual', 'auto'].includes(this.clock)) {
      throw new RangeError(`clock must be "real", "manual" or "auto", got "${this.clock}"`);
    }
    const params = { ...DEFAULT_PARAMS };
    for (const [key, value] of Object.entries(opts.params ?? {})) {
      const limits = PARAM_LIMITS[key as keyof KernelParams];
      if (!limits) {
        throw new RangeError(
          `unknown kernel parameter "${key}"; known: ${Object.keys(DEFAULT_PARAMS).join(', ')}`,
        );
      }
      params[key as keyof KernelParams] = checkInt(`parameter ${key}`, value, ...limits);
    }
    if (params.checkPeriod === 1) {
      throw new RangeError('parameter checkPeriod 1 leaves no advice window: use 0 or 2..100000');
    }
    this.params = params;
    const models: SubsystemModel[] = [];
    for (const name of opts.subsystems ?? ['synthetic', 'readahead']) {
      if (name === 'synthetic') models.push(new SyntheticModel(opts.synthetic));
      else if (name === 'readahead') models.push(new ReadaheadModel(opts.readahead));
      else if (name === 'selftest') models.push(new SelftestModel(opts.selftest));
      else throw new RangeError(`unknown simulated subsystem "${String(name)}"`);
    }
    models.push(...(opts.models ?? []));
    if (models.length > MAX_SUBSYS) throw new RangeError(`at most ${MAX_SUBSYS} subsystems`);
    for (const m of models) this.register(m);
  }

  // ---- registry ------------------------------------------------------------------------

  /** mlp_register_subsystem(): a new id; parked until a file is open. */
  register(m: SubsystemModel): number {
    if (m.features.length > MAX_FEATURES || m.knobs.length === 0 || m.knobs.length > MAX_KNOBS) {
      throw new RangeError(
        `subsystem ${m.name}: 0..${MAX_FEATURES} features, 1..${MAX_KNOBS} knobs`,
      );
    }
    if (this.subs.length >= MAX_SUBSYS) throw new RangeError(`at most ${MAX_SUBSYS} subsystems`);
    if (this.subs.some((x) => x.model.name === m.name)) {
      throw new RangeError(`a subsystem named ${m.name} is registered already`);
    }
    const s = new SimSubsystem(this.nextId++, m);
    this.subs.push(s);
    this.generation++;
    if (this.files.size > 0) this.unpark(s);
    return s.id;
  }

  /**
   * mlp_unregister_subsystem(): the windows stop, and files that speak ABI 1.1 get a
   * last record with REASON_GONE.
   */
  unregister(name: string): void {
    const s = this.subs.find((x) => x.model.name === name);
    if (!s) throw new RangeError(`no subsystem named ${name}`);
    this.subs = this.subs.filter((x) => x !== s);
    this.generation++;
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    s.knobs = [...s.defaults];
    const gone: Feedback = {
      subsysId: s.id,
      recId: 0,
      epoch: s.epoch,
      windowStartNs: 0,
      windowNs: 0,
      mode: s.mode,
      applied: false,
      verdict: VERDICT_NONE,
      reasons: REASON_GONE,
      baselineEff: s.baselineEff > 0 ? s.baselineEff / 1e6 : 0,
      eff: 0,
      knobs: [...s.knobs],
    };
    this.queue(s, gone, true);
    for (const f of this.files) if (f.ring.length > 0) f.wake();
  }

  // ---- parking -------------------------------------------------------------------------

  private unpark(s: SimSubsystem): void {
    if (!s.parked) return;
    s.parked = false;
    this.startWindow(s, this.nowNs());
  }

  private park(s: SimSubsystem): void {
    if (s.parked) return;
    s.parked = true;
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    if (s.started) {
      // The window in progress is abandoned; the defaults run until the next open.
      s.started = false;
      s.resync = true;
      s.pending = null;
      s.winAdvice = false;
      s.knobs = [...s.defaults];
    }
  }

  // ---- time ----------------------------------------------------------------------------

  nowNs(): number {
    if (this.clock === 'real') return Math.round((performance.now() - this.realOriginMs) * 1e6);
    return this.virtualNs;
  }

  /** Virtual clocks: n times, move to the earliest next window end and close it. */
  advance(n = 1): void {
    this.requireVirtual('advance');
    for (let i = 0; i < n; i++) {
      let next = Infinity;
      for (const s of this.subs) if (!s.parked) next = Math.min(next, s.planNs);
      if (next === Infinity) return;
      this.virtualNs = next;
      for (const s of this.subs) if (!s.parked && s.planNs <= next) this.closeWindow(s);
    }
  }

  /** Virtual clocks: move time forward by ms, closing every window that ends meanwhile. */
  advanceMs(ms: number): void {
    this.requireVirtual('advanceMs');
    const until = this.virtualNs + ms * 1e6;
    for (;;) {
      let next = Infinity;
      for (const s of this.subs) if (!s.parked) next = Math.min(next, s.planNs);
      if (next > until) break;
      this.advance(1);
    }
    this.virtualNs = until;
  }

  /** Virtual clocks: close n windows of one subsystem (others close as time passes). */
  advanceWindows(subsysId: number, n: number): void {
    const s = this.find('advanceWindows', subsysId);
    if (s.parked) throw new Error(`subsystem ${subsysId} is parked: no file is open`);
    const target = s.epoch + n;
    while (s.epoch < target) this.advance(1);
  }

  private requireVirtual(what: string): void {
    if (this.clock === 'real') {
      throw new Error(`SimKernel.${what}() needs a virtual clock ("manual" or "auto")`);
    }
  }

  private schedule(s: SimSubsystem): void {
    // Like the module's window work: armed for the planned end of the window.
    const delayMs = Math.max(0, (s.planNs - this.nowNs()) / 1e6);
    s.timer = setTimeout(() => {
      s.timer = null;
      if (this.stopped || s.parked) return;
      this.closeWindow(s);
    }, delayMs);
    s.timer.unref();
  }

  /** Stops the real-time timers (the module's unload). */
  stop(): void {
    this.stopped = true;
    for (const s of this.subs) if (s.timer) clearTimeout(s.timer);
  }

  // ---- files ---------------------------------------------------------------------------

  open(privileged: boolean, pid: number): SimFile {
    if (this.stopped) throw deviceError('open', 'ENODEV');
    const f = new SimFile(this, privileged, pid);
    this.files.add(f);
    if (this.files.size === 1) for (const s of this.subs) this.unpark(s);
    return f;
  }

  /** release(): a controlling file's close falls its subsystems to EMERGENCY. */
  closeFile(f: SimFile): void {
    if (f.closed) return;
    f.closed = true;
    this.files.delete(f);
    for (const s of this.subs) {
      if (s.controller !== f) continue;
      s.controller = null;
      this.fall(s, TRANS_CLOSED);
    }
    if (this.files.size === 0) for (const s of this.subs) this.park(s);
    f.wake();
  }

  // ---- ioctls --------------------------------------------------------------------------

  /** MLP_IOC_VERSION; the file speaks min(its minor, ours) from now on. */
  version(f?: SimFile, callerMinor = ABI_MINOR): VersionInfo {
    if (f) f.minor = Math.min(callerMinor, ABI_MINOR);
    return {
      abiMajor: 1,
      abiMinor: ABI_MINOR,
      generation: this.generation,
      compatible: true,
      nrSubsys: this.subs.length,
      maxSubsys: MAX_SUBSYS,
      maxFeatures: MAX_FEATURES,
      maxKnobs: MAX_KNOBS,
      ringRecords: this.params.ringRecords,
    };
  }

  subsysInfo(index: number): SubsystemInfo {
    const s = this.subs[index];
    if (!Number.isInteger(index) || !s) {
      throw deviceError(
        'MLP_IOC_SUBSYS_INFO',
        'ENOENT',
        `no subsystem at index ${index}; ${this.subs.length} registered`,
      );
    }
    return s.info();
  }

  listSubsystems(): SubsystemInfo[] {
    return this.subs.map((s) => s.info());
  }

  getState(subsysId: number): StateSnapshot {
    const s = this.find('MLP_IOC_GET_STATE', subsysId);
    return {
      subsysId: s.id,
      epoch: s.epoch,
      timeNs: this.nowNs(),
      mode: s.mode,
      nextAdvice: this.adviceWindow(s.mode, s.epoch + 1),
      features: [...s.features],
      knobs: [...s.knobs],
      baselineEff: s.baselineEff > 0 ? s.baselineEff / 1e6 : 0,
      windowStartNs: s.winStartNs,
      nextWindowNs: s.planNs,
    };
  }

  /** MLP_IOC_FILE's subscription. */
  subscribe(f: SimFile, ids: readonly number[]): void {
    if (ids.length > MAX_SUBSYS || !ids.every((x) => Number.isInteger(x) && x > 0)) {
      throw deviceError('MLP_IOC_FILE', 'EINVAL', `1..${MAX_SUBSYS} positive ids, or none`);
    }
    f.subscribed = [...ids];
  }

  getMode(subsysId: number): { mode: ModeValue; pinned: boolean } {
    const s = this.find('MLP_IOC_GET_MODE', subsysId);
    return { mode: s.mode, pinned: s.pinned };
  }

  setMode(f: SimFile, subsysId: number, mode: number, pin: boolean): void {
    const op = 'MLP_IOC_SET_MODE';
    this.requirePrivilege(op, f);
    if (!Number.isInteger(mode) || mode < 0 || mode >= NR_MODES) {
      throw deviceError(op, 'EINVAL', `mode ${mode} is not one of 0..${NR_MODES - 1}`);
    }
    const s = this.find(op, subsysId);
    s.pinned = pin;
    s.goodStreak = 0;
    s.hold = 0;
    this.transition(s, mode as ModeValue, TRANS_ADMIN);
  }

  claim(f: SimFile, subsysId: number, release: boolean): void {
    const op = 'MLP_IOC_CLAIM';
    this.requirePrivilege(op, f);
    const s = this.find(op, subsysId);
    if (s.controller && s.controller !== f) throw this.busy(op, s);
    if (release) {
      // Giving up control is orderly: the mode stays; a new controller may claim.
      s.controller = null;
      return;
    }
    s.controller = f;
    this.refreshHeartbeat(s);
  }

  heartbeat(f: SimFile, subsysId: number): void {
    const op = 'MLP_IOC_HEARTBEAT';
    this.requirePrivilege(op, f);
    const s = this.find(op, subsysId);
    if (s.controller && s.controller !== f) throw this.busy(op, s);
    if (!s.controller) {
      throw deviceError(op, 'EINVAL', `subsystem ${subsysId} has no controller: claim it first`);
    }
    this.refreshHeartbeat(s);
  }

  recommend(f: SimFile, r: Recommendation): RecommendResult {
    const op = 'MLP_IOC_RECOMMEND';
    // The kernel's order: capability, the struct's own fields, the id, then the rest.
    this.requirePrivilege(op, f);
    if (!(r.propensity > 0 && r.propensity <= 1)) {
      throw deviceError(op, 'EINVAL', `propensity must be in (0, 1], got ${r.propensity}`);
    }
    const ttlMs = r.ttlMs ?? 0;
    if (!Number.isInteger(ttlMs) || ttlMs < 0 || ttlMs > MAX_TTL_MS) {
      throw deviceError(op, 'EINVAL', `ttl_ms must be in 0..${MAX_TTL_MS}, got ${ttlMs}`);
    }
    if (!Array.isArray(r.knobs) || r.knobs.length > MAX_KNOBS) {
      throw deviceError(op, 'EINVAL', `at most ${MAX_KNOBS} knobs`);
    }
    if (!r.knobs.every((v) => Number.isSafeInteger(v))) {
      throw deviceError(op, 'EINVAL', `knob values must be integers, got ${r.knobs.join(', ')}`);
    }
    const s = this.find(op, r.subsysId);
    const nk = s.model.knobs.length;
    if (r.knobs.length !== nk) {
      throw deviceError(
        op,
        'EINVAL',
        `subsystem ${s.model.name} has ${nk} knob(s), got ${r.knobs.length}`,
      );
    }
    if (!Number.isSafeInteger(r.epoch) || r.epoch < 0 || r.epoch > s.epoch) {
      throw deviceError(op, 'EINVAL', `epoch ${r.epoch} is in the future (now ${s.epoch})`);
    }
    if (s.controller && s.controller !== f) throw this.busy(op, s);
    s.controller = f;
    this.refreshHeartbeat(s);

    const recId = s.nextRecId++;
    const targetEpoch = s.epoch + 1;
    s.c.recs++;
    const result = (verdict: VerdictValue, reasons: number, applied: number[]): RecommendResult => {
      if (verdict === VERDICT_APPLIED) s.c.recsApplied++;
      else if (verdict === VERDICT_CLAMPED) s.c.recsClamped++;
      else if (verdict === VERDICT_REJECTED) s.c.recsRejected++;
      else if (verdict === VERDICT_SHADOWED) s.c.recsShadowed++;
      return { recId, targetEpoch, verdict, reasons, applied };
    };
    if (s.epoch - r.epoch > this.params.maxEpochLag) {
      return result(VERDICT_REJECTED, REASON_STALE, [...r.knobs]);
    }
    if (s.pending) return result(VERDICT_REJECTED, REASON_RATE_LIMIT, [...r.knobs]);

    const { values, reasons } = this.clamp(s, r.knobs);
    if (reasons !== 0 && r.strict) return result(VERDICT_REJECTED, reasons, values);
    const deadlineNs = this.nowNs() + (ttlMs || this.params.defaultTtlMs) * 1e6;
    let verdict: VerdictValue = reasons !== 0 ? VERDICT_CLAMPED : VERDICT_APPLIED;
    let why = reasons;
    if (!this.adviceWindow(s.mode, targetEpoch)) {
      verdict = VERDICT_SHADOWED;
      why |= s.mode === MODE_EMERGENCY ? REASON_EMERGENCY : REASON_BASELINE_WINDOW;
    }
    s.pending = { recId, deadlineNs, verdict, reasons: why, knobs: values };
    return result(verdict, why, [...values]);
  }

  getStatus(f: SimFile, subsysId: number): Status {
    const s = this.find('MLP_IOC_GET_STATUS', subsysId);
    const c = s.c;
    return {
      subsysId: s.id,
      mode: s.mode,
      pinned: s.pinned,
      controlled: s.controller !== null,
      heartbeatOk: s.controller !== null && this.heartbeatLive(s),
      mine: s.controller === f,
      epoch: s.epoch,
      windows: c.windows,
      adviceWindows: c.adviceWindows,
      baselineWindows: c.baselineWindows,
      modeWindows: [...c.modeWindows],
      recs: c.recs,
      recsApplied: c.recsApplied,
      recsClamped: c.recsClamped,
      recsRejected: c.recsRejected,
      recsShadowed: c.recsShadowed,
      recsExpired: c.recsExpired,
      feedbackRecords: c.feedbackRecords,
      feedbackDropped: c.feedbackDropped,
      transitions: c.transitions,
      promotions: c.promotions,
      demotions: c.demotions,
      emergencies: c.emergencies,
      heartbeatMisses: c.heartbeatMisses,
      lastTransitionEpoch: c.lastTransitionEpoch,
      lastTransition: c.lastTransition,
      goodStreak: s.goodStreak,
      baselineEff: s.baselineEff > 0 ? s.baselineEff / 1e6 : 0,
      lastEff: s.lastEff / 1e6,
      controllerPid: s.controller ? s.controller.pid : 0,
      workNs: 0,
      workMaxNs: 0,
      lateMaxNs: c.lateMaxNs,
      replans: c.replans,
    };
  }

  // ---- semantics -----------------------------------------------------------------------

  /** The advice schedule of window w under a mode. */
  adviceWindow(mode: ModeValue, w: number): boolean {
    switch (mode) {
      case MODE_EMERGENCY:
        return false;
      case MODE_LEARNING:
        return w % this.params.learningPeriod === 0;
      case MODE_COLLABORATION:
        return w % 2 === 0;
      case MODE_RECOMMENDATION:
        return this.params.checkPeriod === 0 || w % this.params.checkPeriod !== 0;
    }
    return false;
  }

  /** Bounds, grid and step limit, each change setting its reason bit. */
  private clamp(s: SimSubsystem, knobs: readonly number[]): { values: number[]; reasons: number } {
    let reasons = 0;
    const values = s.model.knobs.map((k, i) => {
      let v = knobs[i];
      if (v < k.min || v > k.max) {
        v = Math.min(k.max, Math.max(k.min, v));
        reasons |= REASON_OUT_OF_BOUNDS;
      }
      const off = (v - k.min) % k.step;
      if (off !== 0) {
        v -= off;
        reasons |= REASON_OFF_GRID;
      }
      const ref = s.lastAdvised[i];
      if (k.maxDelta > 0 && Math.abs(v - ref) > k.maxDelta) {
        // Largest on-grid move towards v within max_delta.
        const stepsAllowed = Math.floor(k.maxDelta / k.step);
        v = v > ref ? ref + stepsAllowed * k.step : ref - stepsAllowed * k.step;
        reasons |= REASON_STEP_LIMIT;
      }
      return v;
    });
    return { values, reasons };
  }

  /**
   * Queues one record to every file that wants it (a GONE record needs ABI 1.1). A
   * full ring drops the new record, but a GONE record replaces the newest one.
   */
  private queue(s: SimSubsystem, record: Feedback, gone: boolean): void {
    let first = true;
    for (const f of this.files) {
      if (!f.wants(s.id) || (gone && f.minor < 1)) continue;
      if (f.ring.length >= this.params.ringRecords) {
        // Ring full: the newest record is dropped and counted.
        f.dropped++;
        s.c.feedbackDropped++;
        if (gone) f.ring[f.ring.length - 1] = structuredClone(record);
        continue;
      }
      f.ring.push(first ? record : structuredClone(record));
      first = false;
      s.c.feedbackRecords++;
    }
  }

  /**
   * Starts window s.epoch (or, after a park, s.epoch + 1) at now, planned to end
   * window_ms after its planned start (no drift; a whole window late restarts the plan).
   */
  private startWindow(s: SimSubsystem, now: number, plannedStart = now): void {
    if (!s.started) {
      if (s.resync) {
        s.model.endWindow(s.epoch, s.knobs, false); // the parked time is not measured
        s.resync = false;
        s.epoch++;
        // A reference from before the park judges nothing after it.
        s.haveBaseline = false;
        s.pairSum = 0;
        s.pairN = 0;
      }
      s.started = true;
    }
    s.planNs = plannedStart + s.windowNs;
    if (s.planNs <= now) {
      s.planNs = now + s.windowNs;
      s.c.replans++;
    }
    s.winStartNs = now;
    s.winMode = s.mode;
    s.winAdvice = false;
    s.winRecId = 0;
    s.winVerdict = VERDICT_NONE;
    s.winReasons = 0;
    const pend = s.pending;
    s.pending = null;
    if (pend) {
      s.winRecId = pend.recId;
      s.winVerdict = pend.verdict;
      s.winReasons = pend.reasons;
      if (pend.verdict !== VERDICT_SHADOWED) {
        if (!this.adviceWindow(s.mode, s.epoch)) {
          // The mode fell (or was set) since the recommendation was accepted.
          s.winVerdict = VERDICT_SHADOWED;
          s.winReasons |= s.mode === MODE_EMERGENCY ? REASON_EMERGENCY : REASON_BASELINE_WINDOW;
          s.c.recsShadowed++;
        } else if (now > pend.deadlineNs) {
          s.winVerdict = VERDICT_REJECTED;
          s.winReasons |= REASON_EXPIRED;
          s.c.recsExpired++;
        } else {
          s.winAdvice = true;
          s.knobs = [...pend.knobs];
          s.lastAdvised = [...pend.knobs];
        }
      }
    }
    if (!s.winAdvice) s.knobs = [...s.defaults];
    s.features = s.model.featuresAt(s.epoch, s.knobs);
    if (this.clock === 'real') this.schedule(s);
  }

  private closeWindow(s: SimSubsystem): void {
    const now = this.nowNs();
    const e = s.epoch;
    if (now > s.planNs) s.c.lateMaxNs = Math.max(s.c.lateMaxNs, now - s.planNs);
    const changed = s.model.baselineChanged?.() ?? null;
    const m = s.model.endWindow(e, s.knobs, s.winAdvice);
    // An idle window reports the reference and feeds neither it nor the ladder; an
    // unreliable one (or one in which the baseline changed) reports its eff, feeds neither.
    const idle = m === null;
    const measured: WindowMeasure | null =
      m === null ? null : typeof m === 'number' ? { eff: m, unreliable: false } : m;
    const unreliable = measured !== null && (measured.unreliable || changed !== null);
    const eff = measured === null ? s.baselineEff : Math.min(EFF_LIMIT, Math.max(0, measured.eff));
    const hadBefore = s.haveBaseline;
    const before = s.baselineEff;
    const beforeEpoch = s.baseEpoch;
    if (!idle && !unreliable) {
      s.lastEff = eff;
      if (!s.winAdvice) {
        s.baselineEff = eff;
        s.baseEpoch = e;
        s.haveBaseline = true;
      }
    }
    s.c.windows++;
    if (s.winAdvice) s.c.adviceWindows++;
    else s.c.baselineWindows++;
    s.c.modeWindows[s.winMode]++;

    const record: Feedback = {
      subsysId: s.id,
      recId: s.winRecId,
      epoch: e,
      windowStartNs: s.winStartNs,
      windowNs: now - s.winStartNs,
      mode: s.winMode,
      applied: s.winAdvice,
      verdict: s.winVerdict,
      reasons: s.winReasons | (idle ? REASON_IDLE : 0) | (unreliable ? REASON_UNRELIABLE : 0),
      baselineEff: s.baselineEff > 0 ? s.baselineEff / 1e6 : 0,
      eff: eff / 1e6,
      knobs: [...s.knobs],
    };

    this.runLadder(s, eff, !idle && !unreliable, hadBefore, before, beforeEpoch);
    if (changed !== null) this.adoptBaseline(s, changed);

    // Plan window e + 1, then queue the record of e with the state of e + 1.
    s.epoch = e + 1;
    this.startWindow(s, now, s.planNs);
    record.next = this.getState(s.id);
    record.next.timeNs = now;
    this.queue(s, record, false);
    for (const f of this.files) if (f.ring.length > 0) f.wake();
  }

  /**
   * The mode ladder at the end of window e (s.epoch is still e): heartbeat, the paired
   * judgement when a measured baseline window closes advice windows (`before` is the
   * reference it replaces, measured in window `beforeEpoch`; both at most PAIR_GAP windows
   * from the advice), the climb out of EMERGENCY. `measured`: neither idle nor
   * unreliable. kmod/mlproxy_core.c's mlp_run_ladder and mlp_evaluate, in TypeScript.
   */
  private runLadder(
    s: SimSubsystem,
    eff: number,
    measured: boolean,
    hadBefore: boolean,
    before: number,
    beforeEpoch: number,
  ): void {
    const p = this.params;
    if (s.controller && !this.heartbeatLive(s) && !s.heartbeatMissed) {
      s.heartbeatMissed = true;
      s.c.heartbeatMisses++;
      this.fall(s, TRANS_HEARTBEAT);
    }
    if (measured && s.winAdvice && s.pairN < PAIR_MAX) {
      if (s.pairN === 0) s.pairFirst = s.epoch;
      s.pairLast = s.epoch;
      s.pairSum += eff;
      s.pairN++;
    } else if (measured && !s.winAdvice) {
      if (
        s.pairN > 0 &&
        hadBefore &&
        // A reference <= 0 is none: it judges nothing.
        before > 0 &&
        eff > 0 &&
        s.mode !== MODE_EMERGENCY &&
        s.pairFirst - beforeEpoch <= PAIR_GAP &&
        s.epoch - s.pairLast <= PAIR_GAP
      ) {
        this.evaluate(s, before, eff);
      }
      s.pairSum = 0;
      s.pairN = 0;
    }
    if (s.mode === MODE_EMERGENCY && s.winMode === MODE_EMERGENCY && !s.pinned) {
      if (s.controller && this.heartbeatLive(s)) {
        s.hold++;
        if (s.hold >= p.emergencyHoldWindows) {
          s.hold = 0;
          this.transition(s, MODE_LEARNING, TRANS_RECOVER);
        }
      } else {
        s.hold = 0;
      }
    }
  }

  /** Paired judgement: the advice windows' mean against both neighbouring baseline windows. */
  private evaluate(s: SimSubsystem, before: number, after: number): void {
    const p = this.params;
    const lo = Math.min(before, after);
    const hi = Math.max(before, after);
    // C's div_s64: truncating integer division of the raw efficiencies.
    const a100 = Math.trunc(s.pairSum / s.pairN) * 100;
    if (a100 < lo * p.collapsePct) {
      this.fall(s, TRANS_COLLAPSE);
    } else if (a100 < lo * (100 - p.demoteMarginPct)) {
      s.goodStreak = 0;
      if (!s.pinned && s.mode > MODE_LEARNING) {
        s.c.demotions++;
        this.transition(s, (s.mode - 1) as ModeValue, TRANS_REGRESSION);
      }
    } else if (a100 >= hi * (100 + p.promoteMarginPct)) {
      s.goodStreak++;
      if (!s.pinned && s.goodStreak >= p.promoteWindows && s.mode < MODE_RECOMMENDATION) {
        s.goodStreak = 0;
        s.c.promotions++;
        this.transition(s, (s.mode + 1) as ModeValue, TRANS_PROMOTE);
      }
    } else {
      s.goodStreak = 0;
    }
  }

  /**
   * Someone else changed the setting the baseline stands for: adopt the new defaults (on
   * the grid), restart the reference, and go to EMERGENCY (even from EMERGENCY, so the
   * status names the reason).
   */
  private adoptBaseline(s: SimSubsystem, defs: readonly number[]): void {
    s.defaults = s.model.knobs.map((k, i) => {
      const v = Math.min(k.max, Math.max(k.min, defs[i] ?? k.def));
      return v - ((v - k.min) % k.step);
    });
    s.haveBaseline = false;
    s.baselineEff = 0;
    s.pinned = false;
    s.pairSum = 0;
    s.pairN = 0;
    s.goodStreak = 0;
    s.hold = 0;
    this.transition(s, MODE_EMERGENCY, TRANS_BASELINE);
  }

  /** A safety fall to EMERGENCY: clears the pin, resets the streaks. */
  private fall(s: SimSubsystem, why: number): void {
    s.pinned = false;
    s.goodStreak = 0;
    s.hold = 0;
    s.pairSum = 0;
    s.pairN = 0;
    if (s.mode === MODE_EMERGENCY) return;
    s.c.emergencies++;
    this.transition(s, MODE_EMERGENCY, why);
  }

  private transition(s: SimSubsystem, mode: ModeValue, why: number): void {
    s.mode = mode;
    s.c.transitions++;
    s.c.lastTransition = why;
    s.c.lastTransitionEpoch = s.epoch;
  }

  private heartbeatLive(s: SimSubsystem): boolean {
    return this.nowNs() - s.lastHeartbeatNs <= this.params.heartbeatMs * 1e6;
  }

  private refreshHeartbeat(s: SimSubsystem): void {
    s.lastHeartbeatNs = this.nowNs();
    s.heartbeatMissed = false;
  }

  private requirePrivilege(op: string, f: SimFile): void {
    if (f.closed) throw deviceError(op, 'EBADF');
    if (!f.privileged) throw deviceError(op, 'EPERM');
  }

  private busy(op: string, s: SimSubsystem) {
    return deviceError(
      op,
      'EBUSY',
      `subsystem ${s.id} (${s.model.name}) is controlled by another open file` +
        (s.controller ? ` (pid ${s.controller.pid})` : '') +
        ': stop the other daemon first',
    );
  }

  private find(op: string, subsysId: number): SimSubsystem {
    const s = this.subs.find((x) => x.id === subsysId);
    if (!s) {
      throw deviceError(
        op,
        'ENOENT',
        `no subsystem with id ${subsysId}; ids are ${this.subs.map((x) => x.id).join(', ')}`,
      );
    }
    return s;
  }
}
