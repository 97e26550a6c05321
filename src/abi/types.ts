/**
 * The ABI's shapes: what each struct of kmod/include/uapi/linux/mlproxy.h carries, as the
 * codec (codec.ts) decodes it and every device (src/transport/) answers it. Field meanings
 * follow the header; u64 values are plain numbers (exact below 2^53), efficiencies and
 * propensities are decoded from fixed point into floats.
 */
import type { ModeValue, VerdictValue } from './names.js';

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
