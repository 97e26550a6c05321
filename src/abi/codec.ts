/**
 * Typed encode/decode of every mlproxy struct to and from Buffers, in the shapes of
 * src/transport/device.ts. Efficiencies decode as floats (raw / EFF_SCALE);
 * propensities encode as round(p * PROB_SCALE) with 0 < p <= 1.
 *
 * Sizes: encoders build the full (ABI 1.1) struct; `truncate()` cuts one to an older
 * kernel's size (the kernel reads a missing tail as zero). Decoders accept any size
 * from the 1.0 size up, reading a missing tail as zero, as the kernel does.
 *
 * The decision path (feedback records, RECOMMEND, GET_STATE) has hand-written
 * little-endian codecs: the generic StructLayout codec costs 5-20 us per struct
 * (measured: scripts/vm/bench-vm.sh, docs/benchmarks.md), several times the system
 * call itself.
 */
import { endianness } from 'node:os';
import type {
  Feedback,
  FeatureDesc,
  KnobDesc,
  ModeInfo,
  RecommendResult,
  Recommendation,
  StateSnapshot,
  Status,
  SubsystemInfo,
  VersionInfo,
} from './types.js';
import type { ModeValue, VerdictValue } from './names.js';
import {
  ABI_MAJOR,
  ABI_MINOR,
  CLAIM_F_RELEASE,
  EFF_SCALE,
  FILE_SET_READ_TIMEOUT,
  FILE_SET_RECORD_SIZE,
  FILE_SET_SUBSCRIBE,
  FILE_WAKE,
  INFO_F_BY_ID,
  MAX_FEATURES,
  MAX_KNOBS,
  MAX_SUBSYS,
  MAX_TTL_MS,
  MODE_F_PIN,
  NR_MODES,
  PROB_SCALE,
  REASON_GONE,
  REC_F_STRICT,
  SIZEOF_FEEDBACK_VER0,
  STATUS_F_CONTROLLED,
  STATUS_F_HEARTBEAT_OK,
  STATUS_F_MINE,
  STATUS_F_PINNED,
} from './constants.js';
import type { StructLayout, StructValue } from './layout.js';
import {
  mlpClaim,
  mlpFeedback,
  mlpFileConfig,
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

const LE = endianness() === 'LE';
const TWO32 = 4294967296;

/** A buffer of the layout's full size: buf, or a zero-padded copy when it is shorter. */
function full(layout: StructLayout, buf: Buffer): Buffer {
  if (buf.length === layout.size) return buf;
  if (buf.length > layout.size) return buf.subarray(0, layout.size);
  const out = Buffer.alloc(layout.size);
  buf.copy(out);
  return out;
}

/** The first `size` bytes of an encoded struct, its size field set to size. */
export function truncate(buf: Buffer, size: number): Buffer {
  if (!Number.isInteger(size) || size < 4) throw new RangeError(`struct size ${size} < 4`);
  if (size >= buf.length) return buf;
  const out = Buffer.from(buf.subarray(0, size));
  out.writeUInt32LE(size, 0);
  return out;
}

function rdU64(b: Buffer, o: number): number {
  const hi = b.readUInt32LE(o + 4);
  if (hi > 0x1fffff) throw new RangeError(`u64 at offset ${o} exceeds 2^53 - 1`);
  return hi * TWO32 + b.readUInt32LE(o);
}

function rdS64(b: Buffer, o: number): number {
  const hi = b.readInt32LE(o + 4);
  if (hi > 0x1fffff || hi < -0x200000) throw new RangeError(`s64 at offset ${o} exceeds 2^53`);
  return hi * TWO32 + b.readUInt32LE(o);
}

/** Why v cannot be written as an s64 (`where` names the field). */
function s64Error(v: unknown, where: string): Error {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    return new TypeError(`${where}: expected an integer, got ${String(v)}`);
  }
  return new RangeError(`${where}: ${v} is outside +-(2^53 - 1)`);
}

/** `into` zeroed when it has the layout's size, else a fresh zeroed buffer. */
function reuse(layout: StructLayout, into: Buffer | undefined): Buffer {
  if (into && into.length === layout.size) {
    // Uint8Array's fill: Buffer's own parses its overloaded arguments on every call.
    Uint8Array.prototype.fill.call(into, 0);
    return into;
  }
  return Buffer.alloc(layout.size);
}

/** 32-bit word views of a buffer's memory (the hot paths read and write through them). */
interface Words {
  u: Uint32Array;
  i: Int32Array;
}

/** The u64 at byte offset o of the struct at word w. */
function wU64(v: Words, w: number, o: number): number {
  const hi = v.u[w + (o >> 2) + 1];
  if (hi > 0x1fffff) throw new RangeError(`u64 at offset ${o} exceeds 2^53 - 1`);
  return hi * TWO32 + v.u[w + (o >> 2)];
}

function wS64(v: Words, w: number, o: number): number {
  const hi = v.i[w + (o >> 2) + 1];
  if (hi > 0x1fffff || hi < -0x200000) throw new RangeError(`s64 at offset ${o} exceeds 2^53`);
  return hi * TWO32 + v.u[w + (o >> 2)];
}

function wS64s(v: Words, w: number, o: number, count: number): number[] {
  const out = new Array<number>(count);
  for (let k = 0; k < count; k++) out[k] = wS64(v, w, o + 8 * k);
  return out;
}

/** Word views of each ArrayBuffer the decoders have seen (IoctlDevice reuses its buffers). */
const views = new WeakMap<ArrayBufferLike, Words>();

/**
 * Word views over the memory of `b` and the word index of its first byte, on a
 * little-endian host for a 4-byte aligned buffer (else null: use Buffer's methods).
 * Typed-array loads are several times faster than Buffer's read methods.
 */
function viewsOf(b: Buffer): Words | null {
  if (!LE || b.byteOffset % 4 !== 0) return null;
  let v = views.get(b.buffer);
  if (!v) {
    const n = b.buffer.byteLength >> 2;
    v = { u: new Uint32Array(b.buffer, 0, n), i: new Int32Array(b.buffer, 0, n) };
    views.set(b.buffer, v);
  }
  return v;
}

