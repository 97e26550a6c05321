/**
 * Reading and checking policy snapshots: the one reader every policy's restore() uses.
 *
 * Every reader names the policy and the field it rejects, so a corrupt or hand-edited
 * snapshot fails loudly (PolicyArgumentError) instead of restoring a policy that silently
 * misbehaves.
 */
import { numberProblem, type NumberRule } from './common.js';
import { Rng, type RngState } from './rng.js';
import type { PolicySnapshot } from './types.js';
import { PolicyArgumentError } from './types.js';

export type Fields = Record<string, unknown>;

export interface OpenedSnapshot {
  readonly params: Fields;
  readonly state: Fields;
  readonly rng: Rng;
}

function corrupt(kind: string, what: string): PolicyArgumentError {
  return new PolicyArgumentError(`corrupt ${kind} snapshot: ${what}`);
}

function isRecord(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Whether `v` has the envelope of every policy's snapshot (an object with a "kind" string),
 * so restorePolicy() can pick the policy whose restore() reads the rest.
 */
export function isPolicySnapshot(v: unknown): v is PolicySnapshot {
  return isRecord(v) && typeof v.kind === 'string';
}

/** Checks kind, version and the presence of params, state and rng. */
export function openSnapshot(
  snapshot: PolicySnapshot,
  kind: string,
  version: number,
): OpenedSnapshot {
  if (!isRecord(snapshot)) throw corrupt(kind, 'it must be an object');
  if (snapshot.kind !== kind) {
    throw corrupt(
      kind,
      `"kind" is ${JSON.stringify(snapshot.kind)}, expected "${kind}" (restorePolicy() reads any policy's snapshot)`,
    );
  }
  if (snapshot.version !== version) {
    throw new PolicyArgumentError(
      `${kind} snapshot version ${JSON.stringify(snapshot.version)} is not supported; this build reads version ${version}`,
    );
  }
  if (!isRecord(snapshot.params)) throw corrupt(kind, '"params" must be an object');
  if (!isRecord(snapshot.state)) throw corrupt(kind, '"state" must be an object');
  return {
    params: snapshot.params,
    state: snapshot.state,
    rng: readRng(snapshot.rng, kind, 'rng'),
  };
}

/** Rebuilds an Rng from a snapshot field. */
export function readRng(value: unknown, kind: string, field: string): Rng {
  try {
    return Rng.fromState(value as RngState);
  } catch (e) {
    throw corrupt(kind, `"${field}" is not a valid Rng state (${(e as Error).message})`);
  }
}

/** Reads state[name] as a number obeying `rule`. */
export function readNumber(
  state: Fields,
  name: string,
  kind: string,
  rule: NumberRule = {},
): number {
  const v = state[name];
  const problem = numberProblem(v, rule);
  if (problem !== undefined) {
    throw corrupt(kind, `state.${name} must be ${problem}, got ${JSON.stringify(v)}`);
  }
  return v as number;
}

/** Reads state[name] as an array of `length` numbers obeying `rule`. */
export function readArray(
  state: Fields,
  name: string,
  length: number,
  kind: string,
  rule: NumberRule = {},
): Float64Array {
  return readNumbers(state[name], length, kind, `state.${name}`, rule);
}

/** Reads `v` (the snapshot's field `what`) as an array of `length` numbers obeying `rule`. */
export function readNumbers(
  v: unknown,
  length: number,
  kind: string,
  what: string,
  rule: NumberRule = {},
): Float64Array {
  if (!Array.isArray(v) || v.length !== length) {
    throw corrupt(kind, `${what} must be an array of ${length} numbers`);
  }
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const problem = numberProblem(v[i], rule);
    if (problem !== undefined) {
      throw corrupt(kind, `${what}[${i}] must be ${problem}, got ${JSON.stringify(v[i])}`);
    }
    out[i] = v[i] as number;
  }
  return out;
}

/**
 * Builds a policy from a snapshot's params with the checks a fresh one gets; a bad
 * parameter is reported as a corrupt snapshot.
 */
export function withSnapshotParams<T>(kind: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    throw corrupt(kind, `bad params (${(e as Error).message})`);
  }
}

/** Throws unless `ok`, naming the inconsistency. */
export function requireConsistent(ok: boolean, kind: string, what: string): void {
  if (!ok) throw corrupt(kind, what);
}

/** Sum of an array, for consistency checks such as "t equals the sum of the counts". */
export function total(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

/** Reads per-arm pull counts and reward sums, checking that they agree with state.t. */
export function readCountsAndSums(
  state: Fields,
  k: number,
  kind: string,
): { counts: Float64Array; sums: Float64Array; t: number } {
  const counts = readArray(state, 'counts', k, kind, { min: 0, integer: true });
  const sums = readArray(state, 'sums', k, kind);
  const t = readNumber(state, 't', kind, { min: 0, integer: true });
  requireConsistent(total(counts) === t, kind, 'state.t must equal the sum of the counts');
  for (let i = 0; i < k; i++) {
    requireConsistent(
      counts[i] > 0 || sums[i] === 0,
      kind,
      `arm ${i} has a reward sum but no pulls`,
    );
  }
  return { counts, sums, t };
}
