/**
 * Parameter and snapshot checks shared by the contextual, RL and conservative policies.
 */
import type { PolicySnapshot } from '../types.js';
import { PolicyArgumentError } from '../types.js';

/** Throws unless the snapshot is of this kind and version; returns its params and state. */
export function openSnapshot(
  snapshot: PolicySnapshot,
  kind: string,
  version: number,
): { params: Record<string, unknown>; state: Record<string, unknown> } {
  if (!snapshot || typeof snapshot !== 'object') {
    throw new PolicyArgumentError(`${kind} snapshot must be an object`);
  }
  if (snapshot.kind !== kind) {
    throw new PolicyArgumentError(
      `snapshot is of policy "${String(snapshot.kind)}", not "${kind}"; use restorePolicy()`,
    );
  }
  if (snapshot.version !== version) {
    throw new PolicyArgumentError(
      `${kind} snapshot version ${String(snapshot.version)} is not supported (expected ${version})`,
    );
  }
  const { params, state } = snapshot;
  if (!params || typeof params !== 'object' || !state || typeof state !== 'object') {
    throw new PolicyArgumentError(`${kind} snapshot needs "params" and "state" objects`);
  }
  return { params, state };
}

/** A non-negative integer counter from a snapshot. */
export function countField(state: Record<string, unknown>, name: string): number {
  const v = state[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new PolicyArgumentError(`snapshot field "${name}" must be a non-negative integer`);
  }
  return v;
}

export function checkContextDim(d: number): void {
  if (!Number.isInteger(d) || d < 1) {
    throw new PolicyArgumentError(`context length d must be an integer >= 1, got ${String(d)}`);
  }
}

export function checkPositive(name: string, v: number, allowZero = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || (allowZero ? v < 0 : v <= 0)) {
    throw new PolicyArgumentError(
      `parameter "${name}" must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${String(v)}`,
    );
  }
}
