/**
 * `mlproxy replay`: one policy over one problem folder (experiments/problems/ format), round for round.
 * decisionsPerSec is rounds / the time of the whole replay loop (select, the reward
 * lookup, update), taken once around the loop: loading the folder and building the policy
 * are not counted. (Timing each call instead cost more than UCB1's own work.)
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
  const t0 = process.hrtime.bigint();
  for (let t = 0; t < T; t++) {
    const x = env.context(t);
    const arm = policy.select(x).arm;
    const r = env.step(arm);
    cumRegret += r.regret;
    actions[t] = arm;
    policy.update(arm, r.reward, x);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    policy: policySpec,
    rounds: T,
    cumRegret,
    decisionsPerSec: seconds > 0 ? T / seconds : Infinity,
    actions,
  };
}
