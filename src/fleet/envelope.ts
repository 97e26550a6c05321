/**
 * What a host publishes for each decision and reward it logs: the decision-log record
 * itself (src/decisionlog/record.ts) in an envelope that says who made it and under what
 * (host, subsystem, kernel mode, ABI, knob schema, fleet version in use, fallback and
 * clamp flags). The trainer checks every envelope: a host is not trusted.
 */
import type { DecisionRecord, RewardRecord } from '../decisionlog/record.js';
import { checkLogRecord } from '../decisionlog/schema.js';
import type { HookContext } from '../loop/hooks.js';
import { MODE_NAMES } from '../transport/device.js';
import { NAME_RE } from './names.js';

export const ENVELOPE_VERSION = 1;

export interface Envelope {
  v: typeof ENVELOPE_VERSION;
  host: string;
  subsystem: string;
  kind: 'decision' | 'reward';
  /** Kernel mode name when the record was made. */
  mode: string;
  abi: { major: number; minor: number };
  signature: string;
  k: number;
  d: number;
  baselineArm: number;
  /** Fleet version this host was running (null: its own policy). */
  fleetVersion: number | null;
  /** The decision was the safety layer's baseline fallback. */
  fallback: boolean;
  /** The kernel clamped the recommendation. */
  clamped: boolean;
  record: DecisionRecord | RewardRecord;
}

export function makeEnvelope(
  host: string,
  ctx: HookContext,
  record: DecisionRecord | RewardRecord,
  fleetVersion: number | null,
): Envelope {
  const s = ctx.subsystem;
  return {
    v: ENVELOPE_VERSION,
    host,
    subsystem: s.name,
    kind: record.type,
    mode: MODE_NAMES[ctx.mode] ?? String(ctx.mode),
    abi: ctx.abi,
    signature: s.signature,
    k: s.k,
    d: s.d,
    baselineArm: s.baselineArm,
    fleetVersion,
    fallback: record.type === 'decision' && record.policy === 'safety:baseline',
    clamped: record.verdict === 'clamped',
    record,
  };
}

const int = (v: unknown, lo: number, hi: number): boolean =>
  Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/** Parses and checks one message; returns the envelope or the problem. */
export function parseEnvelope(data: Uint8Array): Envelope | string {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
  } catch {
    return 'not JSON';
  }
  if (!v || typeof v !== 'object') return 'not an object';
  if (v.v !== ENVELOPE_VERSION)
    return `envelope version ${String(v.v)}, expected ${ENVELOPE_VERSION}`;
  if (typeof v.host !== 'string' || v.host.length === 0 || v.host.length > 255) return 'bad host';
  if (typeof v.subsystem !== 'string' || !NAME_RE.test(v.subsystem)) return 'bad subsystem';
  if (v.kind !== 'decision' && v.kind !== 'reward') return 'bad kind';
  if (typeof v.signature !== 'string') return 'bad signature';
  if (!int(v.k, 1, 1 << 20) || !int(v.d, 0, 1 << 16)) return 'bad k or d';
  if (!int(v.baselineArm, 0, (v.k as number) - 1)) return 'bad baselineArm';
  const abi = v.abi as { major?: unknown; minor?: unknown } | undefined;
  if (!abi || !int(abi.major, 0, 65535) || !int(abi.minor, 0, 65535)) return 'bad abi';
  const checked = checkLogRecord(v.record);
  if ('problem' in checked) return `record: ${checked.problem}`;
  if (checked.record.type !== v.kind) return 'kind does not match the record';
  if (checked.record.type === 'decision') {
    const r = checked.record;
    if (r.subsystem !== v.subsystem) return 'record subsystem does not match';
    if (r.k !== v.k || r.context.length !== v.d) return 'record shape does not match k, d';
  }
  return v as unknown as Envelope;
}