/**
 * An aligned scratch struct written through 32-bit word views: the kernel half's
 * encoders of the records and states handed out every window (typed-array stores are
 * several times faster than Buffer's write methods). Little-endian hosts only; offsets
 * are the layouts' (64-bit fields are 8-aligned: the header has no implicit padding).
 */
class WordWriter {
  readonly bytes: Buffer;
  private readonly u: Uint32Array;
  private readonly i: Int32Array;

  constructor(size: number) {
    const ab = new ArrayBuffer(size);
    this.bytes = Buffer.from(ab);
    this.u = new Uint32Array(ab);
    this.i = new Int32Array(ab);
  }

  clear(): this {
    this.u.fill(0);
    return this;
  }

  u32(o: number, v: number): void {
    this.u[o >> 2] = v;
  }

  /** An s64 at byte offset o; `what` (with index k, if any) names it in an error. */
  s64(o: number, v: number, what: string, k = -1): void {
    if (!Number.isSafeInteger(v)) throw s64Error(v, k < 0 ? what : `${what}[${k}]`);
    const hi = Math.floor(v / TWO32);
    this.u[o >> 2] = v - hi * TWO32;
    this.i[(o >> 2) + 1] = hi;
  }

  u64(o: number, v: number, what: string): void {
    if (v < 0) throw new RangeError(`${what}: ${v} is negative`);
    this.s64(o, v, what);
  }

  s64s(o: number, vs: readonly number[], what: string): void {
    for (let k = 0; k < vs.length; k++) this.s64(o + 8 * k, vs[k], what, k);
  }
}

function rdS64s(b: Buffer, o: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = rdS64(b, o + 8 * i);
  return out;
}

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

/** The kernel's answer; `sizes` holds the kernel's sizeof of every struct (0: unknown). */
export interface VersionReply extends VersionInfo {
  /** The minor the kernel speaks to this file from now on (0 on a 1.0 module). */
  fileMinor: number;
  sizes: {
    version: number;
    subsysInfo: number;
    state: number;
    recommendation: number;
    mode: number;
    status: number;
    feedback: number;
    claim: number;
    fileConfig: number;
  };
}

export function decodeVersion(buf: Buffer): VersionReply {
  const v = mlpVersion.decode(full(mlpVersion, buf));
  return {
    abiMajor: num(v, 'abi_major'),
    abiMinor: num(v, 'abi_minor'),
    compatible: num(v, 'compatible') === 1,
    nrSubsys: num(v, 'nr_subsys'),
    maxSubsys: num(v, 'max_subsys'),
    maxFeatures: num(v, 'max_features'),
    maxKnobs: num(v, 'max_knobs'),
    ringRecords: num(v, 'ring_records'),
    generation: num(v, 'generation'),
    fileMinor: num(v, 'file_minor'),
    sizes: {
      version: num(v, 'sizeof_version') || buf.length,
      subsysInfo: num(v, 'sizeof_subsys_info'),
      state: num(v, 'sizeof_state'),
      recommendation: num(v, 'sizeof_recommendation'),
      mode: num(v, 'sizeof_mode'),
      status: num(v, 'sizeof_status'),
      feedback: num(v, 'sizeof_feedback'),
      claim: num(v, 'sizeof_claim'),
      fileConfig: num(v, 'sizeof_file_config'),
    },
  };
}

/**
 * The kernel half's view of a request: the scalar fields `names` maps to (key: the
 * header's field name), raw, nothing checked (the cold ioctls; the hot ones have their
 * own readers).
 */
function rawFields<K extends string>(
  layout: StructLayout,
  buf: Buffer,
  names: Record<K, string>,
): Record<K, number> {
  const v = layout.decode(full(layout, buf));
  const out = {} as Record<K, number>;
  for (const k in names) out[k] = num(v, names[k]);
  return out;
}

/** The kernel side of VERSION's input: the caller's major, minor and reserved word. */
export function decodeVersionRequest(buf: Buffer) {
  return rawFields(mlpVersion, buf, {
    abiMajor: 'abi_major',
    abiMinor: 'abi_minor',
    reserved: '__reserved',
  });
}

/** The kernel side of VERSION's answer. */
export function encodeVersionReply(v: VersionReply): Buffer {
  return mlpVersion.encode({
    size: mlpVersion.size,
    abi_major: v.abiMajor,
    abi_minor: v.abiMinor,
    compatible: v.compatible ? 1 : 0,
    nr_subsys: v.nrSubsys,
    max_subsys: v.maxSubsys,
    max_features: v.maxFeatures,
    max_knobs: v.maxKnobs,
    ring_records: v.ringRecords,
    sizeof_subsys_info: v.sizes.subsysInfo,
    sizeof_state: v.sizes.state,
    sizeof_recommendation: v.sizes.recommendation,
    sizeof_mode: v.sizes.mode,
    sizeof_status: v.sizes.status,
    sizeof_feedback: v.sizes.feedback,
    sizeof_claim: v.sizes.claim,
    sizeof_version: v.sizes.version,
    sizeof_file_config: v.sizes.fileConfig,
    generation: v.generation,
    file_minor: v.fileMinor,
  });
}

/** Our sizeof of every struct, to compare with VersionReply.sizes. */
export const LOCAL_SIZES: VersionReply['sizes'] = {
  version: mlpVersion.size,
  subsysInfo: mlpSubsysInfo.size,
  state: mlpState.size,
  recommendation: mlpRecommendation.size,
  mode: mlpMode.size,
  status: mlpStatus.size,
  feedback: mlpFeedback.size,
  claim: mlpClaim.size,
  fileConfig: mlpFileConfig.size,
};

// ---- mlp_subsys_info ---------------------------------------------------------------

/** SUBSYS_INFO of the subsystem at `index`, or (byId) of the subsystem with that id. */
export function encodeSubsysInfoQuery(index: number, byId = false): Buffer {
  return byId
    ? mlpSubsysInfo.encode({ size: mlpSubsysInfo.size, id: index, flags: INFO_F_BY_ID })
    : mlpSubsysInfo.encode({ size: mlpSubsysInfo.size, index });
}

