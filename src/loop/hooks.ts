/**
 * Hooks: how something outside the loop (the fleet link, src/fleet/) sees what the daemon
 * does and hands it a policy to adopt, without the loop ever waiting on it. Every hook is
 * called synchronously from the loop and must return at once (queue, never block).
 */
import type { PolicySnapshot } from '../../policies/types.js';
import type { DecisionRecord, RewardRecord } from '../decisionlog/record.js';
import type { ModeValue } from '../transport/device.js';

/** One learner, as the hooks see it. */
export interface HookSubsystem {
  name: string;
  /** The knob schema of its arm grid (ArmGrid.signature()). */
  signature: string;
  k: number;
  d: number;
  baselineArm: number;
  /** The configured policy spec, before the conservative wrapper. */
  policy: string;
}

export interface HookContext {
  subsystem: HookSubsystem;
  /** Kernel mode when the record was made. */
  mode: ModeValue;
  abi: { major: number; minor: number };
}

export interface AdoptionOutcome {
  adopted: boolean;
  /** Why it was refused, or what was left as it was (a pinned kernel mode). */
  reason?: string;
  modeBefore?: ModeValue;
  modeAfter?: ModeValue;
}

export interface AdoptionRequest {
  subsystem: string;
  /** For the logs, e.g. "fleet v3". */
  label: string;
  /** A snapshot of the configured policy (the inner policy when a conservative wrapper runs). */
  snapshot: PolicySnapshot;
  /** Called once, from the loop, with the outcome. */
  settle(outcome: AdoptionOutcome): void;
}

export interface DaemonHooks {
  /** After the learners are set up and each time the device is (re)attached. */
  attached?(abi: { major: number; minor: number }, subsystems: HookSubsystem[]): void;
  decision?(ctx: HookContext, record: DecisionRecord): void;
  reward?(ctx: HookContext, record: RewardRecord, updated: boolean): void;
  /** Polled at the start of each turn: adoptions ready to apply now. */
  takeAdoptions?(): AdoptionRequest[];
}
