/**
 * The kernel's baseline as a policy, for the promotion gate: always the arm of the knob
 * defaults. It ignores the logged legal mask: that mask limits how far advice may move
 * from the last advice, while the kernel runs its defaults in every baseline window.
 */
import type { Decision, Policy, PolicySnapshot } from '../../policies/types.js';

export class BaselinePolicy implements Policy {
  readonly kind = 'baseline';
  /** It learns nothing, so any logged play will do. */
  readonly learnsFrom = 'any' as const;

  constructor(
    readonly k: number,
    readonly d: number,
    readonly arm: number,
  ) {}

  select(): Decision {
    return { arm: this.arm, propensity: 1 };
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
