/**
 * Off-policy evaluation of a candidate policy on a decision log, and the promotion gate.
 *
 * The candidate is replayed over the logged contexts in log order, with the logged legal
 * mask. Its probability of each arm, pi(.|x), is the exact distribution of its decision
 * when the decision has one (policies/distribution.ts distributionOf: a deterministic
 * choice is its point mass; epsilon-greedy, softmax, EXP3 and the tabular RL policies give
 * theirs): the importance weight is pi(logged arm|x) / p and the DR model term
 * sum_a pi(a|x) q(x, a). Otherwise (Thompson sampling, whose propensities are estimates)
 * it is estimated by one draw: the indicator that select() returned the logged arm, and
 * q(x, drawn arm), unbiased because the candidate's own randomness is independent of the
 * log. Both estimate the same value; the exact distribution removes the variance of the
 * candidate's own draw (a stochastic candidate that agrees with the logging policy would
 * otherwise look unsupported: with one draw, linegreedy:epsilon=0.2 on a log of the same
 * policy has an effective sample size of about a quarter of the decisions, see Support).
 *
 * Learning (default): the candidate is updated with each LOGGED arm, reward and context
 * (and the next decision's context as the next state), as a shadow policy would learn
 * from production traffic, as soon as the logging policy had learned from it (the logged
 * policy versions; updateSchedule), with UpdateInfo from the log: the logged
 * propensity, and full support when the record's distribution gave every legal arm a
 * chance. A policy that learns only through importance weights (EXP3) skips the others.
 * Its state at decision t then depends only on decisions before t, so every per-decision
 * term is unbiased for the value of the candidate as it was at t. With learn = false the
 * candidate is a fixed snapshot (a restored checkpoint, or an untrained policy).
 *
 * Evaluation window: decisions before `start`, and train-only ones (the daemon's safety
 * fallback, data.ts), only train a learning policy; the estimates use the rest. A policy
 * restored from a checkpoint (`learnedUpTo`) skips the decisions it has learned from.
 *
 * Support: an estimate of a policy's value is only as good as the log's evidence about
 * its choices. Per evaluated policy: the effective sample size of its importance weights
 * w = pi(logged arm|x) / p (Kish: (sum w)^2 / sum w^2), and the share of its choices that
 * had a known positive logging probability (per decision, the candidate's probability
 * mass on such arms; by the record's distribution, else a logged arm that matched, or an
 * arm the log ever played with propensity < 1). The gate refuses to promote when either
 * policy lacks support (GateOptions).
 */
import { distributionOf, hasFullSupport } from '../../policies/distribution.js';
import { createPolicy } from '../../policies/registry.js';
import type { Policy, UpdateInfo } from '../../policies/types.js';
import type { LoggedDecision, OpeData } from './data.js';
import type { Estimate, OpeTerms } from './estimators.js';
import { dr, drTerms, ips, meanInterval, snips } from './estimators.js';
import { GATE_DEFAULTS } from './defaults.js';
import { crossFittedModels } from './reward-model.js';
import type { RidgeRewardModel } from './reward-model.js';

export type CandidateMaker = (shape: { k: number; d: number; seed: number }) => Policy;
export type Candidate = string | { name: string; make: CandidateMaker };

export interface EvaluateOptions {
  /** Seed of the candidate's Rng (default 0). */
  seed?: number;
  /** Update the candidate with each logged decision (default true). */
  learn?: boolean;
  /** Decisions before this index only train the policy; the estimates use the rest. */
  start?: number;
  /**
   * The policy has learned from the first N logged decisions already (restored from a
   * checkpoint; see learnedBefore); default 0.
   */
  learnedUpTo?: number;
}

export interface Support {
  /** Kish effective sample size of the weights pi(logged arm|x) / p over the evaluated decisions. */
  ess: number;
  /** Share of the policy's choices (its probability mass) on arms with a known positive logging probability. */
  supported: number;
  /** Share of the policy's choices on arms the log ever played with a propensity below 1. */
  randomisedArms: number;
}

export interface Evaluation {
  policy: string;
  n: number;
  /**
   * Mean probability that the candidate chooses the logged arm (for a deterministic
   * candidate, the share of decisions where it did).
   */
  matchRate: number;
  ips: Estimate;
  snips: Estimate;
  dr: Estimate;
  /** Mean logged reward (the logging policy's on-policy value). */
  logged: Estimate;
  support: Support;
  /** Logged decisions the policy could not learn from (importance-weighted without full support). */
  skippedUpdates: number;
  /** The candidate's chosen (drawn) arm per evaluated decision. */
  arms: Int32Array;
  terms: OpeTerms;
}

