/**
 * Argument and parameter checks and arm-selection helpers shared by every policy.
 */
import type { LegalMask } from './types.js';
import { PolicyArgumentError } from './types.js';

export function checkArmCount(k: number): void {
  if (!Number.isInteger(k) || k < 1) {
    throw new PolicyArgumentError(`number of arms K must be an integer >= 1, got ${String(k)}`);
  }
}

export function checkContextDim(d: number): void {
  if (!Number.isInteger(d) || d < 1) {
    throw new PolicyArgumentError(`context length d must be an integer >= 1, got ${String(d)}`);
  }
}

export function checkArm(arm: number, k: number): void {
  if (!Number.isInteger(arm) || arm < 0 || arm >= k) {
    throw new PolicyArgumentError(
      `arm ${String(arm)} is out of range: arms are integers 0..${k - 1}`,
    );
  }
}

export function checkReward(reward: number): void {
  if (typeof reward !== 'number' || !Number.isFinite(reward)) {
    throw new PolicyArgumentError(`reward must be a finite number, got ${String(reward)}`);
  }
}

/** Checks a reward that must lie in [0, 1] (Bernoulli-style policies). */
export function checkUnitReward(reward: number): void {
  checkReward(reward);
  if (reward < 0 || reward > 1) {
    throw new PolicyArgumentError(
      `reward must lie in [0, 1] for this policy, got ${reward}; rescale it first`,
    );
  }
}

export function checkContext(context: ArrayLike<number> | undefined, d: number): ArrayLike<number> {
  if (!context || typeof context.length !== 'number') {
    throw new PolicyArgumentError(`a context of length ${d} is required`);
  }
  if (context.length !== d) {
    throw new PolicyArgumentError(`context has length ${context.length}, expected ${d}`);
  }
  for (let i = 0; i < d; i++) {
    if (!Number.isFinite(context[i])) {
      throw new PolicyArgumentError(
        `context[${i}] must be a finite number, got ${String(context[i])}`,
      );
    }
  }
  return context;
}

/** Validates a legal-arm mask; undefined means every arm is legal. */
export function checkLegal(legal: LegalMask | undefined, k: number): LegalMask | undefined {
  if (legal === undefined) return undefined;
  if (legal.length !== k) {
    throw new PolicyArgumentError(`legal-arm mask has length ${legal.length}, expected K = ${k}`);
  }
  for (let i = 0; i < k; i++) if (legal[i]) return legal;
  throw new PolicyArgumentError(
    'legal-arm mask excludes every arm; at least one arm must be legal',
  );
}

export function isLegal(legal: LegalMask | undefined, arm: number): boolean {
  return legal === undefined || Boolean(legal[arm]);
}

export function legalCount(legal: LegalMask | undefined, k: number): number {
  if (legal === undefined) return k;
  let n = 0;
  for (let i = 0; i < k; i++) if (legal[i]) n++;
  return n;
}

/** Index of the largest score among legal arms; ties go to the lowest index. */
export function argmaxLegal(scores: ArrayLike<number>, legal: LegalMask | undefined): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    if (legal !== undefined && !legal[i]) continue;
    const s = scores[i];
    if (best < 0 || s > bestScore) {
      best = i;
      bestScore = s;
    }
  }
  return best;
}

/** The i-th legal arm (0-based), for uniform draws over the legal set. */
export function nthLegal(legal: LegalMask | undefined, n: number): number {
  if (legal === undefined) return n;
  for (let i = 0; i < legal.length; i++) {
    if (legal[i]) {
      if (n === 0) return i;
      n--;
    }
  }
  throw new PolicyArgumentError('nthLegal: index beyond the legal set');
}

/** A numeric range: min/max inclusive unless exclusiveMin/exclusiveMax. */
export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
}

/**
 * What `v` fails of `rule` ("a finite number", "an integer", ">= 0", "< 1", ...), or
 * undefined when it obeys it. The one number check of the policy library: parameters
 * (checkNumber, numParam) and snapshot fields (snapshot.ts) both use it.
 */
export function numberProblem(v: unknown, rule: NumberRule = {}): string | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'a finite number';
  if (rule.integer && !Number.isInteger(v)) return 'an integer';
  if (rule.min !== undefined && (rule.exclusiveMin ? v <= rule.min : v < rule.min)) {
    return `${rule.exclusiveMin ? '>' : '>='} ${rule.min}`;
  }
  if (rule.max !== undefined && (rule.exclusiveMax ? v >= rule.max : v > rule.max)) {
    return `${rule.exclusiveMax ? '<' : '<='} ${rule.max}`;
  }
  return undefined;
}

/** Checks a parameter's value, naming it (`parameter "alpha" must be >= 0, got -1`). */
export function checkNumber(name: string, v: unknown, rule: NumberRule = {}): number {
  const problem = numberProblem(v, rule);
  if (problem !== undefined) {
    throw new PolicyArgumentError(`parameter "${name}" must be ${problem}, got ${String(v)}`);
  }
  return v as number;
}

/** Reads params[name] as a number and checks its range (checkNumber). */
export function numParam(
  params: Record<string, unknown>,
  name: string,
  rule: NumberRule = {},
): number {
  return checkNumber(name, params[name], rule);
}
