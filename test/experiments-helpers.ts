/**
 * Test-only helpers for the experiments tests: tiny hand-checkable policies and paths.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Decision, LegalMask, Policy, PolicySnapshot } from '../policies/types.js';

/** Repository root (this file runs from dist/test/). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The replayable problems shipped in the repository (experiments/problems/). */
export const benchDir = join(repoRoot, 'experiments', 'problems');

/** Plays one fixed arm (or the lowest legal arm when that one is illegal). */
export class FixedArmPolicy implements Policy {
  readonly kind = 'test-fixed';
  readonly learnsFrom = 'any';
  constructor(
    readonly k: number,
    readonly d: number,
    private readonly arm: number,
  ) {}
  select(_x?: ArrayLike<number>, legal?: LegalMask): Decision {
    if (!legal || legal[this.arm]) return { arm: this.arm, propensity: 1 };
    for (let a = 0; a < this.k; a++) if (legal[a]) return { arm: a, propensity: 1 };
    throw new Error('no legal arm');
  }
  update(): void {}
  snapshot(): PolicySnapshot {
    return {
      kind: this.kind,
      version: 1,
      params: { arm: this.arm },
      state: {},
      rng: { s: [1, 0, 0, 0], spare: null },
    };
  }
}

/** Follows a fixed table: arm = table[argmax of the context's first entries]. */
export class TablePolicy implements Policy {
  readonly kind = 'test-table';
  readonly learnsFrom = 'any';
  constructor(
    readonly k: number,
    readonly d: number,
    private readonly choose: (x: ArrayLike<number>) => number,
  ) {}
  select(x?: ArrayLike<number>): Decision {
    return { arm: this.choose(x ?? []), propensity: 1 };
  }
  update(): void {}
  snapshot(): PolicySnapshot {
    return {
      kind: this.kind,
      version: 1,
      params: {},
      state: {},
      rng: { s: [1, 0, 0, 0], spare: null },
    };
  }
}