function updateInfo(rec: LoggedDecision): UpdateInfo {
  return {
    propensity: rec.propensity,
    fullSupport: rec.distribution !== undefined && hasFullSupport(rec.distribution, rec.legal),
  };
}

/**
 * The one rule for learning from a logged decision off-policy (the replay here and the
 * fleet trainer): the update carries the logged propensity and whether the logging
 * distribution gave every legal arm a chance; a policy that learns only through
 * importance weights (Policy.learnsFrom, EXP3) is not updated with a play lacking full
 * support. Returns whether the policy learned from it.
 */
export function learnFromLogged(
  policy: Policy,
  rec: LoggedDecision,
  nextContext?: readonly number[],
): boolean {
  const info = updateInfo(rec);
  if (policy.learnsFrom !== 'any' && !info.fullSupport) return false;
  policy.update(rec.arm, rec.reward, rec.context, nextContext, info);
  return true;
}

/** Indices of the decisions the estimates use: from `start` on, not train-only. */
export function scoredIndices(data: OpeData, start = 0): Int32Array {
  const out: number[] = [];
  for (let i = start; i < data.decisions.length; i++) {
    if (!data.decisions[i].trainOnly) out.push(i);
  }
  return Int32Array.from(out);
}

/**
 * The logging loop's feedback delay. The daemon decides for the next kernel window before
 * the reward of the current one arrives, so at a decision its policy had learned from
 * `policyVersion` updates, not from every earlier decision. When the decisions carry
 * policy versions that never decrease and do grow, due(i) = policyVersion(i) -
 * policyVersion(0) is how many of the logged decisions had been learned from at decision
 * i, and the replay applies updates only that far: the replayed policy sees what the
 * logging policy saw. Otherwise (versions absent, constant, or reset by a policy change)
 * undefined: every earlier decision has been learned from.
 */
export function updateSchedule(all: LoggedDecision[]): ((i: number) => number) | undefined {
  const v0 = all[0]?.policyVersion;
  if (v0 === undefined) return undefined;
  let prev = v0;
  for (let i = 1; i < all.length; i++) {
    const v = all[i].policyVersion;
    if (v === undefined || v < prev) return undefined;
    prev = v;
  }
  if (prev === v0) return undefined;
  return (i) => all[i].policyVersion! - v0;
}

/**
 * How many logged decisions a policy checkpointed after `modelVersion` updates had learned
 * from (for learnedUpTo): by the policy versions when they are usable, else `start`.
 */
export function learnedBefore(data: OpeData, modelVersion: number, start: number): number {
  const v0 = data.decisions[0]?.policyVersion;
  if (updateSchedule(data.decisions) === undefined || v0 === undefined) return start;
  return Math.max(0, Math.min(data.decisions.length, modelVersion - v0));
}

/** Per evaluated decision: the candidate's probability mass on supported arms (supportOf). */
interface SupportMass {
  /** On arms with a known positive logging probability. */
  supported: Float64Array;
  /** On arms the log ever played with a propensity below 1. */
  randomised: Float64Array;
}

/** Whether arm a of a logged decision had a known positive logging probability. */
function supportedArm(rec: LoggedDecision, a: number, randomised: Uint8Array): boolean {
  if (rec.distribution !== undefined) return rec.distribution[a] > 0;
  return a === rec.arm || randomised[a] === 1;
}

