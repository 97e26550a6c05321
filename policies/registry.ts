/**
 * The policy registry: creates policies from a spec such as "linucb:alpha=1,lambda=1"
 * and restores them from snapshots. The catalogue (catalog.ts) lists the factories; each
 * policy's module owns its factory and its parameter validation. The registry checks
 * what every policy shares (a known kind, known parameter names, the shape) and hands
 * itself to each factory as its PolicyResolver, through which a wrapper builds and
 * restores its inner policy with the same checks.
 */
import { ALL_POLICIES } from './catalog.js';
import { checkArmCount } from './common.js';
import { isPolicySnapshot } from './snapshot.js';
import type {
  ParamValue,
  Policy,
  PolicyFactory,
  PolicyParams,
  PolicyResolver,
  PolicyShape,
  PolicySnapshot,
  PolicySpec,
} from './types.js';
import { PolicyArgumentError } from './types.js';

const FACTORIES = new Map<string, PolicyFactory>();
for (const f of ALL_POLICIES) {
  if (FACTORIES.has(f.kind)) throw new Error(`policy kind "${f.kind}" is registered twice`);
  FACTORIES.set(f.kind, f);
}

export function policyKinds(): PolicyFactory[] {
  return [...FACTORIES.values()];
}

/** The factory of `kind`; `role` names the policy in the error ("policy", "inner policy"). */
export function getFactory(kind: string, role = 'policy'): PolicyFactory {
  const f = FACTORIES.get(kind);
  if (!f) {
    throw new PolicyArgumentError(
      `unknown ${role} "${kind}"; known policies: ${[...FACTORIES.keys()].join(', ')}`,
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
 * (PolicyFactory.wraps), a parameter of its inner policy ("inner.<name>", checked when
 * the inner policy is built).
 */
export function acceptsParameter(f: PolicyFactory, key: string): boolean {
  return key in f.defaults || (f.wraps !== undefined && key.startsWith(`${f.wraps}.`));
}

function build(spec: PolicySpec, shape: PolicyShape, role: string): Policy {
  const { kind, params = {} } = spec;
  const f = getFactory(kind, role);
  for (const key of Object.keys(params)) {
    if (!acceptsParameter(f, key)) {
      const known = Object.keys(f.defaults);
      throw new PolicyArgumentError(
        `${role} "${kind}" has no parameter "${key}"; it takes ${known.length ? known.join(', ') : 'none'}`,
      );
    }
  }
  checkArmCount(shape.k);
  if (f.contextual && (!Number.isInteger(shape.d) || shape.d < 1)) {
    throw new PolicyArgumentError(
      `${role} "${kind}" is contextual and needs context length d >= 1, got ${String(shape.d)}`,
    );
  }
  return f.create(shape, { ...f.defaults, ...params }, REGISTRY);
}

function rebuild(snapshot: PolicySnapshot, role: string): Policy {
  if (!isPolicySnapshot(snapshot)) {
    throw new PolicyArgumentError(`${role} snapshot must be an object with a "kind" string`);
  }
  return getFactory(snapshot.kind, role).restore(snapshot, REGISTRY);
}

const REGISTRY: PolicyResolver = {
  create: (spec, shape, role = 'policy') => build(spec, shape, role),
  restore: (snapshot, role = 'policy') => rebuild(snapshot, role),
};

/** Rebuilds a policy from snapshot() output; it makes the same next decisions. */
export function restorePolicy(snapshot: PolicySnapshot): Policy {
  return rebuild(snapshot, 'policy');
}

/** Creates a policy from a spec string or a parsed spec; unknown parameters are errors. */
export function createPolicy(spec: string | PolicySpec, shape: PolicyShape): Policy {
  return build(typeof spec === 'string' ? parsePolicySpec(spec) : spec, shape, 'policy');
}
