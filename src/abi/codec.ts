/**
 * Typed encode/decode of every mlproxy struct to and from exact-size Buffers, in the
 * shapes of src/transport/device.ts. Efficiencies decode as floats (raw /
 * EFF_SCALE); propensities encode as round(p * PROB_SCALE) with 0 < p <= 1.
 */
import type {
  Feedback,
  FeatureDesc,
  KnobDesc,
  ModeInfo,
  ModeValue,
  RecommendResult,
  Recommendation,
  StateSnapshot,
  Status,
  SubsystemInfo,
  VerdictValue,
  VersionInfo,
} from '../transport/device.js';
import {
  ABI_MAJOR,
  ABI_MINOR,
  CLAIM_F_RELEASE,
  EFF_SCALE,
  MAX_KNOBS,
  MAX_TTL_MS,
  MODE_F_PIN,
  NR_MODES,
  PROB_SCALE,
  REC_F_STRICT,
  STATUS_F_CONTROLLED,
  STATUS_F_HEARTBEAT_OK,
  STATUS_F_MINE,
  STATUS_F_PINNED,
} from './constants.js';
import type { StructValue } from './layout.js';
import {
  mlpClaim,
  mlpFeedback,
  mlpMode,
  mlpRecommendation,
  mlpState,
  mlpStatus,
  mlpSubsysInfo,
  mlpVersion,
} from './structs.js';

const num = (v: StructValue, k: string) => v[k] as number;
const nums = (v: StructValue, k: string) => v[k] as number[];
const str = (v: StructValue, k: string) => v[k] as string;
const recs = (v: StructValue, k: string) => v[k] as StructValue[];

/** Fixed-point efficiency to float. */
export function effFromRaw(raw: number): number {
  return raw / EFF_SCALE;
}

/** Propensity in (0, 1] to its __u32 fixed point. */
export function propensityToRaw(p: number): number {
  if (!(typeof p === 'number' && p > 0 && p <= 1)) {
    throw new RangeError(`propensity must be a probability in (0, 1], got ${String(p)}`);
  }
  return Math.max(1, Math.round(p * PROB_SCALE));
}

function checkMode(mode: number): ModeValue {
  if (!Number.isInteger(mode) || mode < 0 || mode >= NR_MODES) {
    throw new RangeError(`mode must be an integer in 0..${NR_MODES - 1}, got ${String(mode)}`);
  }
  return mode as ModeValue;
}

// ---- mlp_version ----------------------------------------------------------------

export function encodeVersion(): Buffer {
  return mlpVersion.encode({ size: mlpVersion.size, abi_major: ABI_MAJOR, abi_minor: ABI_MINOR });
}

/** The kernel's answer; `sizes` holds the kernel's sizeof of every struct. */
export interface VersionReply extends VersionInfo {
  sizes: {
    subsysInfo: number;
    state: number;
    recommendation: number;
    mode: number;
    status: number;
    feedback: number;
    claim: number;
  };
}

export function decodeVersion(buf: Buffer): VersionReply {
  const v = mlpVersion.decode(buf);
  return {
    abiMajor: num(v, 'abi_major'),
    abiMinor: num(v, 'abi_minor'),
    compatible: num(v, 'compatible') === 1,
    nrSubsys: num(v, 'nr_subsys'),
    maxSubsys: num(v, 'max_subsys'),
    maxFeatures: num(v, 'max_features'),
    maxKnobs: num(v, 'max_knobs'),
    ringRecords: num(v, 'ring_records'),
    sizes: {
      subsysInfo: num(v, 'sizeof_subsys_info'),
      state: num(v, 'sizeof_state'),
      recommendation: num(v, 'sizeof_recommendation'),
      mode: num(v, 'sizeof_mode'),
      status: num(v, 'sizeof_status'),
      feedback: num(v, 'sizeof_feedback'),
      claim: num(v, 'sizeof_claim'),
    },
  };
}

/** Our sizeof of every struct, to compare with VersionReply.sizes. */
export const LOCAL_SIZES: VersionReply['sizes'] = {
  subsysInfo: mlpSubsysInfo.size,
  state: mlpState.size,
  recommendation: mlpRecommendation.size,
  mode: mlpMode.size,
  status: mlpStatus.size,
  feedback: mlpFeedback.size,
  claim: mlpClaim.size,
};

// ---- mlp_subsys_info ---------------------------------------------------------------

export function encodeSubsysInfoQuery(index: number): Buffer {
  return mlpSubsysInfo.encode({ size: mlpSubsysInfo.size, index });
}

export function decodeSubsysInfo(buf: Buffer): SubsystemInfo {
  const v = mlpSubsysInfo.decode(buf);
  const features: FeatureDesc[] = recs(v, 'features')
    .slice(0, num(v, 'nr_features'))
    .map((f) => ({ name: str(f, 'name'), unit: str(f, 'unit'), scale: num(f, 'scale') }));
  const knobs: KnobDesc[] = recs(v, 'knobs')
    .slice(0, num(v, 'nr_knobs'))
    .map((k) => ({
      name: str(k, 'name'),
      unit: str(k, 'unit'),
      min: num(k, 'min'),
      max: num(k, 'max'),
      step: num(k, 'step'),
      def: num(k, 'def'),
      maxDelta: num(k, 'max_delta'),
    }));
  return { id: num(v, 'id'), name: str(v, 'name'), windowMs: num(v, 'window_ms'), features, knobs };
}

