/**
 * Policy throughput and memory: for every policy in the registry, decisions per second
 * (select then update, one at a time, fresh contexts from a pre-generated pool) and the
 * heap the policy retains, at d = 10 and K = 10.
 *
 * Each policy runs in its own Node process (this file is also the worker's entry point):
 * in one process the shared benchmark loop's call sites turn megamorphic after a few
 * policy classes, which slows every later policy, and heap/RSS figures would mix.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createPolicy, policyKinds } from '../policies/registry.js';
import type { Policy } from '../policies/types.js';
import { gcFunction } from './gc.js';
import { Rng } from '../policies/rng.js';
import type { BenchModule, BenchOptions, Row } from './types.js';

export const K = 10;
export const D = 10;
const POOL = 4096;

/**
 * Targets of issue 2 on the 2-core machine (decisions per second), matched against the
 * registry kinds (the Beta-Bernoulli Thompson sampler's kind name is matched loosely).
 */
export const TARGETS: { label: string; match: RegExp; perSecond: number }[] = [
  { label: 'LinUCB', match: /^linucb$/, perSecond: 300_000 },
  { label: 'linear TS', match: /^lints$/, perSecond: 50_000 },
  { label: 'UCB1', match: /^ucb1$/, perSecond: 5_000_000 },
  {
    label: 'Beta-TS',
    match: /^(ts|(ts|thompson)[-_]?(beta|bernoulli)|(beta|bernoulli)[-_]?(ts|thompson))$/,
    perSecond: 1_000_000,
  },
];

/** Pre-generated contexts and {0,1} rewards from a logistic-linear model (valid for every policy). */
interface Pool {
  contexts: Float64Array[];
  rewards: Uint8Array;
}

function makePool(seed: number): Pool {
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

/** Timing windows per policy; the best one is reported (other processes share 2 cores). */
const WINDOWS = 3;

/**
 * Warms up, then runs select+update in WINDOWS windows of seconds / WINDOWS each and
 * returns the best window's decisions per second.
 */
function timeDecisions(
  policy: Policy,
  seconds: number,
  pool: Pool,
  readPropensity: boolean,
): number {
  const { contexts, rewards } = pool;
  const contextual = policy.d > 0;
  let i = 0;
  let propensitySum = 0;
  const step = () => {
    const x = contexts[i & (POOL - 1)];
    const ctx = contextual ? x : undefined;
    const decision = policy.select(ctx);
    // The daemon logs every propensity, which computes any lazy estimate (Thompson
    // sampling's Monte Carlo); a pure select+update loop does not read it.
    if (readPropensity) propensitySum += decision.propensity;
    policy.update(decision.arm, rewards[(i & (POOL - 1)) * K + decision.arm], ctx, ctx);
    i++;
  };
  // Warm-up: lets the JIT settle and the policy leave its initial phase.
  for (let n = 0; n < 20_000; n++) step();
  let best = 0;
  for (let w = 0; w < WINDOWS; w++) {
    let decisions = 0;
    let batch = 1000;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < seconds / WINDOWS) {
      for (let n = 0; n < batch; n++) step();
      decisions += batch;
      elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      if (elapsed < seconds / WINDOWS / 10) batch *= 2;
    }
    best = Math.max(best, decisions / elapsed);
  }
  if (readPropensity && !(propensitySum > 0)) throw new Error('propensities must be positive');
  return best;
}

/** Heap in use, including typed-array backing stores (held outside the JS heap). */
function heapBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Memory per policy: MEMORY_INSTANCES instances each make MEMORY_DECISIONS decisions; the
 * heap growth divided by the instance count averages out the ~100 KiB noise of the heap.
 */
const MEMORY_INSTANCES = 40;
const MEMORY_DECISIONS = 500;

function measure(kind: string, opts: Pick<BenchOptions, 'seconds' | 'gc'>): Row {
  const shape = { k: K, d: D, seed: 1 };
  const pool = makePool(2026);
  const { contexts, rewards } = pool;
  // Memory first, in a fresh process (see MEMORY_INSTANCES).
  opts.gc();
  const before = heapBytes();
  const policies = Array.from({ length: MEMORY_INSTANCES }, () => createPolicy(kind, shape));
  const contextual = policies[0].d > 0;
  for (const policy of policies) {
    for (let i = 0; i < MEMORY_DECISIONS; i++) {
      const ctx = contextual ? contexts[i & (POOL - 1)] : undefined;
      const { arm, propensity } = policy.select(ctx);
      if (!(propensity > 0 && propensity <= 1)) {
        throw new Error(`${kind} reported propensity ${propensity}`);
      }
      policy.update(arm, rewards[(i & (POOL - 1)) * K + arm], ctx, ctx);
    }
  }
  opts.gc();
  const perInstance = (heapBytes() - before) / policies.length;
  const snapshotBytes = JSON.stringify(policies[0].snapshot()).length;
  const perSecond = timeDecisions(createPolicy(kind, shape), opts.seconds, pool, false);
  const withPropensity = timeDecisions(createPolicy(kind, shape), opts.seconds, pool, true);
  const rss = process.memoryUsage().rss;
  const target = TARGETS.find((t) => t.match.test(kind))?.perSecond;
  return {
    policy: kind,
    'decisions/s': Math.round(perSecond),
    'ns/decision': Math.round(1e9 / perSecond),
    'target/s': target ?? null,
    met: target === undefined ? null : perSecond >= target,
    'reading propensity/s': Math.round(withPropensity),
    [`heap/instance after ${MEMORY_DECISIONS} (KiB)`]: Math.round(perInstance / 102.4) / 10,
    'snapshot JSON (KiB)': Math.round(snapshotBytes / 102.4) / 10,
    'process rss (MiB)': Math.round(rss / 2 ** 20),
  };
}

export const policiesBench: BenchModule = {
  name: 'policies',
  description: `every registered policy, select+update one at a time, d=${D}, K=${K}`,
  cases: () => policyKinds().map((f) => f.kind),
  run: (cases, opts) => cases.map((kind) => measureInChild(kind, opts.seconds)),
};

const WORKER_FLAG = '--policy-bench-worker';

function measureInChild(kind: string, seconds: number): Row {
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), WORKER_FLAG, kind, String(seconds)],
    { encoding: 'utf8' },
  );
  if (child.status !== 0) {
    throw new Error(`policy benchmark of "${kind}" failed: ${child.stderr || child.error}`);
  }
  return JSON.parse(child.stdout) as Row;
}

if (process.argv[2] === WORKER_FLAG) {
  const row = measure(process.argv[3], { seconds: Number(process.argv[4]), gc: gcFunction() });
  process.stdout.write(JSON.stringify(row));
}
