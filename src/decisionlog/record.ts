/**
 * The decision log's record format: JSON Lines, one object a line, append only.
 *
 * A decision is written when it is made; its reward is written later, as a second
 * record with the same id, when the kernel's feedback arrives. Readers join the two
 * by id. The log is the input of off-policy evaluation (src/ope).
 */

export const DECISION_LOG_VERSION = 1;

export interface DecisionRecord {
  v: typeof DECISION_LOG_VERSION;
  type: 'decision';
  /** Unique within the log, e.g. "synthetic:42" (subsystem and kernel rec id). */
  id: string;
  /** ISO 8601 time of the decision. */
  time: string;
  subsystem: string;
  epoch: number;
  /** Normalised feature vector the policy saw. */
  context: number[];
  /** Number of arms of the policy. */
  k: number;
  /** Chosen arm index in [0, k). */
  arm: number;
  /** Knob values the arm stands for. */
  knobs: number[];
  /** Probability with which the logging policy chose `arm`, in (0, 1]. */
  propensity: number;
  /**
   * The logging policy's exact probability of every arm (length k, 0 for illegal arms,
   * summing to 1; distribution[arm] = propensity), when it is known; absent otherwise
   * (Thompson sampling, whose propensity is an estimate).
   */
  distribution?: number[];
  /** Legal arms at decision time (1 = legal); absent means all legal. */
  legal?: number[];
  policy: string;
  policyVersion: number;
  /**
   * True when a guard inside the policy imposed the arm (the conservative wrapper's
   * baseline when its budget ran out): the policy did not choose it, and no exploration
   * was mixed into it. Absent otherwise, and in logs written before this field existed.
   */
  forced?: true;
  /** Kernel verdict name: applied, clamped, rejected, shadowed. */
  verdict: string;
}

export interface RewardRecord {
  v: typeof DECISION_LOG_VERSION;
  type: 'reward';
  /** id of the decision this reward belongs to. */
  id: string;
  time: string;
  reward: number;
  /** Did the advice run in the kernel window? */
  applied: boolean;
  eff: number;
  baselineEff: number;
  /** Final fate of the recommendation in the kernel (applied, clamped, shadowed, ...). */
  verdict?: string;
  /** Knob values in force during the measured window. */
  knobs?: number[];
}

export type LogRecord = DecisionRecord | RewardRecord;

/** A decision joined with its reward (reward undefined while none arrived). */
export interface JoinedDecision extends DecisionRecord {
  reward?: number;
  applied?: boolean;
  eff?: number;
  baselineEff?: number;
  /** Final fate reported with the reward (the decision's own `verdict` is the one at submit time). */
  finalVerdict?: string;
  /** Knob values that ran in the window, when the reward record carries them. */
  ranKnobs?: number[];
}