/** The kernel side of SUBSYS_INFO (used by round-trip tests). */
export function encodeSubsysInfo(info: SubsystemInfo, index: number): Buffer {
  return mlpSubsysInfo.encode({
    size: mlpSubsysInfo.size,
    index,
    id: info.id,
    nr_features: info.features.length,
    nr_knobs: info.knobs.length,
    window_ms: info.windowMs,
    name: info.name,
    features: info.features.map((f) => ({ name: f.name, unit: f.unit, scale: f.scale })),
    knobs: info.knobs.map((k) => ({
      name: k.name,
      unit: k.unit,
      min: k.min,
      max: k.max,
      step: k.step,
      def: k.def,
      max_delta: k.maxDelta,
    })),
  });
}

// ---- mlp_state ---------------------------------------------------------------------

export function encodeStateQuery(subsysId: number): Buffer {
  return mlpState.encode({ size: mlpState.size, subsys_id: subsysId });
}

export function decodeState(buf: Buffer): StateSnapshot {
  const v = mlpState.decode(buf);
  return {
    subsysId: num(v, 'subsys_id'),
    epoch: num(v, 'epoch'),
    timeNs: num(v, 'time_ns'),
    mode: checkMode(num(v, 'mode')),
    nextAdvice: num(v, 'next_advice') !== 0,
    features: nums(v, 'features').slice(0, num(v, 'nr_features')),
    knobs: nums(v, 'knobs').slice(0, num(v, 'nr_knobs')),
    baselineEff: effFromRaw(num(v, 'baseline_eff')),
  };
}

export function encodeState(s: StateSnapshot): Buffer {
  return mlpState.encode({
    size: mlpState.size,
    subsys_id: s.subsysId,
    epoch: s.epoch,
    time_ns: s.timeNs,
    mode: s.mode,
    next_advice: s.nextAdvice ? 1 : 0,
    nr_features: s.features.length,
    nr_knobs: s.knobs.length,
    features: s.features,
    knobs: s.knobs,
    baseline_eff: Math.round(s.baselineEff * EFF_SCALE),
  });
}

// ---- mlp_recommendation ----------------------------------------------------------------

export function encodeRecommendation(r: Recommendation): Buffer {
  if (r.knobs.length === 0 || r.knobs.length > MAX_KNOBS) {
    throw new RangeError(`recommendation needs 1..${MAX_KNOBS} knobs, got ${r.knobs.length}`);
  }
  const ttl = r.ttlMs ?? 0;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_MS) {
    throw new RangeError(`ttlMs must be an integer in 0..${MAX_TTL_MS}, got ${String(ttl)}`);
  }
  return mlpRecommendation.encode({
    size: mlpRecommendation.size,
    subsys_id: r.subsysId,
    epoch: r.epoch,
    model_version: r.modelVersion,
    propensity: propensityToRaw(r.propensity),
    nr_knobs: r.knobs.length,
    ttl_ms: ttl,
    flags: r.strict ? REC_F_STRICT : 0,
    knobs: r.knobs,
  });
}

export function decodeRecommendResult(buf: Buffer): RecommendResult {
  const v = mlpRecommendation.decode(buf);
  return {
    recId: num(v, 'rec_id'),
    targetEpoch: num(v, 'target_epoch'),
    verdict: num(v, 'verdict') as VerdictValue,
    reasons: num(v, 'reasons'),
    applied: nums(v, 'applied').slice(0, num(v, 'nr_knobs')),
  };
}

/** Decodes the "in" half of a recommendation (the kernel's view; for round-trip tests). */
export function decodeRecommendation(buf: Buffer): Recommendation {
  const v = mlpRecommendation.decode(buf);
  return {
    subsysId: num(v, 'subsys_id'),
    epoch: num(v, 'epoch'),
    modelVersion: num(v, 'model_version'),
    propensity: num(v, 'propensity') / PROB_SCALE,
    knobs: nums(v, 'knobs').slice(0, num(v, 'nr_knobs')),
    ttlMs: num(v, 'ttl_ms'),
    strict: (num(v, 'flags') & REC_F_STRICT) !== 0,
  };
}

// ---- mlp_mode / mlp_claim --------------------------------------------------------------

export function encodeMode(subsysId: number, mode: number, pin: boolean): Buffer {
  return mlpMode.encode({
    size: mlpMode.size,
    subsys_id: subsysId,
    mode: checkMode(mode),
    flags: pin ? MODE_F_PIN : 0,
  });
}

export function encodeModeQuery(subsysId: number): Buffer {
  return mlpMode.encode({ size: mlpMode.size, subsys_id: subsysId });
}