function replayCandidate(
  data: OpeData,
  scored: Int32Array,
  policy: Policy,
  models: [RidgeRewardModel, RidgeRewardModel],
  opts: EvaluateOptions,
): { terms: OpeTerms; arms: Int32Array; mass: SupportMass; skipped: number } {
  const learn = opts.learn ?? true;
  const all = data.decisions;
  const n = scored.length;
  const terms: OpeTerms = {
    reward: new Float64Array(n),
    propensity: new Float64Array(n),
    match: new Float64Array(n),
    qLogged: new Float64Array(n),
    qCandidate: new Float64Array(n),
  };
  const arms = new Int32Array(n);
  const mass: SupportMass = { supported: new Float64Array(n), randomised: new Float64Array(n) };
  const randomised = randomisedArms(data);
  let skipped = 0;
  const learnFrom = (i: number): void => {
    if (!learnFromLogged(policy, all[i], all[i + 1]?.context)) skipped++;
  };
  const due = learn ? updateSchedule(all) : undefined;
  let applied = opts.learnedUpTo ?? 0;
  let j = 0;
  for (let i = 0; i < all.length; i++) {
    if (learn) {
      const upTo = due ? Math.min(i, due(i)) : i;
      while (applied < upTo) learnFrom(applied++);
    }
    if (j < n && scored[j] === i) {
      const rec = all[i];
      const model = models[i % 2];
      const decision = policy.select(rec.context, rec.legal);
      // Read at once: a lazily built distribution reads the policy's current state.
      const pi = distributionOf(decision, data.k);
      arms[j] = decision.arm;
      terms.reward[j] = rec.reward;
      terms.propensity[j] = rec.propensity;
      terms.qLogged[j] = model.predict(rec.context, rec.arm);
      if (pi !== undefined) {
        let q = 0;
        let sup = 0;
        let rnd = 0;
        for (let a = 0; a < pi.length; a++) {
          const p = pi[a];
          if (!(p > 0)) continue;
          q += p * model.predict(rec.context, a);
          if (supportedArm(rec, a, randomised)) sup += p;
          if (randomised[a]) rnd += p;
        }
        terms.match[j] = pi[rec.arm];
        terms.qCandidate[j] = q;
        mass.supported[j] = sup;
        mass.randomised[j] = rnd;
      } else {
        const a = decision.arm;
        terms.match[j] = a === rec.arm ? 1 : 0;
        terms.qCandidate[j] = model.predict(rec.context, a);
        mass.supported[j] = supportedArm(rec, a, randomised) ? 1 : 0;
        mass.randomised[j] = randomised[a];
      }
      j++;
    }
  }
  return { terms, arms, mass, skipped };
}

/** Arms the log ever played with a propensity below 1. */
function randomisedArms(data: OpeData): Uint8Array {
  const out = new Uint8Array(data.k);
  for (const rec of data.decisions) if (rec.propensity < 1) out[rec.arm] = 1;
  return out;
}

function supportOf(terms: OpeTerms, mass: SupportMass): Support {
  const n = terms.match.length;
  let sw = 0;
  let sw2 = 0;
  let supported = 0;
  let randomisedHits = 0;
  for (let j = 0; j < n; j++) {
    const w = terms.match[j] / terms.propensity[j];
    sw += w;
    sw2 += w * w;
    supported += mass.supported[j];
    randomisedHits += mass.randomised[j];
  }
  return {
    ess: sw2 > 0 ? (sw * sw) / sw2 : 0,
    supported: n > 0 ? supported / n : 0,
    randomisedArms: n > 0 ? randomisedHits / n : 0,
  };
}

function nameOf(candidate: Candidate): string {
  return typeof candidate === 'string' ? candidate : candidate.name;
}

export function evaluateCandidate(
  data: OpeData,
  candidate: Candidate,
  opts: EvaluateOptions = {},
  models = crossFittedModels(data.k, data.d, data.decisions),
): Evaluation {
  const start = opts.start ?? 0;
  const scored = scoredIndices(data, start);
  if (!(Number.isInteger(start) && start >= 0) || scored.length === 0) {
    throw new RangeError(
      `no decision left to evaluate (window from decision ${start} of ${data.decisions.length}, safety fallback decisions excluded)`,
    );
  }
  const shape = { k: data.k, d: data.d, seed: opts.seed ?? 0 };
  const policy =
    typeof candidate === 'string' ? createPolicy(candidate, shape) : candidate.make(shape);
  if (policy.k !== data.k) {
    throw new RangeError(`${nameOf(candidate)} has ${policy.k} arms, the log has k = ${data.k}`);
  }
  const { terms, arms, mass, skipped } = replayCandidate(data, scored, policy, models, opts);
  let matches = 0;
  for (let i = 0; i < terms.match.length; i++) matches += terms.match[i];
  const n = arms.length;
  return {
    policy: nameOf(candidate),
    n,
    matchRate: matches / n,
    ips: ips(terms),
    snips: snips(terms),
    dr: dr(terms),
    logged: meanInterval(terms.reward),
    support: supportOf(terms, mass),
    skippedUpdates: skipped,
    arms,
    terms,
  };
}

export interface GateOptions extends EvaluateOptions {
  /** Refuse when a policy's effective sample size is below this (default 100). */
  minEss?: number;
  /** Refuse when a policy's choices are supported in a smaller share of decisions (default 0.95). */
  minSupport?: number;
  /** Options of the current policy when they differ (a policy restored from a checkpoint). */
  current?: EvaluateOptions;
}

export { GATE_DEFAULTS };

export interface GateResult {
  candidate: Evaluation;
  current: Evaluation;
  /** DR estimate of value(candidate) − value(current), from paired per-decision differences. */
  difference: Estimate;
  /** True when the log supports both policies and the difference's 95% lower bound is above 0. */
  promote: boolean;
  /** Why the log cannot decide (empty when it can): the gate then refuses to promote. */
  refusals: string[];
}

