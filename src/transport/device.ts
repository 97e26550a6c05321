/**
 * The device interface of the daemon: one view of /dev/mlproxy, implemented by
 * IoctlDevice (the real module) and SimDevice (an in-process model with the same
 * semantics). Field meanings follow kmod/include/uapi/linux/mlproxy.h; u64 values
 * are plain numbers (exact below 2^53), efficiencies and propensities are decoded
 * from fixed point into floats.
 */

export const Mode = { Emergency: 0, Learning: 1, Collaboration: 2, Recommendation: 3 } as const;
export type ModeValue = (typeof Mode)[keyof typeof Mode];
export const MODE_NAMES = ['emergency', 'learning', 'collaboration', 'recommendation'] as const;

export const Verdict = { None: 0, Applied: 1, Clamped: 2, Rejected: 3, Shadowed: 4 } as const;
export type VerdictValue = (typeof Verdict)[keyof typeof Verdict];
export const VERDICT_NAMES = ['none', 'applied', 'clamped', 'rejected', 'shadowed'] as const;

export interface VersionInfo {
  abiMajor: number;
  abiMinor: number;
  compatible: boolean;
  nrSubsys: number;
  maxSubsys: number;
  maxFeatures: number;
  maxKnobs: number;
  ringRecords: number;
  /** Registry generation: moves at every (un)registration (0 on an ABI 1.0 module). */
  generation: number;
}

export interface FeatureDesc {
  name: string;
  unit: string;
  /** value = raw / scale */
  scale: number;
}

export interface KnobDesc {
  name: string;
  unit: string;
  min: number;
  max: number;
  step: number;
  /** The human-written baseline value. */
  def: number;
  /** Largest change per advice window; 0 = unlimited. */
  maxDelta: number;
}

export interface SubsystemInfo {
  id: number;
  name: string;
  windowMs: number;
  features: FeatureDesc[];
  knobs: KnobDesc[];
}

export interface StateSnapshot {
  subsysId: number;
  epoch: number;
  timeNs: number;
  mode: ModeValue;
  nextAdvice: boolean;
  /** Raw feature values (divide by FeatureDesc.scale). */
  features: number[];
  /** Knob values in force now. */
  knobs: number[];
  /** Baseline efficiency reference (float, MLP_EFF_SCALE removed); 0 before the first. */
  baselineEff: number;
  /** When window `epoch` began and is planned to end (ns, the kernel's clock; ABI 1.1). */
  windowStartNs?: number;
  nextWindowNs?: number;
}

export interface Recommendation {
  subsysId: number;
  epoch: number;
  modelVersion: number;
  /** Probability in (0, 1]. */
  propensity: number;
  knobs: number[];
  /** 0 = module default. */
  ttlMs?: number;
  strict?: boolean;
}

export interface RecommendResult {
  recId: number;
  targetEpoch: number;
  verdict: VerdictValue;
  /** MLP_REASON_* bits. */
  reasons: number;
  /** Knob values after the kernel's clamping. */
  applied: number[];
}

export interface ModeInfo {
  mode: ModeValue;
  pinned: boolean;
}

export interface Status {
  subsysId: number;
  mode: ModeValue;
  pinned: boolean;
  controlled: boolean;
  heartbeatOk: boolean;
  mine: boolean;
  epoch: number;
  windows: number;
  adviceWindows: number;
  baselineWindows: number;
  modeWindows: [number, number, number, number];
  recs: number;
  recsApplied: number;
  recsClamped: number;
  recsRejected: number;
  recsShadowed: number;
  recsExpired: number;
  feedbackRecords: number;
  feedbackDropped: number;
  transitions: number;
  promotions: number;
  demotions: number;
  emergencies: number;
  heartbeatMisses: number;
  lastTransitionEpoch: number;
  lastTransition: number;
  goodStreak: number;
  baselineEff: number;
  lastEff: number;
  controllerPid: number;
  /** ABI 1.1 (0 on a 1.0 module): time in the window work, its longest run, the
   * latest a window began behind its plan (ns), and plans reset by a late window. */
  workNs: number;
  workMaxNs: number;
  lateMaxNs: number;
  replans: number;
}

export interface Feedback {
  subsysId: number;
  /** 0 when no recommendation targeted the window. */
  recId: number;
  epoch: number;
  windowStartNs: number;
  windowNs: number;
  mode: ModeValue;
  applied: boolean;
  verdict: VerdictValue;
  reasons: number;
  /** Floats (MLP_EFF_SCALE removed). */
  baselineEff: number;
  eff: number;
  knobs: number[];
  /**
   * The state of window epoch + 1, which began as this one ended (ABI 1.1): what
   * GET_STATE would have said then, so an advisor decides from the record alone.
   * Absent on a GONE record and on an ABI 1.0 module.
   */
  next?: StateSnapshot;
}

/** Raised for every errno the device answers, with the ioctl named. */
export class DeviceError extends Error {
  override name = 'DeviceError';
  constructor(
    message: string,
    /** errno name, e.g. "EPERM", "EBUSY", "EINVAL", "ENOENT", "ENODEV". */
    readonly code: string,
  ) {
    super(message);
  }
}

export interface MlpDevice {
  /** "ioctl:/dev/mlproxy" or "sim". */
  readonly description: string;
  readonly simulated: boolean;
  version(): VersionInfo;
  listSubsystems(): SubsystemInfo[];
  getState(subsysId: number): StateSnapshot;
  recommend(rec: Recommendation): RecommendResult;
  getMode(subsysId: number): ModeInfo;
  setMode(subsysId: number, mode: ModeValue, pin: boolean): void;
  getStatus(subsysId: number): Status;
  claim(subsysId: number): void;
  release(subsysId: number): void;
  heartbeat(subsysId: number): void;
  /** Feedback records queued now, without waiting. */
  readFeedback(): Feedback[];
  /**
   * Resolves with the queued records as soon as at least one is queued, or with []
   * after timeoutMs. Never busy-waits.
   */
  waitFeedback(timeoutMs: number): Promise<Feedback[]>;
  /** Makes a pending waitFeedback() resolve now (with what is queued, maybe nothing). */
  interruptWait(): void;
  /**
   * Receive feedback records of these subsystem ids only (empty: of every subsystem,
   * the default). Records of other subsystems are not queued for this file at all.
   */
  subscribe(ids: readonly number[]): void;
  close(): void;
}
