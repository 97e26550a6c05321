/**
 * The kernel's baseline as a policy, for the promotion gate: always the arm of the knob
 * defaults, or the legal arm nearest to it (as the daemon's safety layer plays it).
 */
import type { Decision, LegalMask, Policy, PolicySnapshot } from '../../policies/types.js';
import { nearestLegal } from '../loop/safety.js';

export class BaselinePolicy implements Policy {
  readonly kind = 'baseline';

  constructor(
    readonly k: number,
    readonly d: number,
    readonly arm: number,
  ) {}

  select(_context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const arm = legal ? nearestLegal(this.arm, Array.from(legal, Number)) : this.arm;
    return { arm, propensity: 1 };
  }

  update(): void {}

  snapshot(): PolicySnapshot {
    return {
      kind: this.kind,
      version: 1,
      params: { k: this.k, d: this.d, arm: this.arm },
      state: {},
      rng: { s: [0, 0, 0, 0], spare: null },
    };
  }
}