/** Plain reasons why the log does not support an evaluation (empty when it does). */
export function supportProblems(
  data: OpeData,
  ev: Evaluation,
  role: string,
  opts: { minEss?: number; minSupport?: number } = {},
): string[] {
  const minEss = opts.minEss ?? GATE_DEFAULTS.minEss;
  const minSupport = opts.minSupport ?? GATE_DEFAULTS.minSupport;
  const out: string[] = [];
  const s = ev.support;
  if (s.ess < minEss) {
    out.push(
      `${role} ${ev.policy}: effective sample size ${s.ess.toFixed(1)} of ${ev.n} decisions is below ${minEss} (--min-ess): ` +
        `the log rarely played what it would play (it chose the logged arm in ${(100 * ev.matchRate).toFixed(1)}% of decisions)`,
    );
  }
  if (s.supported < minSupport) {
    out.push(
      `${role} ${ev.policy}: only ${(100 * s.supported).toFixed(1)}% of its choices had a positive probability in the log ` +
        `(needs ${(100 * minSupport).toFixed(0)}%, --min-support); the rest could only be guessed by the reward model`,
    );
  }
  return out;
}

/** Refusal when every scored decision of the window had propensity 1 (empty otherwise). */
function deterministicLog(data: OpeData, start: number): string[] {
  const scored = scoredIndices(data, start);
  if (!Array.from(scored).every((i) => data.decisions[i].propensity === 1)) return [];
  return [
    'every logged propensity is 1: the logging policy was deterministic, so the log says nothing about choices it did not make; ' +
      "log with exploration (the daemon's exploration.epsilon, default 0.05) and evaluate a log written since",
  ];
}

export interface KnownValueGateResult {
  candidate: Evaluation;
  /** The candidate's DR estimate minus the known value (the interval is the candidate's, shifted). */
  difference: Estimate;
  /** True when the log supports the candidate and the lower end of its DR interval is above the value. */
  promote: boolean;
  refusals: string[];
}

/**
 * The gate against a policy whose value is known without estimating it: the kernel's
 * baseline, whose reward is 0.5 in every state by the reward's definition
 * (src/loop/features.ts: efficiency over the kernel's own baseline reference, halved).
 * Estimating such a policy off-policy would only add noise, and it is often impossible:
 * the daemon's legal mask keeps advice within maxStep of the last advice, so once a host
 * has moved away from the defaults the log has no support for them. The candidate passes
 * when the log supports it (the same checks as promotionGate's) and the lower end of its
 * DR 95% interval is above `value`.
 */
export function knownValueGate(
  data: OpeData,
  candidate: Candidate,
  value: number,
  opts: GateOptions = {},
): KnownValueGateResult {
  const cand = evaluateCandidate(data, candidate, opts);
  const e = cand.dr;
  const difference = {
    value: e.value - value,
    lo: e.lo - value,
    hi: e.hi - value,
    se: e.se,
    n: e.n,
  };
  const refusals = [
    ...deterministicLog(data, opts.start ?? 0),
    ...supportProblems(data, cand, 'candidate', opts),
  ];
  return {
    candidate: cand,
    difference,
    promote: refusals.length === 0 && difference.lo > 0,
    refusals,
  };
}

/**
 * The promotion gate: both policies on the same log with the same reward model; the
 * per-decision DR terms are paired, so the shared noise of each logged reward cancels
 * in the difference and its interval is narrower than two separate intervals. It
 * promotes only when the log supports both policies (supportProblems) and the lower end
 * of the difference's 95% interval is above 0.
 */
export function promotionGate(
  data: OpeData,
  candidate: Candidate,
  current: Candidate,
  opts: GateOptions = {},
): GateResult {
  const models = crossFittedModels(data.k, data.d, data.decisions);
  const cand = evaluateCandidate(data, candidate, opts, models);
  const cur = evaluateCandidate(data, current, { ...opts, ...opts.current }, models);
  const a = drTerms(cand.terms);
  const b = drTerms(cur.terms);
  const difference = meanInterval(a.map((x, i) => x - b[i]));
  const refusals = deterministicLog(data, opts.start ?? 0);
  refusals.push(...supportProblems(data, cand, 'candidate', opts));
  refusals.push(...supportProblems(data, cur, 'current', opts));
  return {
    candidate: cand,
    current: cur,
    difference,
    promote: refusals.length === 0 && difference.lo > 0,
    refusals,
  };
}
