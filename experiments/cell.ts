/**
 * One cell of an experiment: one policy on one environment with one seed. Pure and
 * deterministic apart from the decisions/s timing, so a cell gives the same numbers in
 * any worker and any pool size. The inner loop calls policy.select/update directly and
 * allocates nothing itself.
 */
import { performance } from 'node:perf_hooks';
import { createPolicy } from '../policies/registry.js';
import type { Policy } from '../policies/types.js';
import { DECISION_LOG_VERSION } from '../src/decisionlog/record.js';
import { DecisionLogWriter } from '../src/decisionlog/writer.js';
import { createEnv } from './envs/registry.js';
import type { EnvSpec } from './envs/registry.js';
import { deriveSeed, ENV_STREAM, POLICY_STREAM } from './seeds.js';

export interface CellSpec {
  /** Policy spec string, e.g. "linucb:alpha=1". */
  policy: string;
  /** Display name of the environment. */
  envName: string;
  env: EnvSpec;
  seed: number;
  /** Rounds to play (capped by the environment's own number of rounds). */
  horizon: number;
  /** Number of time buckets of the curves. */
  points: number;
  /** When set, every decision and reward is appended here in the decision-log format. */
  logPath?: string;
}

export interface CellResult {
  policy: string;
  env: string;
  seed: number;
  rounds: number;
  k: number;
  finalRegret: number;
  totalReward: number;
  meanReward: number;
  /** Cumulative expected reward minus the baseline arm's, at the end. */
  finalVsBaseline: number;
  /** Share of rounds where the chosen arm was a best arm. */
  optimalShare: number;
  /** Decisions per second of select + update alone (the only field that varies run to run). */
  decisionsPerSec: number;
  /** Round count at the end of each bucket. */
  checkpoints: number[];
  cumRegret: number[];
  cumVsBaseline: number[];
  /** armShare[b][a]: share of bucket b's rounds that played arm a. */
  armShare: number[][];
  /** optimalCurve[b]: share of bucket b's rounds that played a best arm. */
  optimalCurve: number[];
}

export type PolicyMaker = (shape: { k: number; d: number; seed: number }) => Policy;

export function runCell(cell: CellSpec, makePolicy?: PolicyMaker): CellResult {
  const env = createEnv(cell.env);
  const rounds = env.rounds === undefined ? cell.horizon : Math.min(cell.horizon, env.rounds);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new RangeError(`horizon must be an integer >= 1, got ${rounds}`);
  const shape = { k: env.k, d: env.d, seed: deriveSeed(cell.seed, POLICY_STREAM) };
  const policy = makePolicy ? makePolicy(shape) : createPolicy(cell.policy, shape);
  env.reset(deriveSeed(cell.seed, ENV_STREAM));

  const points = Math.max(1, Math.min(cell.points, rounds));
  const bucket = Math.ceil(rounds / points);
  const nBuckets = Math.ceil(rounds / bucket);
  const checkpoints: number[] = [];
  const cumRegret: number[] = [];
  const cumVs: number[] = [];
  const counts = new Float64Array(nBuckets * env.k);
  const optimalCounts = new Float64Array(nBuckets);
  const log = cell.logPath ? new DecisionLogWriter(cell.logPath) : undefined;

  let regret = 0;
  let reward = 0;
  let vs = 0;
  let optimal = 0;
  let policyMs = 0;
  try {
    for (let t = 0; t < rounds; t++) {
      const x = env.context(t);
      const legal = env.legal(t);
      const t0 = performance.now();
      const decision = policy.select(x, legal);
      const t1 = performance.now();
      const arm = decision.arm;
      if (log) logDecision(log, cell, t, x, legal, env.k, arm, decision.propensity);
      const r = env.step(arm);
      const t2 = performance.now();
      policy.update(arm, r.reward, x);
      policyMs += t1 - t0 + (performance.now() - t2);
      if (log) logReward(log, cell, t, r.reward);
      regret += r.regret;
      reward += r.reward;
      vs += r.vsBaseline;
      const b = Math.floor(t / bucket);
      if (r.optimal) {
        optimal++;
        optimalCounts[b]++;
      }
      counts[b * env.k + arm]++;
      if (t + 1 === rounds || (t + 1) % bucket === 0) {
        checkpoints.push(t + 1);
        cumRegret.push(regret);
        cumVs.push(vs);
      }
    }
  } finally {
    log?.close();
  }
  const armShare: number[][] = [];
  const optimalCurve: number[] = [];
  for (let b = 0; b < nBuckets; b++) {
    const size = Math.min(bucket, rounds - b * bucket);
    armShare.push(Array.from(counts.subarray(b * env.k, (b + 1) * env.k), (c) => c / size));
    optimalCurve.push(optimalCounts[b] / size);
  }
  return {
    policy: cell.policy,
    env: cell.envName,
    seed: cell.seed,
    rounds,
    k: env.k,
    finalRegret: regret,
    totalReward: reward,
    meanReward: reward / rounds,
    finalVsBaseline: vs,
    optimalShare: optimal / rounds,
    decisionsPerSec: policyMs > 0 ? rounds / (policyMs / 1000) : 0,
    checkpoints,
    cumRegret,
    cumVsBaseline: cumVs,
    armShare,
    optimalCurve,
  };
}

function logDecision(
  log: DecisionLogWriter,
  cell: CellSpec,
  t: number,
  x: ArrayLike<number> | undefined,
  legal: ArrayLike<boolean | number> | undefined,
  k: number,
  arm: number,
  propensity: number,
): void {
  log.append({
    v: DECISION_LOG_VERSION,
    type: 'decision',
    id: `${cell.envName}:${t}`,
    time: new Date(t).toISOString(),
    subsystem: cell.envName,
    epoch: t,
    context: x ? Array.from(x) : [],
    k,
    arm,
    knobs: [arm],
    propensity,
    ...(legal ? { legal: Array.from(legal, (l) => (l ? 1 : 0)) } : {}),
    policy: cell.policy,
    // Updates made before this decision (one per earlier round): OPE replays follow it.
    policyVersion: t,
    verdict: 'applied',
  });
}

function logReward(log: DecisionLogWriter, cell: CellSpec, t: number, reward: number): void {
  log.append({
    v: DECISION_LOG_VERSION,
    type: 'reward',
    id: `${cell.envName}:${t}`,
    time: new Date(t).toISOString(),
    reward,
    applied: true,
    eff: reward,
    baselineEff: 0,
  });
}
