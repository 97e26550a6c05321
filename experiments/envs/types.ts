/**
 * The one Gym-like interface of every bandit environment the experiment runner drives.
 *
 * Usage per run: reset(seed), then for t = 0, 1, ...: context(t), legal(t), select an arm,
 * step(arm). The objects returned by context(), legal() and step() are reused buffers owned
 * by the environment: a context stays valid until the next context() call (step() does
 * not touch it, so the policy can learn from it), a step result until the next step().
 */
import type { LegalMask } from '../../policies/types.js';

export interface StepResult {
  /** Realised reward of the chosen arm (what the policy learns from). */
  reward: number;
  /**
   * Regret of this round: best expected reward minus the chosen arm's expected reward
   * (pseudo-regret); adversarial environments use the increment of the regret against
   * the best fixed arm in hindsight instead.
   */
  regret: number;
  /** Chosen arm's expected reward minus the baseline arm's, this round. */
  vsBaseline: number;
  /** Was the chosen arm one of the best this round? */
  optimal: boolean;
}

export interface BanditEnv {
  /** Environment kind, e.g. "bernoulli". */
  readonly kind: string;
  /** Number of arms. */
  readonly k: number;
  /** Context length; 0 when the environment has no context. */
  readonly d: number;
  /** The arm standing for the human-written default (reward-vs-baseline plots). */
  readonly baselineArm: number;
  /** Fixed number of rounds (replayed problems), or undefined when unbounded. */
  readonly rounds: number | undefined;
  /** Starts a new run whose random draws depend only on `seed`. */
  reset(seed: number): void;
  /** Context of round t (length d), or undefined when d = 0. */
  context(t: number): Float64Array | undefined;
  /** Legal arms of round t, or undefined when every arm is legal. */
  legal(t: number): LegalMask | undefined;
  /** Plays `arm` in the current round and advances to the next. */
  step(arm: number): StepResult;
  /** Best expected reward of the current round. */
  bestExpected(t: number): number;
}

/** Thrown for bad environment parameters; the message names the parameter. */
export class EnvArgumentError extends RangeError {
  override name = 'EnvArgumentError';
}