/** The answer's position and registry generation (0 on a 1.0 module). */
export function decodeSubsysInfoPlace(buf: Buffer): { index: number; generation: number } {
  const v = mlpSubsysInfo.decode(full(mlpSubsysInfo, buf));
  return { index: num(v, 'index'), generation: num(v, 'generation') };
}

export function decodeSubsysInfo(buf: Buffer): SubsystemInfo {
  const v = mlpSubsysInfo.decode(full(mlpSubsysInfo, buf));
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

/** The kernel side of SUBSYS_INFO's input: raw fields. */
export function decodeSubsysInfoRequest(buf: Buffer) {
  return rawFields(mlpSubsysInfo, buf, {
    index: 'index',
    id: 'id',
    flags: 'flags',
    reserved: '__reserved',
  });
}

/**
 * The kernel side of SUBSYS_INFO (the fake kernel; round-trip tests): the subsystem at
 * `index`, with the registry generation and the caller's flags echoed (ABI 1.1).
 */
export function encodeSubsysInfo(
  info: SubsystemInfo,
  index: number,
  generation = 0,
  flags = 0,
): Buffer {
  return mlpSubsysInfo.encode({
    size: mlpSubsysInfo.size,
    index,
    generation,
    flags,
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

const ST_ID = mlpState.offsetOf('subsys_id');

/**
 * A struct with only `size` and the u32 at offset `at` set (a query by subsystem id),
 * into `into` (a reused buffer of the struct's size) or a fresh one: no allocation on
 * the paths that run every window (GET_STATE, HEARTBEAT).
 */
function idQuery(layout: StructLayout, field: string, at: number, id: number, into?: Buffer) {
  if (!LE) return layout.encode({ size: layout.size, [field]: id });
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new RangeError(`${layout.cName}.${field}: ${String(id)} is not a u32`);
  }
  const b = reuse(layout, into);
  b.writeUInt32LE(layout.size, 0);
  b.writeUInt32LE(id, at);
  return b;
}

export function encodeStateQuery(subsysId: number, into?: Buffer): Buffer {
  return idQuery(mlpState, 'subsys_id', ST_ID, subsysId, into);
}

const ST = {
  subsysId: mlpState.offsetOf('subsys_id'),
  epoch: mlpState.offsetOf('epoch'),
  timeNs: mlpState.offsetOf('time_ns'),
  mode: mlpState.offsetOf('mode'),
  nextAdvice: mlpState.offsetOf('next_advice'),
  nrFeatures: mlpState.offsetOf('nr_features'),
  nrKnobs: mlpState.offsetOf('nr_knobs'),
  features: mlpState.offsetOf('features'),
  knobs: mlpState.offsetOf('knobs'),
  baselineEff: mlpState.offsetOf('baseline_eff'),
  windowStart: mlpState.offsetOf('window_start_ns'),
  nextWindow: mlpState.offsetOf('next_window_ns'),
};

function counts(b: Buffer, fo: number, ko: number): [number, number] {
  const nf = b.readUInt32LE(fo);
  const nk = b.readUInt32LE(ko);
  if (nf > 16 || nk > MAX_KNOBS) throw new RangeError(`${nf} features / ${nk} knobs: ABI mismatch`);
  return [nf, nk];
}

export function decodeState(buf: Buffer): StateSnapshot {
  const b = full(mlpState, buf);
  if (!LE) return decodeStateGeneric(b);
  const [nf, nk] = counts(b, ST.nrFeatures, ST.nrKnobs);
  const v = viewsOf(b);
  if (v) {
    const w = b.byteOffset >> 2;
    return {
      subsysId: v.u[w + (ST.subsysId >> 2)],
      epoch: wU64(v, w, ST.epoch),
      timeNs: wU64(v, w, ST.timeNs),
      mode: checkMode(v.u[w + (ST.mode >> 2)]),
      nextAdvice: v.u[w + (ST.nextAdvice >> 2)] !== 0,
      features: wS64s(v, w, ST.features, nf),
      knobs: wS64s(v, w, ST.knobs, nk),
      baselineEff: effFromRaw(wS64(v, w, ST.baselineEff)),
      windowStartNs: wU64(v, w, ST.windowStart),
      nextWindowNs: wU64(v, w, ST.nextWindow),
    };
  }
  return {
    subsysId: b.readUInt32LE(ST.subsysId),
    epoch: rdU64(b, ST.epoch),
    timeNs: rdU64(b, ST.timeNs),
    mode: checkMode(b.readUInt32LE(ST.mode)),
    nextAdvice: b.readUInt32LE(ST.nextAdvice) !== 0,
    features: rdS64s(b, ST.features, nf),
    knobs: rdS64s(b, ST.knobs, nk),
    baselineEff: effFromRaw(rdS64(b, ST.baselineEff)),
    windowStartNs: rdU64(b, ST.windowStart),
    nextWindowNs: rdU64(b, ST.nextWindow),
  };
}

function decodeStateGeneric(b: Buffer): StateSnapshot {
  const v = mlpState.decode(b);
  return {
    subsysId: num(v, 'subsys_id'),
    epoch: num(v, 'epoch'),
    timeNs: num(v, 'time_ns'),
    mode: checkMode(num(v, 'mode')),
    nextAdvice: num(v, 'next_advice') !== 0,
    features: nums(v, 'features').slice(0, num(v, 'nr_features')),
    knobs: nums(v, 'knobs').slice(0, num(v, 'nr_knobs')),
    baselineEff: effFromRaw(num(v, 'baseline_eff')),
    windowStartNs: num(v, 'window_start_ns'),
    nextWindowNs: num(v, 'next_window_ns'),
  };
}

/**
 * The kernel side of GET_STATE (the fake kernel's reply, round-trip tests): the full
 * struct, into `into` (a reused buffer of the struct's size, zeroed first) or a fresh one.
 */
export function encodeState(s: StateSnapshot, into?: Buffer): Buffer {
  if (!LE) {
    const v = mlpState.encode({
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
      window_start_ns: s.windowStartNs ?? 0,
      next_window_ns: s.nextWindowNs ?? 0,
    });
    return into && into.length === v.length ? (v.copy(into), into) : v;
  }
  if (s.features.length > MAX_FEATURES || s.knobs.length > MAX_KNOBS) {
    throw new RangeError(`${s.features.length} features / ${s.knobs.length} knobs: too many`);
  }
  const w = stateScratch.clear();
  w.u32(0, mlpState.size);
  w.u32(ST.subsysId, s.subsysId);
  w.u64(ST.epoch, s.epoch, 'epoch');
  w.u64(ST.timeNs, s.timeNs, 'timeNs');
  w.u32(ST.mode, s.mode);
  w.u32(ST.nextAdvice, s.nextAdvice ? 1 : 0);
  w.u32(ST.nrFeatures, s.features.length);
  w.u32(ST.nrKnobs, s.knobs.length);
  w.s64s(ST.features, s.features, 'features');
  w.s64s(ST.knobs, s.knobs, 'knobs');
  w.s64(ST.baselineEff, Math.round(s.baselineEff * EFF_SCALE), 'baselineEff');
  w.u64(ST.windowStart, s.windowStartNs ?? 0, 'windowStartNs');
  w.u64(ST.nextWindow, s.nextWindowNs ?? 0, 'nextWindowNs');
  const b = into && into.length === mlpState.size ? into : Buffer.alloc(mlpState.size);
  w.bytes.copy(b);
  return b;
}

const stateScratch = new WordWriter(mlpState.size);

// ---- mlp_recommendation ----------------------------------------------------------------

const RC = {
  subsysId: mlpRecommendation.offsetOf('subsys_id'),
  epoch: mlpRecommendation.offsetOf('epoch'),
  modelVersion: mlpRecommendation.offsetOf('model_version'),
  propensity: mlpRecommendation.offsetOf('propensity'),
  nrKnobs: mlpRecommendation.offsetOf('nr_knobs'),
  ttl: mlpRecommendation.offsetOf('ttl_ms'),
  flags: mlpRecommendation.offsetOf('flags'),
  knobs: mlpRecommendation.offsetOf('knobs'),
  recId: mlpRecommendation.offsetOf('rec_id'),
  target: mlpRecommendation.offsetOf('target_epoch'),
  verdict: mlpRecommendation.offsetOf('verdict'),
  reasons: mlpRecommendation.offsetOf('reasons'),
  applied: mlpRecommendation.offsetOf('applied'),
};

function badField(k: string, v: number): RangeError {
  return new RangeError(`recommendation ${k} must be a non-negative integer, got ${String(v)}`);
}

function checkRecommendation(r: Recommendation): number {
  if (r.knobs.length === 0 || r.knobs.length > MAX_KNOBS) {
    throw new RangeError(`recommendation needs 1..${MAX_KNOBS} knobs, got ${r.knobs.length}`);
  }
  const ttl = r.ttlMs ?? 0;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_MS) {
    throw new RangeError(`ttlMs must be an integer in 0..${MAX_TTL_MS}, got ${String(ttl)}`);
  }
  // One call per decision: plain checks, no arrays built.
  if (!Number.isSafeInteger(r.subsysId) || r.subsysId < 0 || r.subsysId > 0xffffffff) {
    throw badField('subsysId', r.subsysId);
  }
  if (!Number.isSafeInteger(r.epoch) || r.epoch < 0) throw badField('epoch', r.epoch);
  if (!Number.isSafeInteger(r.modelVersion) || r.modelVersion < 0) {
    throw badField('modelVersion', r.modelVersion);
  }
  return ttl;
}

/**
 * The recommendation as a full-size struct: into `into` (a reused buffer of the
 * struct's size, zeroed first) or a fresh one.
 */
export function encodeRecommendation(r: Recommendation, into?: Buffer): Buffer {
  const ttl = checkRecommendation(r);
  if (!LE) {
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
  const w = recScratch.clear();
  w.u32(0, mlpRecommendation.size);
  w.u32(RC.subsysId, r.subsysId);
  w.u64(RC.epoch, r.epoch, 'epoch');
  w.u64(RC.modelVersion, r.modelVersion, 'modelVersion');
  w.u32(RC.propensity, propensityToRaw(r.propensity));
  w.u32(RC.nrKnobs, r.knobs.length);
  w.u32(RC.ttl, ttl);
  w.u32(RC.flags, r.strict ? REC_F_STRICT : 0);
  w.s64s(RC.knobs, r.knobs, 'knobs');
  const b =
    into && into.length === mlpRecommendation.size ? into : Buffer.alloc(mlpRecommendation.size);
  w.bytes.copy(b);
  return b;
}

export function decodeRecommendResult(buf: Buffer): RecommendResult {
  const b = full(mlpRecommendation, buf);
  const nk = b.readUInt32LE(RC.nrKnobs);
  if (nk > MAX_KNOBS) throw new RangeError(`nr_knobs ${nk}: ABI mismatch`);
  if (!LE) {
    const v = mlpRecommendation.decode(b);
    return {
      recId: num(v, 'rec_id'),
      targetEpoch: num(v, 'target_epoch'),
      verdict: num(v, 'verdict') as VerdictValue,
      reasons: num(v, 'reasons'),
      applied: nums(v, 'applied').slice(0, nk),
    };
  }
  const v = viewsOf(b);
  if (v) {
    const w = b.byteOffset >> 2;
    return {
      recId: wU64(v, w, RC.recId),
      targetEpoch: wU64(v, w, RC.target),
      verdict: v.u[w + (RC.verdict >> 2)] as VerdictValue,
      reasons: v.u[w + (RC.reasons >> 2)],
      applied: wS64s(v, w, RC.applied, nk),
    };
  }
  return {
    recId: rdU64(b, RC.recId),
    targetEpoch: rdU64(b, RC.target),
    verdict: b.readUInt32LE(RC.verdict) as VerdictValue,
    reasons: b.readUInt32LE(RC.reasons),
    applied: rdS64s(b, RC.applied, nk),
  };
}

/** The "in" half of a recommendation as the kernel reads it: raw fields, nothing checked. */
export interface RecommendationRequest {
  subsysId: number;
  epoch: number;
  modelVersion: number;
  /** Fixed point, PROB_SCALE = 1. */
  propensity: number;
  nrKnobs: number;
  ttlMs: number;
  flags: number;
  /** All MAX_KNOBS slots. */
  knobs: number[];
}

/** The kernel side of RECOMMEND's input (the fake kernel; round-trip tests). */
export function decodeRecommendationRequest(buf: Buffer): RecommendationRequest {
  const b = full(mlpRecommendation, buf);
  if (!LE) {
    const v = mlpRecommendation.decode(b);
    return {
      subsysId: num(v, 'subsys_id'),
      epoch: num(v, 'epoch'),
      modelVersion: num(v, 'model_version'),
      propensity: num(v, 'propensity'),
      nrKnobs: num(v, 'nr_knobs'),
      ttlMs: num(v, 'ttl_ms'),
      flags: num(v, 'flags'),
      knobs: nums(v, 'knobs'),
    };
  }
  const v = viewsOf(b);
  if (v) {
    const w = b.byteOffset >> 2;
    return {
      subsysId: v.u[w + (RC.subsysId >> 2)],
      epoch: wU64(v, w, RC.epoch),
      modelVersion: wU64(v, w, RC.modelVersion),
      propensity: v.u[w + (RC.propensity >> 2)],
      nrKnobs: v.u[w + (RC.nrKnobs >> 2)],
      ttlMs: v.u[w + (RC.ttl >> 2)],
      flags: v.u[w + (RC.flags >> 2)],
      knobs: wS64s(v, w, RC.knobs, MAX_KNOBS),
    };
  }
  return {
    subsysId: b.readUInt32LE(RC.subsysId),
    epoch: rdU64(b, RC.epoch),
    modelVersion: rdU64(b, RC.modelVersion),
    propensity: b.readUInt32LE(RC.propensity),
    nrKnobs: b.readUInt32LE(RC.nrKnobs),
    ttlMs: b.readUInt32LE(RC.ttl),
    flags: b.readUInt32LE(RC.flags),
    knobs: rdS64s(b, RC.knobs, MAX_KNOBS),
  };
}

/** Decodes the "in" half of a recommendation (the kernel's view; for round-trip tests). */
export function decodeRecommendation(buf: Buffer): Recommendation {
  const r = decodeRecommendationRequest(buf);
  return {
    subsysId: r.subsysId,
    epoch: r.epoch,
    modelVersion: r.modelVersion,
    propensity: r.propensity / PROB_SCALE,
    knobs: r.knobs.slice(0, Math.min(r.nrKnobs, MAX_KNOBS)),
    ttlMs: r.ttlMs,
    strict: (r.flags & REC_F_STRICT) !== 0,
  };
}

/**
 * The kernel side of RECOMMEND's answer, into `into` (the struct's size): the caller's
 * fields echoed (`req`, with ttl_ms as the kernel took it), the kernel's set, all else 0.
 */
export function encodeRecommendReply(
  req: RecommendationRequest,
  res: RecommendResult,
  into?: Buffer,
): Buffer {
  if (!LE) {
    const v = mlpRecommendation.encode({
      size: mlpRecommendation.size,
      subsys_id: req.subsysId,
      epoch: req.epoch,
      model_version: req.modelVersion,
      propensity: req.propensity,
      nr_knobs: req.nrKnobs,
      ttl_ms: req.ttlMs,
      flags: req.flags,
      knobs: req.knobs,
      rec_id: res.recId,
      target_epoch: res.targetEpoch,
      verdict: res.verdict,
      reasons: res.reasons,
      applied: res.applied,
    });
    return into && into.length === v.length ? (v.copy(into), into) : v;
  }
  const w = replyScratch.clear();
  w.u32(0, mlpRecommendation.size);
  w.u32(RC.subsysId, req.subsysId);
  w.u64(RC.epoch, req.epoch, 'epoch');
  w.u64(RC.modelVersion, req.modelVersion, 'modelVersion');
  w.u32(RC.propensity, req.propensity);
  w.u32(RC.nrKnobs, req.nrKnobs);
  w.u32(RC.ttl, req.ttlMs);
  w.u32(RC.flags, req.flags);
  w.s64s(RC.knobs, req.knobs, 'knobs');
  w.u64(RC.recId, res.recId, 'recId');
  w.u64(RC.target, res.targetEpoch, 'targetEpoch');
  w.u32(RC.verdict, res.verdict);
  w.u32(RC.reasons, res.reasons);
  w.s64s(RC.applied, res.applied, 'applied');
  const b =
    into && into.length === mlpRecommendation.size ? into : Buffer.alloc(mlpRecommendation.size);
  w.bytes.copy(b);
  return b;
}

const recScratch = new WordWriter(mlpRecommendation.size);
const replyScratch = new WordWriter(mlpRecommendation.size);

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

const CL = {
  subsysId: mlpClaim.offsetOf('subsys_id'),
  flags: mlpClaim.offsetOf('flags'),
  reserved: mlpClaim.offsetOf('__reserved'),
};

export function encodeClaim(subsysId: number, release = false, into?: Buffer): Buffer {
  if (!LE || release) {
    return mlpClaim.encode({
      size: mlpClaim.size,
      subsys_id: subsysId,
      flags: release ? CLAIM_F_RELEASE : 0,
    });
  }
  return idQuery(mlpClaim, 'subsys_id', CL.subsysId, subsysId, into);
}

/** The kernel side of SET_MODE/GET_MODE's input: raw fields. */
export function decodeModeRequest(buf: Buffer) {
  return rawFields(mlpMode, buf, { subsysId: 'subsys_id', mode: 'mode', flags: 'flags' });
}

/** The kernel side of GET_MODE's answer. */
export function encodeModeReply(subsysId: number, m: ModeInfo): Buffer {
  return mlpMode.encode({
    size: mlpMode.size,
    subsys_id: subsysId,
    mode: m.mode,
    flags: m.pinned ? MODE_F_PIN : 0,
  });
}

/** The kernel side of CLAIM/HEARTBEAT's input: raw fields (a heartbeat per window: no allocation). */
export function decodeClaim(buf: Buffer): { subsysId: number; flags: number; reserved: number } {
  const b = full(mlpClaim, buf);
  if (!LE) {
    const v = mlpClaim.decode(b);
    return {
      subsysId: num(v, 'subsys_id'),
      flags: num(v, 'flags'),
      reserved: num(v, '__reserved'),
    };
  }
  return {
    subsysId: b.readUInt32LE(CL.subsysId),
    flags: b.readUInt32LE(CL.flags),
    reserved: b.readUInt32LE(CL.reserved),
  };
}

// ---- mlp_status ------------------------------------------------------------------------

export function encodeStatusQuery(subsysId: number): Buffer {
  return mlpStatus.encode({ size: mlpStatus.size, subsys_id: subsysId });
}

export function decodeStatus(buf: Buffer): Status {
  const v = mlpStatus.decode(full(mlpStatus, buf));
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
    workNs: num(v, 'work_ns'),
    workMaxNs: num(v, 'work_max_ns'),
    lateMaxNs: num(v, 'late_max_ns'),
    replans: num(v, 'replans'),
  };
}

/** The kernel side of GET_STATUS's answer (the fake kernel; round-trip tests). */
export function encodeStatus(s: Status): Buffer {
  const flags =
    (s.pinned ? STATUS_F_PINNED : 0) |
    (s.controlled ? STATUS_F_CONTROLLED : 0) |
    (s.heartbeatOk ? STATUS_F_HEARTBEAT_OK : 0) |
    (s.mine ? STATUS_F_MINE : 0);
  return mlpStatus.encode({
    size: mlpStatus.size,
    subsys_id: s.subsysId,
    mode: s.mode,
    flags,
    epoch: s.epoch,
    windows: s.windows,
    advice_windows: s.adviceWindows,
    baseline_windows: s.baselineWindows,
    mode_windows: [...s.modeWindows],
    recs: s.recs,
    recs_applied: s.recsApplied,
    recs_clamped: s.recsClamped,
    recs_rejected: s.recsRejected,
    recs_shadowed: s.recsShadowed,
    recs_expired: s.recsExpired,
    feedback_records: s.feedbackRecords,
    feedback_dropped: s.feedbackDropped,
    transitions: s.transitions,
    promotions: s.promotions,
    demotions: s.demotions,
    emergencies: s.emergencies,
    heartbeat_misses: s.heartbeatMisses,
    last_transition_epoch: s.lastTransitionEpoch,
    last_transition: s.lastTransition,
    good_streak: s.goodStreak,
    baseline_eff: Math.round(s.baselineEff * EFF_SCALE),
    last_eff: Math.round(s.lastEff * EFF_SCALE),
    controller_pid: s.controllerPid,
    work_ns: s.workNs,
    work_max_ns: s.workMaxNs,
    late_max_ns: s.lateMaxNs,
    replans: s.replans,
  });
}

// ---- mlp_feedback ----------------------------------------------------------------------

/** The full (ABI 1.1) record size; 1.0 records are SIZEOF_FEEDBACK_VER0 bytes. */
export const FEEDBACK_SIZE = mlpFeedback.size;

const FB = {
  subsysId: mlpFeedback.offsetOf('subsys_id'),
  recId: mlpFeedback.offsetOf('rec_id'),
  epoch: mlpFeedback.offsetOf('epoch'),
  start: mlpFeedback.offsetOf('window_start_ns'),
  len: mlpFeedback.offsetOf('window_ns'),
  mode: mlpFeedback.offsetOf('mode'),
  applied: mlpFeedback.offsetOf('applied'),
  verdict: mlpFeedback.offsetOf('verdict'),
  reasons: mlpFeedback.offsetOf('reasons'),
  baselineEff: mlpFeedback.offsetOf('baseline_eff'),
  eff: mlpFeedback.offsetOf('eff'),
  knobs: mlpFeedback.offsetOf('knobs'),
  nextMode: mlpFeedback.offsetOf('next_mode'),
  nextAdvice: mlpFeedback.offsetOf('next_advice'),
  nrFeatures: mlpFeedback.offsetOf('nr_features'),
  nrKnobs: mlpFeedback.offsetOf('nr_knobs'),
  nextEnd: mlpFeedback.offsetOf('next_end_ns'),
  nextFeatures: mlpFeedback.offsetOf('next_features'),
  nextKnobs: mlpFeedback.offsetOf('next_knobs'),
};

function checkRecordSize(buf: Buffer, at: number, n: number): void {
  if (n < SIZEOF_FEEDBACK_VER0 || buf.readUInt32LE(at) !== n) {
    throw new RangeError(
      `feedback record of ${n} bytes says size ${buf.length >= at + 4 ? buf.readUInt32LE(at) : '?'} ` +
        `(expected ${SIZEOF_FEEDBACK_VER0}..${FEEDBACK_SIZE}: ABI mismatch)`,
    );
  }
}

/** Decodes one record of `buf.length` bytes (1.0: 136; 1.1: 352, with `next`). */
export function decodeFeedback(buf: Buffer): Feedback {
  checkRecordSize(buf, 0, buf.length);
  if (!LE) return decodeFeedbackGeneric(full(mlpFeedback, buf), buf.length);
  return decodeFeedbackWords(words(buf), 0, buf.length);
}

/** The buffer as 32-bit words (a copy when it is not 4-byte aligned). */
function words(buf: Buffer): Words {
  const b = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf);
  return {
    u: new Uint32Array(b.buffer, b.byteOffset, b.length >> 2),
    i: new Int32Array(b.buffer, b.byteOffset, b.length >> 2),
  };
}

/**
 * The hot path: one record at word `w` of the views, `n` bytes long, with `nk` of its
 * knob slots (MAX_KNOBS unless the caller knows the subsystem's count). Reads 32-bit
 * words from typed arrays (several times faster than Buffer's read methods).
 */
function decodeFeedbackWords(v: Words, w: number, n: number, nk = MAX_KNOBS): Feedback {
  const u = v.u;
  const start = wU64(v, w, FB.start);
  const len = wU64(v, w, FB.len);
  const baselineEff = effFromRaw(wS64(v, w, FB.baselineEff));
  const f: Feedback = {
    subsysId: u[w + (FB.subsysId >> 2)],
    recId: wU64(v, w, FB.recId),
    epoch: wU64(v, w, FB.epoch),
    windowStartNs: start,
    windowNs: len,
    mode: checkMode(u[w + (FB.mode >> 2)]),
    applied: u[w + (FB.applied >> 2)] !== 0,
    verdict: u[w + (FB.verdict >> 2)] as VerdictValue,
    reasons: u[w + (FB.reasons >> 2)],
    baselineEff,
    eff: effFromRaw(wS64(v, w, FB.eff)),
    knobs: wS64s(v, w, FB.knobs, nk),
  };
  if (n >= FEEDBACK_SIZE && !(f.reasons & REASON_GONE)) {
    const nf = u[w + (FB.nrFeatures >> 2)];
    const nnk = u[w + (FB.nrKnobs >> 2)];
    if (nf > 16 || nnk > MAX_KNOBS)
      throw new RangeError(`${nf} features / ${nnk} knobs: ABI mismatch`);
    f.next = {
      subsysId: f.subsysId,
      epoch: f.epoch + 1,
      timeNs: start + len,
      mode: checkMode(u[w + (FB.nextMode >> 2)]),
      nextAdvice: u[w + (FB.nextAdvice >> 2)] !== 0,
      features: wS64s(v, w, FB.nextFeatures, nf),
      knobs: wS64s(v, w, FB.nextKnobs, nnk),
      baselineEff,
      windowStartNs: start + len,
      nextWindowNs: wU64(v, w, FB.nextEnd),
    };
  }
  return f;
}

function decodeFeedbackGeneric(b: Buffer, n: number): Feedback {
  const v = mlpFeedback.decode(b);
  const f: Feedback = {
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
  if (n >= FEEDBACK_SIZE && !(f.reasons & REASON_GONE)) {
    f.next = {
      subsysId: f.subsysId,
      epoch: f.epoch + 1,
      timeNs: f.windowStartNs + f.windowNs,
      mode: checkMode(num(v, 'next_mode')),
      nextAdvice: num(v, 'next_advice') !== 0,
      features: nums(v, 'next_features').slice(0, num(v, 'nr_features')),
      knobs: nums(v, 'next_knobs').slice(0, num(v, 'nr_knobs')),
      baselineEff: f.baselineEff,
      windowStartNs: f.windowStartNs + f.windowNs,
      nextWindowNs: num(v, 'next_end_ns'),
    };
  }
  return f;
}

/**
 * Decodes a read() result holding whole records of recordSize bytes each (default:
 * the size the first record says it has).
 */
export function decodeFeedbackRecords(buf: Buffer, recordSize?: number): Feedback[] {
  if (recordSize === undefined) recordSize = buf.length >= 4 ? buf.readUInt32LE(0) : 0;
  return new FeedbackReader(buf).decode(buf.length, recordSize);
}

/** The knob count of a subsystem id, when the reader knows it. */
export type KnobCounts = (subsysId: number) => number | undefined;

/**
 * Decodes read() results out of one fixed buffer (IoctlDevice's read buffer): its word
 * views are made once, and a record gets only its subsystem's knob slots when
 * `knobsOf` knows them (else MAX_KNOBS).
 */
export class FeedbackReader {
  private readonly v: Words;

  constructor(readonly buf: Buffer) {
    this.v = words(buf);
  }

  /** The records in the first n bytes of the buffer. */
  decode(n: number, recordSize: number, knobsOf?: KnobCounts): Feedback[] {
    if (n === 0) return [];
    if (recordSize < SIZEOF_FEEDBACK_VER0 || n % recordSize !== 0 || n > this.buf.length) {
      throw new RangeError(
        `read ${n} bytes, not a whole number of ${recordSize}-byte feedback records`,
      );
    }
    const buf = this.buf;
    const out: Feedback[] = [];
    if (!LE || recordSize % 4 !== 0) {
      for (let at = 0; at < n; at += recordSize) {
        const f = decodeFeedback(buf.subarray(at, at + recordSize));
        const nk = knobsOf?.(f.subsysId);
        if (nk !== undefined) f.knobs = f.knobs.slice(0, nk);
        out.push(f);
      }
      return out;
    }
    // A copy made by words() for an unaligned buffer would go stale: re-view it then.
    const v = buf.byteOffset % 4 === 0 ? this.v : words(buf);
    for (let at = 0; at < n; at += recordSize) {
      checkRecordSize(buf, at, recordSize);
      const w = at >> 2;
      const nk = knobsOf?.(v.u[w + (FB.subsysId >> 2)]);
      out.push(
        decodeFeedbackWords(
          v,
          w,
          recordSize,
          nk === undefined ? MAX_KNOBS : Math.min(nk, MAX_KNOBS),
        ),
      );
    }
    return out;
  }
}

/** A full-size record for encodeFeedbackInto (the kernel copies record_size bytes of it). */
const fbScratch = new WordWriter(mlpFeedback.size);

/**
 * The kernel side of one feedback record, as read() copies it: the first `size` bytes
 * of the full (1.1) struct, with `size` in its size field, written into `buf` at `at`.
 * The next-state fields come from `f.next` (zero when it has none, as for GONE).
 * No allocation: the fake kernel writes one per record it hands to read().
 */
export function encodeFeedbackInto(f: Feedback, buf: Buffer, at: number, size: number): void {
  if (!Number.isInteger(size) || size < SIZEOF_FEEDBACK_VER0 || size > FEEDBACK_SIZE) {
    throw new RangeError(
      `feedback record size ${size} is outside ${SIZEOF_FEEDBACK_VER0}..${FEEDBACK_SIZE}`,
    );
  }
  const n = f.next;
  if (!LE) {
    mlpFeedback
      .encode({
        size,
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
        ...(n
          ? {
              next_mode: n.mode,
              next_advice: n.nextAdvice ? 1 : 0,
              nr_features: n.features.length,
              nr_knobs: n.knobs.length,
              next_end_ns: n.nextWindowNs ?? 0,
              next_features: n.features,
              next_knobs: n.knobs,
            }
          : {}),
      })
      .copy(buf, at, 0, size);
    return;
  }
  if (f.knobs.length > MAX_KNOBS) throw new RangeError(`${f.knobs.length} knobs: too many`);
  const w = fbScratch.clear();
  w.u32(0, size);
  w.u32(FB.subsysId, f.subsysId);
  w.u64(FB.recId, f.recId, 'recId');
  w.u64(FB.epoch, f.epoch, 'epoch');
  w.u64(FB.start, f.windowStartNs, 'windowStartNs');
  w.u64(FB.len, f.windowNs, 'windowNs');
  w.u32(FB.mode, f.mode);
  w.u32(FB.applied, f.applied ? 1 : 0);
  w.u32(FB.verdict, f.verdict);
  w.u32(FB.reasons, f.reasons);
  w.s64(FB.baselineEff, Math.round(f.baselineEff * EFF_SCALE), 'baselineEff');
  w.s64(FB.eff, Math.round(f.eff * EFF_SCALE), 'eff');
  w.s64s(FB.knobs, f.knobs, 'knobs');
  if (n) {
    if (n.features.length > MAX_FEATURES || n.knobs.length > MAX_KNOBS) {
      throw new RangeError(`${n.features.length} features / ${n.knobs.length} knobs: too many`);
    }
    w.u32(FB.nextMode, n.mode);
    w.u32(FB.nextAdvice, n.nextAdvice ? 1 : 0);
    w.u32(FB.nrFeatures, n.features.length);
    w.u32(FB.nrKnobs, n.knobs.length);
    w.u64(FB.nextEnd, n.nextWindowNs ?? 0, 'nextWindowNs');
    w.s64s(FB.nextFeatures, n.features, 'next.features');
    w.s64s(FB.nextKnobs, n.knobs, 'next.knobs');
  }
  w.bytes.copy(buf, at, 0, size);
}

/**
 * The kernel side of a feedback record (for round-trip tests and fixtures): a 1.1
 * record when it has a next state, else a 1.0 one, unless `size` says otherwise.
 */
export function encodeFeedback(
  f: Feedback,
  size = f.next ? FEEDBACK_SIZE : SIZEOF_FEEDBACK_VER0,
): Buffer {
  const out = Buffer.alloc(size);
  encodeFeedbackInto(f, out, 0, size);
  return out;
}

// ---- mlp_file_config (ABI 1.1) ----------------------------------------------------------

export interface FileConfigRequest {
  /** Bytes per feedback record read() returns (SIZEOF_FEEDBACK_VER0..FEEDBACK_SIZE). */
  recordSize?: number;
  /** Longest wait of a blocking read() in ms (READ_TIMEOUT_NONE: forever); then it returns 0. */
  readTimeoutMs?: number;
  /** Subsystem ids to receive records of; [] = every subsystem. */
  subscribe?: readonly number[];
  /** Blocked readers of the file return now. */
  wake?: boolean;
}

export interface FileConfig {
  recordSize: number;
  readTimeoutMs: number;
  queued: number;
  subscribed: number[];
  dropped: number;
}

export function encodeFileConfig(req: FileConfigRequest = {}): Buffer {
  let flags = 0;
  if (req.recordSize !== undefined) flags |= FILE_SET_RECORD_SIZE;
  if (req.readTimeoutMs !== undefined) flags |= FILE_SET_READ_TIMEOUT;
  if (req.subscribe !== undefined) {
    flags |= FILE_SET_SUBSCRIBE;
    if (req.subscribe.length > MAX_SUBSYS) {
      throw new RangeError(`subscribe: at most ${MAX_SUBSYS} subsystem ids`);
    }
  }
  if (req.wake) flags |= FILE_WAKE;
  return mlpFileConfig.encode({
    size: mlpFileConfig.size,
    flags,
    record_size: req.recordSize ?? 0,
    read_timeout_ms: req.readTimeoutMs ?? 0,
    nr_subscribed: req.subscribe?.length ?? 0,
    subscribed: [...(req.subscribe ?? [])],
  });
}

export function decodeFileConfig(buf: Buffer): FileConfig {
  const v = mlpFileConfig.decode(full(mlpFileConfig, buf));
  return {
    recordSize: num(v, 'record_size'),
    readTimeoutMs: num(v, 'read_timeout_ms'),
    queued: num(v, 'queued'),
    subscribed: nums(v, 'subscribed').slice(0, num(v, 'nr_subscribed')),
    dropped: num(v, 'dropped'),
  };
}

/** The kernel side of MLP_IOC_FILE's input: raw fields, nothing checked. */
export interface FileConfigInput {
  flags: number;
  recordSize: number;
  readTimeoutMs: number;
  nrSubscribed: number;
  /** All MAX_SUBSYS slots. */
  subscribed: number[];
}

export function decodeFileConfigRequest(buf: Buffer): FileConfigInput {
  const b = full(mlpFileConfig, buf);
  return {
    ...rawFields(mlpFileConfig, b, {
      flags: 'flags',
      recordSize: 'record_size',
      readTimeoutMs: 'read_timeout_ms',
      nrSubscribed: 'nr_subscribed',
    }),
    subscribed: nums(mlpFileConfig.decode(b), 'subscribed'),
  };
}

/** The kernel side of MLP_IOC_FILE's answer: the flags echoed and the file's settings. */
export function encodeFileConfigReply(flags: number, c: FileConfig): Buffer {
  return mlpFileConfig.encode({
    size: mlpFileConfig.size,
    flags,
    record_size: c.recordSize,
    read_timeout_ms: c.readTimeoutMs,
    queued: c.queued,
    nr_subscribed: c.subscribed.length,
    subscribed: c.subscribed,
    dropped: c.dropped,
  });
}
