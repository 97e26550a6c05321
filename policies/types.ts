/**
 * The one interface every mlproxy policy implements.
 *
 * A policy is pure apart from its own seeded Rng: the same seed and the same calls give
 * the same decisions. snapshot() returns plain versioned JSON; restorePolicy() in
 * registry.ts rebuilds a policy that makes the same next decisions.
 */
import type { RngState } from './rng.js';

/** Which arms may be played this decision: truthy = legal. Length must equal K. */
export type LegalMask = ArrayLike<boolean | number>;

export interface Decision {
  /** Chosen arm index in [0, K). */
  readonly arm: number;
  /** Probability with which the policy chose this arm (1 for deterministic choices). */
  readonly propensity: number;
}

export interface PolicySnapshot {
  /** Registry name of the policy, e.g. "linucb". */
  readonly kind: string;
  /** Snapshot format version of that policy. */
  readonly version: number;
  /** Constructor parameters (k, d, seed, alpha, ...). */
  readonly params: Record<string, unknown>;
  /** Learned state: plain numbers and arrays only. */
  readonly state: Record<string, unknown>;
  /** Rng state at snapshot time. */
  readonly rng: RngState;
}

export interface Policy {
  /** Registry name, e.g. "ucb1". */
  readonly kind: string;
  /** Number of arms. */
  readonly k: number;
  /** Context length; 0 for context-free policies. */
  readonly d: number;
  /**
   * Choose an arm. Contextual policies require a context of length d; context-free
   * ones ignore it. Illegal arms are never chosen; ties go to the lowest index.
   */
  select(context?: ArrayLike<number>, legal?: LegalMask): Decision;
  /**
   * Learn from the reward of `arm`. `context` is the one the decision was made in.
   * `nextContext` is the state the action led to (used by RL policies; bandits ignore it).
   */
  update(
    arm: number,
    reward: number,
    context?: ArrayLike<number>,
    nextContext?: ArrayLike<number>,
  ): void;
  /** Plain, versioned JSON of the whole policy. */
  snapshot(): PolicySnapshot;
}

/** Thrown for every bad argument a caller passes to a policy. */
export class PolicyArgumentError extends RangeError {
  override name = 'PolicyArgumentError';
}
