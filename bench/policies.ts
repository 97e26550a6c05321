/**
 * Policy throughput and memory: for every policy in the registry, decisions per second
 * (select then update, one at a time, fresh contexts from a pre-generated pool) and the
 * heap the policy retains, at d = 10 and K = 10.
 */
import { createPolicy, policyKinds } from '../policies/registry.js';
import { Rng } from '../policies/rng.js';
import type { BenchModule, BenchOptions, Row } from './types.js';

export const K = 10;
export const D = 10;
const POOL = 4096;

/** Targets of issue 2 on the 2-core machine (decisions per second). */
export const TARGETS: Record<string, number> = {
  linucb: 300_000,
  lints: 50_000,
  ucb1: 5_000_000,
  'ts-beta': 1_000_000,
};

/** Pre-generated contexts and {0,1} rewards from a logistic-linear model (valid for every policy). */
function makePool(seed: number): { contexts: Float64Array[]; rewards: Uint8Array } {
  const rng = new Rng(seed);
  const theta = Array.from({ length: K * D }, () => rng.normal());
  const contexts: Float64Array[] = [];
  const rewards = new Uint8Array(POOL * K);
  for (let i = 0; i < POOL; i++) {
    const x = new Float64Array(D);
    for (let j = 0; j < D; j++) x[j] = rng.normal() / Math.sqrt(D);
    contexts.push(x);
    for (let a = 0; a < K; a++) {
      let z = 0;
      for (let j = 0; j < D; j++) z += x[j] * theta[a * D + j];
      rewards[i * K + a] = rng.uniform() < 1 / (1 + Math.exp(-2 * z)) ? 1 : 0;
    }
  }
  return { contexts, rewards };
}

function measure(kind: string, opts: BenchOptions): Row {
  const { contexts, rewards } = makePool(2026);
  opts.gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const policy = createPolicy(kind, { k: K, d: D, seed: 1 });
  const contextual = policy.d > 0;
  let i = 0;
  const step = () => {
    const x = contexts[i & (POOL - 1)];
    const ctx = contextual ? x : undefined;
    const { arm } = policy.select(ctx);
    policy.update(arm, rewards[(i & (POOL - 1)) * K + arm], ctx, ctx);
    i++;
  };
  // Warm-up: lets the JIT settle and the policy leave its initial phase.
  for (let n = 0; n < 20_000; n++) step();
  let decisions = 0;
  let batch = 1000;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < opts.seconds) {
    for (let n = 0; n < batch; n++) step();
    decisions += batch;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    if (elapsed < opts.seconds / 10) batch *= 2;
  }
  opts.gc();
  const mem = process.memoryUsage();
  const retained = mem.heapUsed - heapBefore;
  const perSecond = decisions / elapsed;
  const target = TARGETS[kind];
  return {
    policy: kind,
    'decisions/s': Math.round(perSecond),
    'ns/decision': Math.round(1e9 / perSecond),
    'target/s': target ?? null,
    met: target === undefined ? null : perSecond >= target,
    'heap retained (KiB)': Math.round(retained / 1024),
    'snapshot (KiB)': Math.round(JSON.stringify(policy.snapshot()).length / 1024),
    'rss (MiB)': Math.round(mem.rss / 2 ** 20),
  };
}

export const policiesBench: BenchModule = {
  name: 'policies',
  description: `every registered policy, select+update one at a time, d=${D}, K=${K}`,
  cases: () => policyKinds().map((f) => f.kind),
  run: (cases, opts) => cases.map((kind) => measure(kind, opts)),
};
