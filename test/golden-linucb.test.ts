import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPolicy } from '../policies/registry.js';

// This file runs from dist/test/, so the repo root is two levels up; the replayable
// problems ship in experiments/problems/.
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const problemDir = join(repoRoot, 'experiments', 'problems', 'linear-d8-k6-s2026');

function loadF64(name: string): Float64Array {
  const buf = readFileSync(join(problemDir, name));
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

test('LinUCB reproduces the golden action trace of linear-d8-k6-s2026 exactly', (t) => {
  if (!existsSync(join(problemDir, 'meta.json'))) {
    throw new Error(
      `golden problem not found at ${problemDir}; it ships with the repository ` +
        '(experiments/problems/): restore it with git checkout -- experiments/problems',
    );
  }
  const meta = JSON.parse(readFileSync(join(problemDir, 'meta.json'), 'utf8')) as {
    T: number;
    K: number;
    d: number;
  };
  const golden = JSON.parse(readFileSync(join(problemDir, 'golden', 'linucb.json'), 'utf8')) as {
    params: { alpha: number; lambda: number };
    actions: number[];
    cum_regret: number;
  };
  const { T, K, d } = meta;
  const contexts = loadF64('contexts.f64');
  const means = loadF64('means.f64');
  const noise = loadF64('noise.f64');
  t.is(contexts.length, T * d);
  t.is(golden.actions.length, T);

  const policy = createPolicy(
    { kind: 'linucb', params: { alpha: golden.params.alpha, lambda: golden.params.lambda } },
    { k: K, d, seed: 0 },
  );
  let cumRegret = 0;
  let firstMismatch = -1;
  for (let r = 0; r < T; r++) {
    const x = contexts.subarray(r * d, r * d + d);
    const { arm, propensity } = policy.select(x);
    if (arm !== golden.actions[r] && firstMismatch < 0) firstMismatch = r;
    t.is(propensity, 1);
    let best = -Infinity;
    for (let k = 0; k < K; k++) best = Math.max(best, means[r * K + k]);
    cumRegret += best - means[r * K + arm];
    policy.update(arm, means[r * K + arm] + noise[r * K + arm], x);
  }
  t.is(firstMismatch, -1, `first differing round: ${firstMismatch}`);
  t.true(
    Math.abs(cumRegret - golden.cum_regret) <= 1e-9 * Math.max(1, Math.abs(golden.cum_regret)),
    `cum_regret ${cumRegret} vs golden ${golden.cum_regret}`,
  );
});
