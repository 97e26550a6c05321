/**
 * The policy pointer (KV key policy.<subsystem>) and the policy object it points to
 * (object store), and the checks a host makes before it adopts one: the object's sha256
 * against the pointer, the object's header against the pointer, the minimum ABI, the knob
 * schema and shape, and that the snapshot restores. A host treats the server's content as
 * untrusted input: every field is validated, every refusal names its reason.
 */
import { Ajv } from 'ajv';
import type { PolicySnapshot } from '../../policies/types.js';
import type { HookSubsystem } from '../loop/hooks.js';
import { sha256Hex } from './names.js';

export const POINTER_FORMAT = 'mlproxy-fleet-pointer';
export const OBJECT_FORMAT = 'mlproxy-fleet-policy';

export interface EstimateJson {
  value: number;
  lo: number;
  hi: number;
  n: number;
}

/** What the gate measured on held-out samples before the version was published. */
export interface FleetEvaluation {
  estimator: string;
  samples: number;
  hosts: number;
  /** Mean logged reward of the held-out samples (what the hosts earned). */
  logged: EstimateJson;
  candidate: EstimateJson;
  /** The kernel's baseline: 0.5 by the reward's definition (an interval of width 0). */
  baseline: EstimateJson;
  /** candidate - baseline. */
  vsBaseline: EstimateJson;
  /**
   * The held-out log's support for the candidate: the effective sample size of its
   * importance weights and the share of its choices with a positive logging probability
   * (src/ope Support); absent in pointers of older trainers.
   */
  support?: { ess: number; supported: number };
  /** Against the fleet policy in force, when there was one (paired per decision). */
  current: { version: number; value: EstimateJson; difference: EstimateJson } | null;
}

/** What a published version is; the object's header and the pointer both carry it. */
export interface PolicyHeader {
  fleet: string;
  subsystem: string;
  version: number;
  /** Policy spec the snapshot was trained with (the hosts' configured policy). */
  spec: string;
  /** Knob schema (ArmGrid.signature()) of the hosts whose data trained it. */
  signature: string;
  k: number;
  d: number;
  baselineArm: number;
  minAbi: { major: number; minor: number };
  trainedSamples: number;
  evaluation: FleetEvaluation;
  createdAt: string;
  trainer: string;
}

export interface PolicyPointer extends PolicyHeader {
  format: typeof POINTER_FORMAT;
  v: 1;
  object: string;
  sha256: string;
  bytes: number;
  /** Share of hosts (by rolloutBucket) that take this version, in [0, 1]. */
  rollout: number;
  /** Set by an operator (mlproxy fleet pin/rollback); the trainer then publishes nothing. */
  pinned: { at: string; by: string; reason: string } | null;
}

export interface PolicyObject {
  format: typeof OBJECT_FORMAT;
  v: 1;
  header: PolicyHeader;
  snapshot: PolicySnapshot;
}

const estimate = {
  type: 'object',
  required: ['value', 'lo', 'hi', 'n'],
  properties: {
    value: { type: 'number' },
    lo: { type: 'number' },
    hi: { type: 'number' },
    n: { type: 'integer', minimum: 0 },
  },
} as const;

const headerProps = {
  fleet: { type: 'string' },
  subsystem: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
  version: { type: 'integer', minimum: 1 },
  spec: { type: 'string', minLength: 1 },
  signature: { type: 'string' },
  k: { type: 'integer', minimum: 1 },
  d: { type: 'integer', minimum: 0 },
  baselineArm: { type: 'integer', minimum: 0 },
  minAbi: {
    type: 'object',
    required: ['major', 'minor'],
    properties: { major: { type: 'integer' }, minor: { type: 'integer' } },
  },
  trainedSamples: { type: 'integer', minimum: 0 },
  evaluation: {
    type: 'object',
    required: ['candidate', 'baseline', 'vsBaseline'],
    properties: { candidate: estimate, baseline: estimate, vsBaseline: estimate },
  },
  createdAt: { type: 'string' },
  trainer: { type: 'string' },
} as const;
const headerRequired = Object.keys(headerProps);

