/**
 * Parameter checks shared by the contextual and RL policies.
 */
import { PolicyArgumentError } from '../types.js';

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
