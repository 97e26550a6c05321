import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { policyKinds } from '../policies/registry.js';
import { replayProblem } from '../experiments/replay.js';
import { benchDir } from './experiments-helpers.js';

function golden(problem: string, name: string): { actions: number[]; cum_regret: number } {
  return JSON.parse(readFileSync(join(benchDir, problem, 'golden', name), 'utf8')) as {
    actions: number[];
    cum_regret: number;
  };
}

const has = (kind: string) => policyKinds().some((f) => f.kind === kind);

test('replay: linucb:alpha=1,lambda=1 reproduces the golden LinUCB trace', (t) => {
  const r = replayProblem(join(benchDir, 'linear-d8-k6-s2026'), 'linucb:alpha=1,lambda=1');
  const g = golden('linear-d8-k6-s2026', 'linucb.json');
  t.is(r.policy, 'linucb:alpha=1,lambda=1');
  t.is(r.rounds, 5000);
  t.deepEqual(r.actions, g.actions);
  t.true(Math.abs(r.cumRegret - g.cum_regret) < 1e-9 * Math.max(1, g.cum_regret));
  t.true(r.decisionsPerSec > 0);
});

test('replay: ucb1 reproduces the golden UCB1 trace', (t) => {
  if (!has('ucb1')) {
    t.fail('policy "ucb1" is not registered yet (policies/catalog.ts)');
    return;
  }
  const r = replayProblem(join(benchDir, 'bernoulli-k8-s11'), 'ucb1');
  const g = golden('bernoulli-k8-s11', 'ucb1.json');
  t.deepEqual(r.actions, g.actions);
  t.true(Math.abs(r.cumRegret - g.cum_regret) < 1e-9 * Math.max(1, g.cum_regret));
});

test('replay: a bad policy spec names the problem', (t) => {
  const e = t.throws(() => replayProblem(join(benchDir, 'linear-d8-k6-s2026'), 'linucb:alhpa=1'));
  t.regex(e.message, /no parameter "alhpa"/);
});
