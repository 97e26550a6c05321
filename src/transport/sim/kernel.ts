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
 * and a feedback record carries the state of the window that began as it was queued.
 *
 * The rules are not written here: the module parameters' table, the advice schedule,
 * knob limiting and the knob schema checks, the verdicts, the reference, the paired
 * judgement and the ladder are kmod/mlproxy_rules.c, the file mlproxy.ko is built
 * from, run as WebAssembly (rules.ts). This class holds what the module's core holds:
 * time, windows, files and rings, control, the counters, and calls the rules.
 */
import { performance } from 'node:perf_hooks';
import {
  ABI_MINOR,
  MAX_FEATURES,
  MAX_KNOBS,
  MAX_SUBSYS,
  MODE_EMERGENCY,
  NR_MODES,
  REASON_GONE,
  REASON_IDLE,
  REASON_UNRELIABLE,
  TRANS_CLOSED,
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
import { KernelRules, PARAM_TABLE, TTL_MAX_MS, knobOk, paramOk, paramRange } from './rules.js';
import { SyntheticModel, type SyntheticOptions } from './synthetic.js';

/**
 * The module parameters of mlproxy.ko the simulator models, camelCase (learningPeriod is
 * learning_period). Their defaults and ranges are kmod/mlproxy_params.h's, read from
 * the WebAssembly build (max_open, the per-user open limit, is not modelled).
 */
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

const MODELLED: readonly (keyof KernelParams)[] = [
  'learningPeriod',
  'checkPeriod',
  'promoteWindows',
  'promoteMarginPct',
  'demoteMarginPct',
  'collapsePct',
  'heartbeatMs',
  'emergencyHoldWindows',
  'maxEpochLag',
  'defaultTtlMs',
  'ringRecords',
];

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The table's row of each modelled parameter. */
const PARAM_ROWS = new Map(
  MODELLED.map((key) => {
    const row = PARAM_TABLE.find((r) => r.name === snake(key));
    if (!row) throw new Error(`kmod/mlproxy_params.h has no parameter ${snake(key)} (${key})`);
    return [key, row] as const;
  }),
);

/** The module's defaults (kmod/mlproxy_params.h). */
export const DEFAULT_PARAMS: Readonly<KernelParams> = Object.freeze(
  Object.fromEntries(
    MODELLED.map((key) => [key, PARAM_ROWS.get(key)!.def]),
  ) as unknown as KernelParams,
);

export type ClockKind = 'real' | 'manual' | 'auto';

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

/** One registered subsystem and its kernel state (its rule state is in the rules' slot). */
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
  pending: Pending | null = null;
  nextRecId = 1;
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
    lateMaxNs: 0,
    replans: 0,
  };

  constructor(
    readonly id: number,
    /** Its slot in the rules' state (struct mlp_ladder and the knob limits). */
    readonly slot: number,
    readonly model: SubsystemModel,
  ) {
    this.defaults = model.knobs.map((k) => k.def);
    this.knobs = [...this.defaults];
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

export class SimKernel {
  readonly clock: ClockKind;
  readonly params: Readonly<KernelParams>;
  private readonly rules: KernelRules;
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
      const row = PARAM_ROWS.get(key as keyof KernelParams);
      if (!row) {
        throw new RangeError(`unknown kernel parameter "${key}"; known: ${MODELLED.join(', ')}`);
      }
      // The module's own check (mlp_param_ok), from its table.
      if (!paramOk(row, value)) {
        throw new RangeError(
          `parameter ${key} (the module's ${row.name}) must be an integer in ${paramRange(row)}, got ${String(value)}`,
        );
      }
      params[key as keyof KernelParams] = value;
    }
    this.params = Object.freeze(params);
    this.rules = new KernelRules(
      Object.fromEntries(MODELLED.map((key) => [PARAM_ROWS.get(key)!.name, params[key]])),
    );
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
    for (const k of m.knobs) {
      if (!knobOk(k)) {
        throw new RangeError(
          `subsystem ${m.name}: knob ${k.name} (min ${k.min}, max ${k.max}, step ${k.step}, ` +
            `def ${k.def}, maxDelta ${k.maxDelta}) is refused by the module's check: within ` +
            '+-2^62, step > 0, max - min, def - min and maxDelta multiples of step, maxDelta <= max - min',
        );
      }
    }
    if (this.subs.length >= MAX_SUBSYS) throw new RangeError(`at most ${MAX_SUBSYS} subsystems`);
    if (this.subs.some((x) => x.model.name === m.name)) {
      throw new RangeError(`a subsystem named ${m.name} is registered already`);
    }
    const used = new Set(this.subs.map((x) => x.slot));
    let slot = 0;
    while (used.has(slot)) slot++;
    const s = new SimSubsystem(this.nextId++, slot, m);
    this.rules.initSlot(slot, m.knobs);
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
      mode: this.rules.mode(s.slot) as ModeValue,
      applied: false,
      verdict: VERDICT_NONE,
      reasons: REASON_GONE,
      baselineEff: this.baselineOf(s),
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
      this.rules.beat(s.slot); // mlp_drop_controller()
      this.rules.fall(s.slot, s.epoch, TRANS_CLOSED);
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
      mode: this.rules.mode(s.slot) as ModeValue,
      nextAdvice: this.adviceWindow(this.rules.mode(s.slot), s.epoch + 1),
      features: [...s.features],
      knobs: [...s.knobs],
      baselineEff: this.baselineOf(s),
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
    return { mode: this.rules.mode(s.slot) as ModeValue, pinned: this.rules.pinned(s.slot) };
  }

  setMode(f: SimFile, subsysId: number, mode: number, pin: boolean): void {
    const op = 'MLP_IOC_SET_MODE';
    this.requirePrivilege(op, f);
    if (!Number.isInteger(mode) || mode < 0 || mode >= NR_MODES) {
      throw deviceError(op, 'EINVAL', `mode ${mode} is not one of 0..${NR_MODES - 1}`);
    }
    const s = this.find(op, subsysId);
    this.rules.setMode(s.slot, s.epoch, mode, pin);
  }

  claim(f: SimFile, subsysId: number, release: boolean): void {
    const op = 'MLP_IOC_CLAIM';
    this.requirePrivilege(op, f);
    const s = this.find(op, subsysId);
    if (s.controller && s.controller !== f) throw this.busy(op, s);
    if (release) {
      // Giving up control is orderly: the mode stays; a new controller may claim.
      s.controller = null;
      this.rules.beat(s.slot); // mlp_drop_controller()
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
    if (!Number.isInteger(ttlMs) || ttlMs < 0 || ttlMs > TTL_MAX_MS) {
      throw deviceError(op, 'EINVAL', `ttl_ms must be in 0..${TTL_MAX_MS}, got ${ttlMs}`);
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
    // mlp_recommend_verdict(): staleness, rate, then the knobs through bounds, grid and
    // step limit; strict rejects, a baseline window shadows.
    const v = this.rules.recommend(s.slot, {
      epoch: s.epoch,
      recEpoch: r.epoch,
      pending: s.pending !== null,
      strict: r.strict === true,
      knobs: r.knobs,
    });
    const verdict = v.verdict as VerdictValue;
    if (verdict === VERDICT_REJECTED) s.c.recsRejected++;
    else if (verdict === VERDICT_SHADOWED) s.c.recsShadowed++;
    else if (verdict === VERDICT_CLAMPED) s.c.recsClamped++;
    else s.c.recsApplied++;
    if (verdict !== VERDICT_REJECTED) {
      const deadlineNs = this.nowNs() + (ttlMs || this.params.defaultTtlMs) * 1e6;
      s.pending = { recId, deadlineNs, verdict, reasons: v.reasons, knobs: [...v.applied] };
    }
    return { recId, targetEpoch, verdict, reasons: v.reasons, applied: v.applied };
  }

  getStatus(f: SimFile, subsysId: number): Status {
    const s = this.find('MLP_IOC_GET_STATUS', subsysId);
    const c = s.c;
    const l = this.rules.ladder(s.slot);
    return {
      subsysId: s.id,
      mode: l.mode as ModeValue,
      pinned: l.pinned,
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
      transitions: l.transitions,
      promotions: l.promotions,
      demotions: l.demotions,
      emergencies: l.emergencies,
      heartbeatMisses: l.heartbeatMisses,
      lastTransitionEpoch: l.lastTransitionEpoch,
      lastTransition: l.lastTransition,
      goodStreak: l.goodStreak,
      baselineEff: l.baselineEff > 0 ? l.baselineEff / 1e6 : 0,
      lastEff: l.lastEff / 1e6,
      controllerPid: s.controller ? s.controller.pid : 0,
      workNs: 0,
      workMaxNs: 0,
      lateMaxNs: c.lateMaxNs,
      replans: c.replans,
    };
  }

  // ---- semantics -----------------------------------------------------------------------

  /** The advice schedule of window w under a mode (mlp_advice_window()). */
  adviceWindow(mode: ModeValue | number, w: number): boolean {
    return this.rules.adviceWindow(mode, w);
  }

  /** The reference as records report it (MLP_EFF_SCALE units; <= 0 is none: 0). */
  private baselineOf(s: SimSubsystem): number {
    const raw = this.rules.baselineEff(s.slot);
    return raw > 0 ? raw / 1e6 : 0;
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
        this.rules.resync(s.slot);
      }
      s.started = true;
    }
    s.planNs = plannedStart + s.windowNs;
    if (s.planNs <= now) {
      s.planNs = now + s.windowNs;
      s.c.replans++;
    }
    s.winStartNs = now;
    s.winMode = this.rules.mode(s.slot) as ModeValue;
    s.winAdvice = false;
    s.winRecId = 0;
    s.winVerdict = VERDICT_NONE;
    s.winReasons = 0;
    const pend = s.pending;
    s.pending = null;
    if (pend) {
      // mlp_resolve_pending(): shadowed if the mode changed meanwhile, expired if its
      // ttl passed, else it runs.
      s.winRecId = pend.recId;
      const r = this.rules.resolve(
        s.slot,
        s.epoch,
        pend.verdict,
        now > pend.deadlineNs,
        pend.reasons,
      );
      s.winVerdict = r.verdict as VerdictValue;
      s.winReasons = r.reasons;
      if (r.verdict === VERDICT_REJECTED) {
        s.c.recsExpired++;
      } else if (r.verdict === VERDICT_SHADOWED) {
        if (pend.verdict !== VERDICT_SHADOWED) s.c.recsShadowed++;
      } else {
        s.winAdvice = true;
        s.knobs = [...pend.knobs];
        this.rules.setLast(s.slot, pend.knobs);
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
    const controlled = s.controller !== null;
    // mlp_ladder_end_window(): the eff clamp, the reference, the heartbeat check, the
    // paired judgement, the climb out of EMERGENCY.
    const eff = this.rules.endWindow(s.slot, {
      epoch: e,
      mode: s.winMode,
      advice: s.winAdvice,
      idle,
      unreliable,
      eff: measured === null ? 0 : rawOf(s, measured.eff),
      controlled,
      live: controlled && this.heartbeatLive(s),
    });
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
      baselineEff: this.baselineOf(s),
      eff: eff / 1e6,
      knobs: [...s.knobs],
    };

    if (changed !== null) {
      // Someone else changed the setting the baseline stands for: the new defaults (on
      // the grid), the reference restarts, EMERGENCY (mlp_ladder_new_baseline()).
      s.defaults = s.model.knobs.map((k, i) =>
        this.rules.knobOnGrid(s.slot, i, rawOf(s, changed[i] ?? k.def)),
      );
      this.rules.newBaseline(s.slot, e);
    }

    // Plan window e + 1, then queue the record of e with the state of e + 1.
    s.epoch = e + 1;
    this.startWindow(s, now, s.planNs);
    record.next = this.getState(s.id);
    record.next.timeNs = now;
    this.queue(s, record, false);
    for (const f of this.files) if (f.ring.length > 0) f.wake();
  }

  private heartbeatLive(s: SimSubsystem): boolean {
    return this.nowNs() - s.lastHeartbeatNs <= this.params.heartbeatMs * 1e6;
  }

  private refreshHeartbeat(s: SimSubsystem): void {
    s.lastHeartbeatNs = this.nowNs();
    this.rules.beat(s.slot);
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

/**
 * A model's number as the kernel's s64: models return integers (a fraction is cut, as C
 * converts a double);
 * values beyond the efficiency limit are clamped by the rules anyway, so they are cut
 * to +-2^62 here before they cross into the 64-bit world.
 */
function rawOf(s: SimSubsystem, v: number): number {
  if (Number.isNaN(v)) throw new RangeError(`subsystem ${s.model.name}: its model returned NaN`);
  const limit = 2 ** 62;
  return Math.trunc(Math.min(limit, Math.max(-limit, v)));
}
