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
  /**
   * The exact probability of every arm (length K, 0 for illegal arms) under which `arm`
   * was drawn, for policies that know it (epsilon-greedy, softmax, EXP3, the tabular RL
   * policies, the uniform mix of distribution.ts). Absent when the decision is
   * deterministic (propensity 1: the point mass on `arm`) or when no closed form exists
   * (Thompson sampling, whose propensity is an estimate). Read it before the policy's
   * next select() or update(), and copy it to keep it.
   */
  readonly distribution?: Float64Array;
  /**
   * True when `propensity` is an estimate (Thompson sampling's Monte Carlo): the exact
   * distribution is unknown, even when the estimate reads 1.
   */
  readonly estimated?: boolean;
  /**
   * True when a guard inside the policy imposed this arm (the conservative wrapper's
   * baseline): it must be played as it is, never mixed with exploration.
   */
  readonly forced?: boolean;
}

/**
 * What the caller knows about a play it passes to update(); see Policy.learnsFrom.
 * Without it, update() takes the play as the arm of this policy's latest select(),
 * drawn with that decision's propensity (the experiment runner and unit tests).
 */
export interface UpdateInfo {
  /** Exact probability with which the played arm was drawn (the logged propensity). */
  readonly propensity: number;
  /**
   * True when the arm was drawn from a distribution that gave every legal arm a positive
   * probability, `propensity` being that of the played arm: the policy's own select()
   * (EXP3 always qualifies), or the daemon's uniform mix around it. Importance weights
   * 1/propensity are then unbiased for every arm. False for plays forced on the policy:
   * the conservative baseline, the daemon's fallback or override, a kernel clamp that
   * ran another arm, a deterministic logging policy.
   */
  readonly fullSupport: boolean;
}

/**
 * Which plays a policy learns from correctly (Policy.learnsFrom):
 * - "any": every played arm, whoever chose it. The policy keeps a value estimate per arm
 *   (and context or state): sample means and posteriors (UCB, KL-UCB, epsilon-greedy,
 *   softmax, Thompson sampling, the discounted and sliding-window UCBs), ridge regressions
 *   (LinUCB, linear TS, linear epsilon-greedy), and one-step TD targets for the played
 *   (state, arm) pair (Q-learning; SARSA bootstraps from its own next choice, or the
 *   expectation of its policy when another arm was played). The daemon feeds them every
 *   window in which advice ran, on the arm that ran.
 * - "importance-weighted": the policy estimates every arm's reward as 1[played] r / p
 *   (EXP3), which is unbiased only when p is the exact probability of the play under a
 *   distribution with full support. It must be given UpdateInfo with fullSupport true
 *   (or be updated right after its own select()); update() throws otherwise, and callers
 *   (the daemon, the conservative wrapper, off-policy evaluation) skip such plays.
 */
export type LearnsFrom = 'any' | 'importance-weighted';

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
  /** Which plays update() learns from correctly (see LearnsFrom). */
  readonly learnsFrom: LearnsFrom;
  /**
   * Learn from the reward of `arm`. `context` is the one the decision was made in.
   * `nextContext` is the state the action led to (used by RL policies; bandits ignore it).
   * `info` describes how the arm was drawn (see UpdateInfo and learnsFrom); "any"
   * policies ignore it.
   */
  update(
    arm: number,
    reward: number,
    context?: ArrayLike<number>,
    nextContext?: ArrayLike<number>,
    info?: UpdateInfo,
  ): void;
  /** Plain, versioned JSON of the whole policy. */
  snapshot(): PolicySnapshot;
}

/** Thrown for every bad argument a caller passes to a policy. */
export class PolicyArgumentError extends RangeError {
  override name = 'PolicyArgumentError';
}
