/**
 * UCB1 must reproduce the golden trace of experiments/problems/bernoulli-k8-s11
 * exactly: the same arm at every round and the same cumulative regret.
 */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPolicy } from '../policies/registry.js';

// This file runs from dist/test/, so the repository root is two levels up.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const problemDir = path.resolve(repoRoot, 'experiments', 'problems', 'bernoulli-k8-s11');

interface Meta {
  kind: string;
  T: number;
  K: number;
  probs: number[];
}
interface Golden {
  policy: string;
  actions: number[];
  cum_regret: number;
}

test('UCB1 reproduces the golden action trace and cumulative regret of bernoulli-k8-s11', (t) => {
  if (!existsSync(problemDir)) {
    t.fail(
      `golden problem not found at ${problemDir}; it ships with the repository ` +
        '(experiments/problems/): restore it with git checkout -- experiments/problems',
    );
    return;
  }
  const meta = JSON.parse(readFileSync(path.join(problemDir, 'meta.json'), 'utf8')) as Meta;
  const golden = JSON.parse(
    readFileSync(path.join(problemDir, 'golden', 'ucb1.json'), 'utf8'),
  ) as Golden;
  const rewards = readFileSync(path.join(problemDir, 'rewards.u8'));
  t.is(meta.kind, 'bernoulli');
  t.is(rewards.length, meta.T * meta.K, 'rewards.u8 must hold T x K bytes');
  t.is(golden.actions.length, meta.T);

  const policy = createPolicy('ucb1', { k: meta.K, d: 0, seed: 1 });
  const best = Math.max(...meta.probs);
  let cumRegret = 0;
  let firstMismatch = -1;
  for (let round = 0; round < meta.T; round++) {
    const { arm, propensity } = policy.select();
    if (propensity !== 1) t.fail(`UCB1 is deterministic; propensity was ${propensity}`);
    if (arm !== golden.actions[round] && firstMismatch < 0) firstMismatch = round;
    policy.update(arm, rewards[round * meta.K + arm]);
    cumRegret += best - meta.probs[arm];
  }
  t.is(firstMismatch, -1, `first differing round: ${firstMismatch}`);
  t.true(
    Math.abs(cumRegret - golden.cum_regret) <= 1e-9 * Math.max(1, golden.cum_regret),
    `cumulative regret ${cumRegret} vs golden ${golden.cum_regret}`,
  );
});
