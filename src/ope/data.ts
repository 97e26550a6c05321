/**
 * Loads a decision log for off-policy evaluation. Line-level problems (torn lines,
 * missing or out-of-range propensities, arms outside [0, k), non-integer arms, a bad
 * distribution) are found by the decision-log reader, which names the file and line; a
 * torn LAST line is skipped with a warning. This module adds what OPE needs across
 * records:
 *
 * - one subsystem: the daemon writes every subsystem into one log, with different arm
 *   counts and context lengths; `subsystem` picks one (required when there are several);
 * - only decisions whose advice ran (reward record `applied`): a shadowed, rejected or
 *   expired recommendation's reward measured the kernel's baseline, not the logged arm,
 *   and a window that ran other knobs than advised (a clamp) rewarded another arm, so both
 *   are left out with a warning;
 * - decisions of the daemon's safety fallback (policy "safety:baseline") and the
 *   conservative wrapper's forced baseline plays (record `forced`) only train the
 *   policies: there a guard chose the baseline, not the policy, and given the same history
 *   it would override any policy alike, so they say nothing about which policy is better
 *   (trainOnly). They are point masses, too: no other arm had a chance there;
 * - rewards inside the stated range (default [0, 1], the daemon's), which the intervals'
 *   argument needs (bounded terms);
 * - one k and one context length for the whole log.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { readDecisionLog } from '../decisionlog/reader.js';
import type { JoinedDecision } from '../decisionlog/record.js';
import { DEFAULT_REWARD_RANGE } from './defaults.js';

export interface LoggedDecision {
  context: number[];
  arm: number;
  propensity: number;
  reward: number;
  /** Legal arms (1 = legal); undefined means all legal. */
  legal?: number[];
  /** The logging policy's exact distribution over the arms, when the log has it. */
  distribution?: number[];
  /** Decision id in the log. */
  id?: string;
  /** Label of the logging policy and its model version (daemon logs). */
  policy?: string;
  policyVersion?: number;
  /** Used to train learning policies but not in the estimates (the daemon's safety fallback). */
  trainOnly?: boolean;
}

export interface OpeData {
  k: number;
  d: number;
  decisions: LoggedDecision[];
  /** The subsystem evaluated, when the log names one. */
  subsystem?: string;
}

/** Policy label of the daemon's safety fallback decisions (src/loop/learner.ts). */
export const SAFETY_FALLBACK = 'safety:baseline';

/**
 * Why a logged decision only trains the policies and is not scored (see the file
 * comment): the safety fallback's play, or the conservative wrapper's forced baseline;
 * undefined when the policy chose. One rule for `mlproxy evaluate` and the fleet's trainer.
 */
export function trainOnlyReason(rec: {
  policy?: string;
  forced?: boolean;
}): 'fallback' | 'forced' | undefined {
  if (rec.policy === SAFETY_FALLBACK) return 'fallback';
  if (rec.forced === true) return 'forced';
  return undefined;
}

export class OpeDataError extends Error {
  override name = 'OpeDataError';
}

export interface CheckOptions {
  /** Rewards must lie in [lo, hi] (default [0, 1]). */
  rewardRange?: readonly [number, number];
}

export function checkOpeData(
  decisions: (LoggedDecision & { k?: number })[],
  source: string,
  opts: CheckOptions = {},
): OpeData {
  if (decisions.length === 0)
    throw new OpeDataError(`${source}: no decision with a reward to evaluate on`);
  const [lo, hi] = opts.rewardRange ?? DEFAULT_REWARD_RANGE;
  const k = decisions[0].k ?? Math.max(...decisions.map((d) => d.arm)) + 1;
  const d = decisions[0].context.length;
  decisions.forEach((rec, i) => {
    const where = `${source}: decision ${rec.id !== undefined ? `"${rec.id}"` : `#${i + 1}`}`;
    if (rec.k !== undefined && rec.k !== k)
      throw new OpeDataError(
        `${where} has k = ${rec.k}, but the log started with k = ${k}; evaluate one policy shape per log`,
      );
    if (rec.context.length !== d)
      throw new OpeDataError(
        `${where} has a context of length ${rec.context.length}, expected ${d}`,
      );
    if (!Number.isInteger(rec.arm) || rec.arm < 0 || rec.arm >= k)
      throw new OpeDataError(`${where}: arm ${rec.arm} is not an integer in 0..${k - 1}`);
    if (!(rec.propensity > 0 && rec.propensity <= 1))
      throw new OpeDataError(`${where}: propensity ${rec.propensity} is outside (0, 1]`);
    if (!Number.isFinite(rec.reward))
      throw new OpeDataError(`${where}: reward ${rec.reward} is not a finite number`);
    if (rec.reward < lo || rec.reward > hi)
      throw new OpeDataError(
        `${where}: reward ${rec.reward} is outside [${lo}, ${hi}]; the intervals need bounded rewards: ` +
          `pass --reward-range LO,HI with the bounds of this log's rewards`,
      );
    if (rec.legal && (rec.legal.length !== k || !rec.legal[rec.arm])) {
      throw new OpeDataError(
        `${where}: legal mask must have length ${k} and include the logged arm ${rec.arm}`,
      );
    }
    if (rec.distribution && rec.distribution.length !== k) {
      throw new OpeDataError(`${where}: distribution must have ${k} entries`);
    }
  });
  return {
    k,
    d,
    decisions: decisions.map((rec) => {
      const out: LoggedDecision = {
        context: rec.context,
        arm: rec.arm,
        propensity: rec.propensity,
        reward: rec.reward,
      };
      if (rec.legal) out.legal = rec.legal;
      if (rec.distribution) out.distribution = rec.distribution;
      if (rec.id !== undefined) out.id = rec.id;
      if (rec.policy !== undefined) out.policy = rec.policy;
      if (rec.policyVersion !== undefined) out.policyVersion = rec.policyVersion;
      if (rec.trainOnly) out.trainOnly = true;
      return out;
    }),
  };
}

