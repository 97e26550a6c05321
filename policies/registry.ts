/**
 * The policy registry: creates policies from a spec such as "linucb:alpha=1,lambda=1"
 * and restores them from snapshots. The catalogues list the policies; each entry owns
 * its parameter validation.
 */
import { BANDIT_POLICIES } from './catalog-bandits.js';
import { CONTEXTUAL_POLICIES } from './catalog-contextual.js';
import type { Policy, PolicySnapshot } from './types.js';
import { PolicyArgumentError } from './types.js';

export type ParamValue = number | string | boolean;
export type PolicyParams = Record<string, ParamValue>;

export interface PolicyShape {
  /** Number of arms, >= 1. */
  k: number;
  /** Context length; 0 for context-free problems. */
  d: number;
  /** Seed of the policy's Rng. */
  seed: number;
}

export interface PolicyFactory {
  kind: string;
  /** One line for --help and reports. */
  description: string;
  /** True when the policy needs a context of length d >= 1. */
  contextual: boolean;
  /** Accepted parameters with their defaults. */
  defaults: PolicyParams;
  create(shape: PolicyShape, params: PolicyParams): Policy;
  restore(snapshot: PolicySnapshot): Policy;
}

const FACTORIES = new Map<string, PolicyFactory>();
for (const f of [...BANDIT_POLICIES, ...CONTEXTUAL_POLICIES]) {
  if (FACTORIES.has(f.kind)) throw new Error(`policy kind "${f.kind}" is registered twice`);
  FACTORIES.set(f.kind, f);
}

export function policyKinds(): PolicyFactory[] {
  return [...FACTORIES.values()];
}

export function getFactory(kind: string): PolicyFactory {
  const f = FACTORIES.get(kind);
  if (!f) {
    throw new PolicyArgumentError(
      `unknown policy "${kind}"; known policies: ${[...FACTORIES.keys()].join(', ')}`,
    );
  }
  return f;
}

/** Parses "name:key=value,key=value" into a kind and typed parameters. */
export function parsePolicySpec(spec: string): { kind: string; params: PolicyParams } {
  const colon = spec.indexOf(':');
  const kind = (colon < 0 ? spec : spec.slice(0, colon)).trim();
  if (!kind)
    throw new PolicyArgumentError(`policy spec "${spec}" has no name; write e.g. "linucb:alpha=1"`);
  const params: PolicyParams = {};
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  for (const part of rest
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw new PolicyArgumentError(`policy spec "${spec}": "${part}" is not key=value`);
    }
    params[part.slice(0, eq).trim()] = parseValue(part.slice(eq + 1).trim());
  }
  return { kind, params };
}

function parseValue(raw: string): ParamValue {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  const n = Number(raw);
  return raw !== '' && Number.isFinite(n) ? n : raw;
}

/**
 * True when `key` is a parameter of the policy: one of its defaults or, for a wrapper
 * (a policy with an "inner" parameter), a parameter of its inner policy ("inner.<name>",
 * checked when the inner policy is built).
 */
export function acceptsParameter(f: PolicyFactory, key: string): boolean {
  return key in f.defaults || ('inner' in f.defaults && key.startsWith('inner.'));
}

/** Creates a policy from a spec string or a parsed spec; unknown parameters are errors. */
export function createPolicy(
  spec: string | { kind: string; params?: PolicyParams },
  shape: PolicyShape,
): Policy {
  const { kind, params = {} } = typeof spec === 'string' ? parsePolicySpec(spec) : spec;
  const f = getFactory(kind);
  for (const key of Object.keys(params)) {
    if (!acceptsParameter(f, key)) {
      const known = Object.keys(f.defaults);
      throw new PolicyArgumentError(
        `policy "${kind}" has no parameter "${key}"; it takes ${known.length ? known.join(', ') : 'none'}`,
      );
    }
  }
  if (!Number.isInteger(shape.k) || shape.k < 1) {
    throw new PolicyArgumentError(
      `number of arms K must be an integer >= 1, got ${String(shape.k)}`,
    );
  }
  if (f.contextual && (!Number.isInteger(shape.d) || shape.d < 1)) {
    throw new PolicyArgumentError(
      `policy "${kind}" is contextual and needs context length d >= 1, got ${String(shape.d)}`,
    );
  }
  return f.create(shape, { ...f.defaults, ...params });
}

/** Rebuilds a policy from snapshot() output; it makes the same next decisions. */
export function restorePolicy(snapshot: PolicySnapshot): Policy {
  if (!snapshot || typeof snapshot !== 'object' || typeof snapshot.kind !== 'string') {
    throw new PolicyArgumentError('policy snapshot must be an object with a "kind" string');
  }
  return getFactory(snapshot.kind).restore(snapshot);
}
