/**
 * Off-policy evaluation of a candidate policy on a decision log, and the promotion gate.
 *
 * The candidate is replayed over the logged contexts in log order, with the logged legal
 * mask. Its probability of the logged arm, pi(a|x), is estimated by one draw: the
 * indicator that its select() returned the logged arm. That is exact for deterministic
 * candidates (propensity 1) and an unbiased estimate for stochastic ones, because the
 * candidate's own randomness is independent of the log; it needs nothing beyond the
 * Policy interface.
 *
 * Learning (default): after each decision the candidate is updated with the LOGGED arm,
 * reward and context, as a shadow policy would learn from production traffic. Its state
 * at decision t then depends only on decisions before t, so every per-decision term is
 * unbiased for the value of the candidate as it was at t, and the estimate is the mean
 * reward per decision of the candidate trained on this traffic. With learn = false the
 * candidate is a fixed snapshot (e.g. a restored checkpoint) evaluated without updates.
 */
import { createPolicy } from '../../policies/registry.js';
import type { Policy } from '../../policies/types.js';
import type { OpeData } from './data.js';
import type { Estimate, OpeTerms } from './estimators.js';
import { dr, drTerms, ips, meanInterval, snips } from './estimators.js';
import { crossFittedModels } from './reward-model.js';
import type { RidgeRewardModel } from './reward-model.js';

export type CandidateMaker = (shape: { k: number; d: number; seed: number }) => Policy;

export interface EvaluateOptions {
  /** Seed of the candidate's Rng (default 0). */
  seed?: number;
  /** Update the candidate with each logged decision (default true). */
  learn?: boolean;
}

export interface Evaluation {
  policy: string;
  n: number;
  /** Share of decisions where the candidate chose the logged arm. */
  matchRate: number;
  ips: Estimate;
  snips: Estimate;
  dr: Estimate;
  /** Mean logged reward (the logging policy's on-policy value). */
  logged: Estimate;
  /** The candidate's chosen arm per decision. */
  arms: Int32Array;
  terms: OpeTerms;
}

function replayCandidate(
  data: OpeData,
  policy: Policy,
  models: [RidgeRewardModel, RidgeRewardModel],
  learn: boolean,
): { terms: OpeTerms; arms: Int32Array } {
  const n = data.decisions.length;
  const terms: OpeTerms = {
    reward: new Float64Array(n),
    propensity: new Float64Array(n),
    match: new Float64Array(n),
    qLogged: new Float64Array(n),
    qCandidate: new Float64Array(n),
  };
  const arms = new Int32Array(n);
  data.decisions.forEach((rec, i) => {
    const model = models[i % 2];
    const { arm } = policy.select(rec.context, rec.legal);
    arms[i] = arm;
    terms.reward[i] = rec.reward;
    terms.propensity[i] = rec.propensity;
    terms.match[i] = arm === rec.arm ? 1 : 0;
    terms.qLogged[i] = model.predict(rec.context, rec.arm);
    terms.qCandidate[i] = model.predict(rec.context, arm);
    if (learn) policy.update(rec.arm, rec.reward, rec.context);
  });
  return { terms, arms };
}

export function evaluateCandidate(
  data: OpeData,
  candidate: string | { name: string; make: CandidateMaker },
  opts: EvaluateOptions = {},
  models = crossFittedModels(data.k, data.d, data.decisions),
): Evaluation {
  const shape = { k: data.k, d: data.d, seed: opts.seed ?? 0 };
  const policy =
    typeof candidate === 'string' ? createPolicy(candidate, shape) : candidate.make(shape);
  const { terms, arms } = replayCandidate(data, policy, models, opts.learn ?? true);
  let matches = 0;
  for (let i = 0; i < terms.match.length; i++) matches += terms.match[i];
  return {
    policy: typeof candidate === 'string' ? candidate : candidate.name,
    n: data.decisions.length,
    matchRate: matches / data.decisions.length,
    ips: ips(terms),
    snips: snips(terms),
    dr: dr(terms),
    logged: meanInterval(terms.reward),
    arms,
    terms,
  };
}

export interface GateResult {
  candidate: Evaluation;
  current: Evaluation;
  /** DR estimate of value(candidate) − value(current), from paired per-decision differences. */
  difference: Estimate;
  /** True when the lower end of the difference's 95% interval is above 0. */
  promote: boolean;
}

/**
 * The promotion gate: both policies on the same log with the same reward model; the
 * per-decision DR terms are paired, so the shared noise of each logged reward cancels
 * in the difference and its interval is narrower than two separate intervals.
 */
export function promotionGate(
  data: OpeData,
  candidate: string | { name: string; make: CandidateMaker },
  current: string | { name: string; make: CandidateMaker },
  opts: EvaluateOptions = {},
): GateResult {
  const models = crossFittedModels(data.k, data.d, data.decisions);
  const cand = evaluateCandidate(data, candidate, opts, models);
  const cur = evaluateCandidate(data, current, opts, models);
  const a = drTerms(cand.terms);
  const b = drTerms(cur.terms);
  const difference = meanInterval(a.map((x, i) => x - b[i]));
  return { candidate: cand, current: cur, difference, promote: difference.lo > 0 };
}
