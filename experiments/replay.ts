/**
 * `mlproxy replay`: one policy over one problem folder (experiments/problems/ format), round for round.
 * decisionsPerSec counts only the time spent inside policy.select and policy.update
 * (process.hrtime.bigint around those calls), not loading or reward lookup.
 */
import { createPolicy } from '../policies/registry.js';
import { loadBenchProblem } from './bench-problem.js';
import { BenchEnv } from './envs/bench.js';

export interface ReplayResult {
  policy: string;
  rounds: number;
  cumRegret: number;
  decisionsPerSec: number;
  /** Chosen arm of every round. */
  actions: number[];
}

export function replayProblem(dir: string, policySpec: string, seed = 0): ReplayResult {
  const env = new BenchEnv({ dir }, loadBenchProblem(dir));
  const policy = createPolicy(policySpec, { k: env.k, d: env.d, seed });
  env.reset(seed);
  const T = env.rounds;
  const actions = new Array<number>(T);
  let cumRegret = 0;
  let policyNs = 0n;
  for (let t = 0; t < T; t++) {
    const x = env.context(t);
    const t0 = process.hrtime.bigint();
    const { arm } = policy.select(x);
    policyNs += process.hrtime.bigint() - t0;
    const r = env.step(arm);
    cumRegret += r.regret;
    actions[t] = arm;
    const t1 = process.hrtime.bigint();
    policy.update(arm, r.reward, x);
    policyNs += process.hrtime.bigint() - t1;
  }
  const seconds = Number(policyNs) / 1e9;
  return {
    policy: policySpec,
    rounds: T,
    cumRegret,
    decisionsPerSec: seconds > 0 ? T / seconds : Infinity,
    actions,
  };
}
