/**
 * Builds the policy of a subsystem from the configured spec: the conservative wrapper
 * (from the policy library) around the configured policy, with the baseline arm = the arm
 * of the knob defaults and rewards in [0, 1] (features.ts).
 */
import { createPolicy, parsePolicySpec } from '../../policies/registry.js';
import type { Policy, PolicyParams } from '../../policies/types.js';

export interface ConservativeSettings {
  /** Allowed fractional loss against the baseline, in [0, 1). */
  alpha: number;
}

/**
 * The effective spec: "conservative:alpha=..,baseline=..,inner=<kind>,inner.<p>=.." around
 * `spec`, or `spec` itself when conservative is null or the spec is already conservative
 * (its baseline then defaults to the knob defaults' arm).
 */
export function effectiveSpec(
  spec: string,
  conservative: ConservativeSettings | null,
  baselineArm: number,
): { kind: string; params: PolicyParams } {
  const { kind, params } = parsePolicySpec(spec);
  if (kind === 'conservative') {
    return { kind, params: { baseline: baselineArm, ...params } };
  }
  if (!conservative) return { kind, params };
  const wrapped: PolicyParams = {
    alpha: conservative.alpha,
    baseline: baselineArm,
    reward_min: 0,
    reward_max: 1,
    inner: kind,
  };
  for (const [key, value] of Object.entries(params)) wrapped[`inner.${key}`] = value;
  return { kind: 'conservative', params: wrapped };
}

export function specToString(s: { kind: string; params: PolicyParams }): string {
  const parts = Object.entries(s.params).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length ? `${s.kind}:${parts.join(',')}` : s.kind;
}

export function buildPolicy(
  spec: string,
  conservative: ConservativeSettings | null,
  shape: { k: number; d: number; seed: number; baselineArm: number },
): { policy: Policy; label: string } {
  const eff = effectiveSpec(spec, conservative, shape.baselineArm);
  const policy = createPolicy(eff, { k: shape.k, d: shape.d, seed: shape.seed });
  return { policy, label: specToString(eff) };
}

/** Exploration budget left, for policies that expose one (the conservative wrapper). */
export function budgetOf(policy: Policy): number | undefined {
  const p = policy as Policy & { budgetLeft?: () => number };
  return typeof p.budgetLeft === 'function' ? p.budgetLeft() : undefined;
}
