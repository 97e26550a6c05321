/**
 * Adopting a policy learned elsewhere (the fleet's trainer): the snapshot must be of the
 * policy this learner is configured with (same kind, same parameters, same k and d). It
 * replaces the learned state only: the host keeps its own random stream (hosts that adopt
 * one snapshot must not explore in lockstep) and, when the conservative wrapper runs, the
 * wrapper's own exploration budget, which is about this host's rewards.
 */
import { createPolicy, parsePolicySpec, restorePolicy } from '../../policies/registry.js';
import type { PolicyParams } from '../../policies/registry.js';
import type { Policy, PolicySnapshot } from '../../policies/types.js';
import { effectiveSpec } from './policyspec.js';
import type { ConservativeSettings } from './policyspec.js';

/** The spec of the policy that learns: the inner one when the conservative wrapper runs. */
export function learningSpec(
  spec: string,
  conservative: ConservativeSettings | null,
  baselineArm: number,
): { kind: string; params: PolicyParams } {
  const eff = effectiveSpec(spec, conservative, baselineArm);
  if (eff.kind !== 'conservative') return eff;
  const params: PolicyParams = {};
  for (const [key, value] of Object.entries(eff.params)) {
    if (key.startsWith('inner.')) params[key.slice('inner.'.length)] = value;
  }
  return { kind: String(eff.params.inner), params };
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The policy that results from adopting `snapshot` into `current`, or the reason it cannot
 * be adopted. Nothing is changed on failure.
 */
export function adoptedPolicy(
  current: Policy,
  settings: { policy: string; conservative: ConservativeSettings | null },
  shape: { k: number; d: number; baselineArm: number },
  snapshot: PolicySnapshot,
): Policy | string {
  try {
    if (!snapshot || typeof snapshot !== 'object' || typeof snapshot.kind !== 'string') {
      return 'the snapshot is not a policy snapshot';
    }
    const want = learningSpec(settings.policy, settings.conservative, shape.baselineArm);
    const fresh = createPolicy(want, { k: shape.k, d: shape.d, seed: 0 }).snapshot();
    if (snapshot.kind !== fresh.kind) {
      return `the snapshot is a ${snapshot.kind} policy; this host runs ${fresh.kind} (${settings.policy})`;
    }
    for (const [key, value] of Object.entries(fresh.params)) {
      if (key === 'seed') continue;
      if (!sameValue(snapshot.params?.[key], value)) {
        return `the snapshot's ${key} is ${JSON.stringify(snapshot.params?.[key])}, this host's ${JSON.stringify(value)} (${settings.policy})`;
      }
    }
    const mine = current.snapshot();
    const wrapped = mine.kind === 'conservative' && want.kind !== 'conservative';
    const mineInner = wrapped ? (mine.state.inner as PolicySnapshot) : mine;
    const inner: PolicySnapshot = {
      ...snapshot,
      params: { ...snapshot.params, seed: mineInner.params.seed },
      rng: mineInner.rng,
    };
    const policy = restorePolicy(
      wrapped ? { ...mine, state: { ...mine.state, inner }, rng: inner.rng } : inner,
    );
    if (policy.k !== shape.k || policy.d !== shape.d) {
      return `the snapshot has k ${policy.k}, d ${policy.d}; this host has k ${shape.k}, d ${shape.d}`;
    }
    return policy;
  } catch (err) {
    return `the snapshot does not restore: ${(err as Error).message}`;
  }
}

/** For comparisons: a spec in its canonical string form. */
export function canonicalSpec(spec: string): string {
  const { kind, params } = parsePolicySpec(spec);
  const keys = Object.keys(params).sort();
  return keys.length ? `${kind}:${keys.map((k) => `${k}=${String(params[k])}`).join(',')}` : kind;
}