const ajv = new Ajv({ allErrors: false, strict: false });
const checkPointerSchema = ajv.compile({
  type: 'object',
  required: ['format', 'v', 'object', 'sha256', 'bytes', 'rollout', 'pinned', ...headerRequired],
  properties: {
    format: { const: POINTER_FORMAT },
    v: { const: 1 },
    object: { type: 'string', minLength: 1 },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    bytes: { type: 'integer', minimum: 1 },
    rollout: { type: 'number', minimum: 0, maximum: 1 },
    pinned: { type: ['object', 'null'] },
    ...headerProps,
  },
});
const checkObjectSchema = ajv.compile({
  type: 'object',
  required: ['format', 'v', 'header', 'snapshot'],
  properties: {
    format: { const: OBJECT_FORMAT },
    v: { const: 1 },
    header: { type: 'object', required: headerRequired, properties: headerProps },
    snapshot: {
      type: 'object',
      required: ['kind', 'version', 'params', 'state', 'rng'],
      properties: { kind: { type: 'string' }, params: { type: 'object' } },
    },
  },
});

function schemaProblem(errors: typeof checkPointerSchema.errors): string {
  const e = errors?.[0];
  return e ? `${e.instancePath || '/'} ${e.message ?? 'is invalid'}` : 'invalid';
}

/** Parses a pointer value from the KV bucket; throws with the problem. */
export function parsePointer(bytes: Uint8Array): PolicyPointer {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error('the pointer is not JSON');
  }
  if (!checkPointerSchema(value)) {
    throw new Error(`the pointer is malformed: ${schemaProblem(checkPointerSchema.errors)}`);
  }
  return value as unknown as PolicyPointer;
}

export function encodeObject(header: PolicyHeader, snapshot: PolicySnapshot): Uint8Array {
  const obj: PolicyObject = { format: OBJECT_FORMAT, v: 1, header, snapshot };
  return new TextEncoder().encode(JSON.stringify(obj));
}

export function pointerFor(
  header: PolicyHeader,
  object: string,
  bytes: Uint8Array,
  rollout: number,
): PolicyPointer {
  return {
    format: POINTER_FORMAT,
    v: 1,
    ...header,
    object,
    sha256: sha256Hex(bytes),
    bytes: bytes.length,
    rollout,
    pinned: null,
  };
}

/** Why a fleet version was refused, by kind (the label of the refusals metric). */
export type RefusalKind = 'checksum' | 'corrupt' | 'mismatch' | 'abi' | 'shape' | 'policy';

export class Refusal extends Error {
  override name = 'Refusal';
  constructor(
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(message);
  }
}

/** The ABI of a host may run a version iff same major and minor >= the version's minimum. */
export function abiAllows(
  host: { major: number; minor: number },
  min: { major: number; minor: number },
): boolean {
  return host.major === min.major && host.minor >= min.minor;
}

/**
 * Checks a fetched object against its pointer and this host; returns the snapshot or
 * throws a Refusal. `bytes` are the object's exact bytes as the store returned them.
 */
export function verifyPolicyObject(
  pointer: PolicyPointer,
  bytes: Uint8Array,
  host: { abi: { major: number; minor: number }; subsystem: HookSubsystem },
): PolicySnapshot {
  const digest = sha256Hex(bytes);
  if (bytes.length !== pointer.bytes || digest !== pointer.sha256) {
    throw new Refusal(
      'checksum',
      `object ${pointer.object} has sha256 ${digest.slice(0, 12)}… (${bytes.length} bytes); the pointer says ${pointer.sha256.slice(0, 12)}… (${pointer.bytes} bytes)`,
    );
  }
  let obj: unknown;
  try {
    obj = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Refusal('corrupt', `object ${pointer.object} is not JSON`);
  }
  if (!checkObjectSchema(obj)) {
    throw new Refusal(
      'corrupt',
      `object ${pointer.object} is malformed: ${schemaProblem(checkObjectSchema.errors)}`,
    );
  }
  const { header, snapshot } = obj as unknown as PolicyObject;
  for (const key of ['fleet', 'subsystem', 'version', 'spec', 'signature', 'k', 'd'] as const) {
    if (JSON.stringify(header[key]) !== JSON.stringify(pointer[key])) {
      throw new Refusal(
        'mismatch',
        `object ${pointer.object} says ${key} ${JSON.stringify(header[key])}, the pointer ${JSON.stringify(pointer[key])}`,
      );
    }
  }
  if (!abiAllows(host.abi, header.minAbi)) {
    throw new Refusal(
      'abi',
      `version ${header.version} needs ABI ${header.minAbi.major}.${header.minAbi.minor} or a later ${header.minAbi.major}.x; this host has ${host.abi.major}.${host.abi.minor}`,
    );
  }
  const s = host.subsystem;
  if (header.signature !== s.signature || header.k !== s.k || header.d !== s.d) {
    throw new Refusal(
      'shape',
      `version ${header.version} was trained on knobs ${header.signature} (k ${header.k}, d ${header.d}); this host has ${s.signature} (k ${s.k}, d ${s.d})`,
    );
  }
  return snapshot;
}