export interface LoadOptions extends CheckOptions {
  /** Evaluate this subsystem's decisions (required when the log holds several). */
  subsystem?: string;
  /** Skip corrupt lines in the middle of the log with a warning. */
  skipBadLines?: boolean;
  onWarning?: (message: string) => void;
}

/** A path that must be a decision log file: names the path and the fix when it is not. */
export function checkLogPath(path: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch {
    return; // the reader names a missing log (and finds rotated parts)
  }
  if (st.isDirectory()) {
    const inside = nodePath.join(path, 'decisions.jsonl');
    throw new OpeDataError(
      `${path} is a directory; pass the decision log file${fs.existsSync(inside) ? `, e.g. ${inside}` : " (decisions.jsonl in the daemon's log directory)"}`,
    );
  }
}

function describeSubsystems(decisions: JoinedDecision[]): string {
  const by = new Map<string, { n: number; k: number }>();
  for (const d of decisions) {
    const e = by.get(d.subsystem) ?? { n: 0, k: d.k };
    e.n++;
    by.set(d.subsystem, e);
  }
  return [...by].map(([name, e]) => `${name} (${e.n} decisions, k = ${e.k})`).join(', ');
}

/** Reads a decision log (with its rotated parts) and keeps the decisions OPE can use. */
export function loadOpeData(path: string, opts: LoadOptions = {}): OpeData {
  const warn = opts.onWarning ?? (() => {});
  checkLogPath(path);
  let log;
  try {
    log = readDecisionLog(path, { onWarning: warn, skipBadLines: opts.skipBadLines });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code && !err.message.includes(path)) {
      throw new OpeDataError(`${path}: ${err.message}`);
    }
    throw e;
  }
  let decisions = log.decisions;
  const names = [...new Set(decisions.map((d) => d.subsystem))];
  if (opts.subsystem !== undefined) {
    if (!names.includes(opts.subsystem)) {
      throw new OpeDataError(
        `${path}: no decision of subsystem "${opts.subsystem}"; the log holds ${names.length ? describeSubsystems(decisions) : 'no decisions'}`,
      );
    }
    decisions = decisions.filter((d) => d.subsystem === opts.subsystem);
  } else if (names.length > 1) {
    throw new OpeDataError(
      `${path} holds decisions of ${names.length} subsystems: ${describeSubsystems(decisions)}; evaluate one at a time with --subsystem NAME`,
    );
  }
  const withReward = decisions.filter((d) => d.reward !== undefined);
  const pending = decisions.length - withReward.length;
  if (pending > 0) warn(`${path}: ${pending} decision(s) have no reward yet and are left out`);
  const ran = withReward.filter((d) => d.applied !== false);
  const notRun = withReward.length - ran.length;
  if (notRun > 0) {
    warn(
      `${path}: ${notRun} decision(s) whose advice did not run (shadowed, rejected or expired) are left out: their reward measured the baseline`,
    );
  }
  const usable = ran.filter(
    (d) => d.ranKnobs === undefined || d.ranKnobs.every((v, i) => v === d.knobs[i]),
  );
  const clamped = ran.length - usable.length;
  if (clamped > 0) {
    warn(
      `${path}: ${clamped} decision(s) ran other knobs than advised (clamped by the kernel) and are left out`,
    );
  }
  const reasons = usable.map(trainOnlyReason);
  const fallback = reasons.filter((r) => r === 'fallback').length;
  const forced = reasons.filter((r) => r === 'forced').length;
  if (fallback > 0) {
    warn(
      `${path}: ${fallback} decision(s) of the daemon's safety fallback only train the policies: the safety layer chose there, and it would override any policy alike`,
    );
  }
  if (forced > 0) {
    warn(
      `${path}: ${forced} decision(s) the conservative wrapper forced to the baseline only train the policies: its budget chose there, not the policy, and it would override any policy alike`,
    );
  }
  if (fallback + forced === usable.length && usable.length > 0) {
    throw new OpeDataError(
      `${path}: every decision was the daemon's safety fallback or a forced baseline play: nothing to evaluate`,
    );
  }
  const data = checkOpeData(
    usable.map((d, i) => ({
      id: d.id,
      k: d.k,
      context: d.context,
      arm: d.arm,
      propensity: d.propensity,
      reward: d.reward!,
      legal: d.legal,
      distribution: d.distribution,
      policy: d.policy,
      policyVersion: d.policyVersion,
      ...(reasons[i] !== undefined ? { trainOnly: true } : {}),
    })),
    opts.subsystem !== undefined ? `${path} (subsystem ${opts.subsystem})` : path,
    opts,
  );
  if (names.length === 1 || opts.subsystem !== undefined) {
    data.subsystem = opts.subsystem ?? names[0];
  }
  return data;
}
