/**
 * Builds registry factories for the context-free bandit policies.
 *
 * Every bandit snapshot stores params = {k, seed, ...policy parameters}; restoring
 * re-runs the same parameter checks as creating, then loads and checks the state.
 */
import { checkArmCount } from '../common.js';
import type { Rng } from '../rng.js';
import type { Policy, PolicyFactory, PolicyParams, PolicySnapshot } from '../types.js';
import { PolicyArgumentError } from '../types.js';
import { openSnapshot, withSnapshotParams, type Fields } from '../snapshot.js';

/** A bandit policy that can take over learned state and an Rng from a snapshot. */
export interface RestorablePolicy extends Policy {
  /** Replaces the learned state; throws PolicyArgumentError when it is inconsistent. */
  loadState(state: Fields, rng: Rng): void;
}

export interface BanditSpec {
  kind: string;
  version: number;
  description: string;
  defaults: PolicyParams;
  /** Validates `params` (numParam) and builds a fresh policy. */
  build(k: number, seed: number, params: Fields): RestorablePolicy;
}

export function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new PolicyArgumentError(`seed must be an integer, got ${String(seed)}`);
  }
  return seed;
}

export function banditFactory(spec: BanditSpec): PolicyFactory {
  return {
    kind: spec.kind,
    description: spec.description,
    contextual: false,
    defaults: spec.defaults,
    create(shape, params) {
      checkArmCount(shape.k);
      return spec.build(shape.k, checkSeed(shape.seed), { ...spec.defaults, ...params });
    },
    restore(snapshot: PolicySnapshot) {
      const { params, state, rng } = openSnapshot(snapshot, spec.kind, spec.version);
      const policy = withSnapshotParams(spec.kind, () => {
        checkArmCount(params.k as number);
        return spec.build(params.k as number, checkSeed(params.seed), params);
      });
      policy.loadState(state, rng);
      return policy;
    },
  };
}