export function decodeMode(buf: Buffer): ModeInfo {
  const v = mlpMode.decode(buf);
  return { mode: checkMode(num(v, 'mode')), pinned: (num(v, 'flags') & MODE_F_PIN) !== 0 };
}

export function encodeClaim(subsysId: number, release = false): Buffer {
  return mlpClaim.encode({
    size: mlpClaim.size,
    subsys_id: subsysId,
    flags: release ? CLAIM_F_RELEASE : 0,
  });
}

// ---- mlp_status ------------------------------------------------------------------------

export function encodeStatusQuery(subsysId: number): Buffer {
  return mlpStatus.encode({ size: mlpStatus.size, subsys_id: subsysId });
}

export function decodeStatus(buf: Buffer): Status {
  const v = mlpStatus.decode(buf);
  const flags = num(v, 'flags');
  const mw = nums(v, 'mode_windows');
  return {
    subsysId: num(v, 'subsys_id'),
    mode: checkMode(num(v, 'mode')),
    pinned: (flags & STATUS_F_PINNED) !== 0,
    controlled: (flags & STATUS_F_CONTROLLED) !== 0,
    heartbeatOk: (flags & STATUS_F_HEARTBEAT_OK) !== 0,
    mine: (flags & STATUS_F_MINE) !== 0,
    epoch: num(v, 'epoch'),
    windows: num(v, 'windows'),
    adviceWindows: num(v, 'advice_windows'),
    baselineWindows: num(v, 'baseline_windows'),
    modeWindows: [mw[0], mw[1], mw[2], mw[3]],
    recs: num(v, 'recs'),
    recsApplied: num(v, 'recs_applied'),
    recsClamped: num(v, 'recs_clamped'),
    recsRejected: num(v, 'recs_rejected'),
    recsShadowed: num(v, 'recs_shadowed'),
    recsExpired: num(v, 'recs_expired'),
    feedbackRecords: num(v, 'feedback_records'),
    feedbackDropped: num(v, 'feedback_dropped'),
    transitions: num(v, 'transitions'),
    promotions: num(v, 'promotions'),
    demotions: num(v, 'demotions'),
    emergencies: num(v, 'emergencies'),
    heartbeatMisses: num(v, 'heartbeat_misses'),
    lastTransitionEpoch: num(v, 'last_transition_epoch'),
    lastTransition: num(v, 'last_transition'),
    goodStreak: num(v, 'good_streak'),
    baselineEff: effFromRaw(num(v, 'baseline_eff')),
    lastEff: effFromRaw(num(v, 'last_eff')),
    controllerPid: num(v, 'controller_pid'),
  };
}

// ---- mlp_feedback ----------------------------------------------------------------------

export const FEEDBACK_SIZE = mlpFeedback.size;

export function decodeFeedback(buf: Buffer): Feedback {
  const v = mlpFeedback.decode(buf);
  if (num(v, 'size') !== mlpFeedback.size) {
    throw new RangeError(
      `feedback record says size ${num(v, 'size')}, expected ${mlpFeedback.size} (ABI mismatch)`,
    );
  }
  return {
    subsysId: num(v, 'subsys_id'),
    recId: num(v, 'rec_id'),
    epoch: num(v, 'epoch'),
    windowStartNs: num(v, 'window_start_ns'),
    windowNs: num(v, 'window_ns'),
    mode: checkMode(num(v, 'mode')),
    applied: num(v, 'applied') !== 0,
    verdict: num(v, 'verdict') as VerdictValue,
    reasons: num(v, 'reasons'),
    baselineEff: effFromRaw(num(v, 'baseline_eff')),
    eff: effFromRaw(num(v, 'eff')),
    knobs: nums(v, 'knobs'),
  };
}

/** Decodes a read() result holding whole feedback records. */
export function decodeFeedbackRecords(buf: Buffer): Feedback[] {
  if (buf.length % FEEDBACK_SIZE !== 0) {
    throw new RangeError(
      `read ${buf.length} bytes, not a whole number of ${FEEDBACK_SIZE}-byte feedback records`,
    );
  }
  const out: Feedback[] = [];
  for (let at = 0; at < buf.length; at += FEEDBACK_SIZE) {
    out.push(decodeFeedback(buf.subarray(at, at + FEEDBACK_SIZE)));
  }
  return out;
}

/** The kernel side of a feedback record (for round-trip tests and fixtures). */
export function encodeFeedback(f: Feedback): Buffer {
  return mlpFeedback.encode({
    size: mlpFeedback.size,
    subsys_id: f.subsysId,
    rec_id: f.recId,
    epoch: f.epoch,
    window_start_ns: f.windowStartNs,
    window_ns: f.windowNs,
    mode: f.mode,
    applied: f.applied ? 1 : 0,
    verdict: f.verdict,
    reasons: f.reasons,
    baseline_eff: Math.round(f.baselineEff * EFF_SCALE),
    eff: Math.round(f.eff * EFF_SCALE),
    knobs: f.knobs,
  });
}
