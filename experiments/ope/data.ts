/**
 * Loads a decision log for off-policy evaluation. Line-level problems (torn lines,
 * missing or out-of-range propensities, arms outside [0, k), non-integer arms) are
 * found by the decision-log reader, which names the file and line; a torn LAST line is
 * skipped with a warning. This module adds the checks OPE needs across records: one K
 * and one context length for the whole log, and a reward for each decision used.
 */
import { readDecisionLog } from '../../src/decisionlog/reader.js';

export interface LoggedDecision {
  context: number[];
  arm: number;
  propensity: number;
  reward: number;
  /** Legal arms (1 = legal); undefined means all legal. */
  legal?: number[];
}

export interface OpeData {
  k: number;
  d: number;
  decisions: LoggedDecision[];
}

export class OpeDataError extends Error {
  override name = 'OpeDataError';
}

export function checkOpeData(
  decisions: (LoggedDecision & { k?: number; id?: string })[],
  source: string,
): OpeData {
  if (decisions.length === 0)
    throw new OpeDataError(`${source}: no decision with a reward to evaluate on`);
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
    if (rec.legal && (rec.legal.length !== k || !rec.legal[rec.arm])) {
      throw new OpeDataError(
        `${where}: legal mask must have length ${k} and include the logged arm ${rec.arm}`,
      );
    }
  });
  return {
    k,
    d,
    decisions: decisions.map(({ context, arm, propensity, reward, legal }) => ({
      context,
      arm,
      propensity,
      reward,
      ...(legal ? { legal } : {}),
    })),
  };
}

/** Reads a decision log (with its rotated parts) and keeps the decisions that have a reward. */
export function loadOpeData(
  path: string,
  onWarning: (message: string) => void = () => {},
): OpeData {
  const log = readDecisionLog(path, { onWarning });
  const withReward = log.decisions.filter((d) => d.reward !== undefined);
  const pending = log.decisions.length - withReward.length;
  if (pending > 0) onWarning(`${path}: ${pending} decision(s) have no reward yet and are left out`);
  return checkOpeData(
    withReward.map((d) => ({
      id: d.id,
      k: d.k,
      context: d.context,
      arm: d.arm,
      propensity: d.propensity,
      reward: d.reward!,
      legal: d.legal,
    })),
    path,
  );
}
