import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../cli/experiments.js';
import { evaluateCommand } from '../cli/commands/evaluate.js';
import { experimentCommand } from '../cli/commands/experiment.js';
import { replayCommand } from '../cli/commands/replay.js';
import { runCell } from '../experiments/cell.js';
import { benchDir, repoRoot } from './experiments-helpers.js';

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s) };
}

test('replay --json prints exactly one JSON object; --actions writes the arms', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mlproxy-cli-'));
  try {
    const io = capture();
    const actions = join(dir, 'a.json');
    const code = replayCommand(
      join(benchDir, 'linear-d8-k6-s2026'),
      { policy: 'linucb:alpha=1,lambda=1', json: true, actions },
      io,
    );
    t.is(code, 0);
    t.is(io.stdout.length, 1);
    const obj = JSON.parse(io.stdout[0]) as Record<string, unknown>;
    t.deepEqual(Object.keys(obj), ['policy', 'rounds', 'cumRegret', 'decisionsPerSec']);
    const golden = JSON.parse(
      readFileSync(join(benchDir, 'linear-d8-k6-s2026', 'golden', 'linucb.json'), 'utf8'),
    ) as { actions: number[] };
    t.deepEqual(JSON.parse(readFileSync(actions, 'utf8')), golden.actions);
    const human = capture();
    t.is(replayCommand(join(benchDir, 'linear-d8-k6-s2026'), { policy: 'linucb' }, human), 0);
    t.regex(
      human.stdout[0],
      /^linucb: 5000 rounds, cumulative regret \d+\.\d{3}, [\d,]+ decisions\/s/,
    );
    const bad = capture();
    t.is(replayCommand(dir, { policy: 'linucb' }, bad), 2);
    t.regex(bad.stderr[0], /is not a problem folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('experiment: example specs load; a bad spec exits 2 naming the field', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mlproxy-cli-'));
  try {
    const spec = join(dir, 'bad.yaml');
    writeFileSync(
      spec,
      'name: x\nhorizon: -1\nseeds: 2\npolicies: [linucb]\nenvironments: [{name: a, kind: linear, params: {k: 2, d: 2}}]\n',
    );
    const io = capture();
    t.is(await experimentCommand(spec, { out: dir, quiet: true }, io), 2);
    t.regex(io.stderr.join('\n'), /horizon: must be >= 1/);
    const ok = join(dir, 'ok.json');
    writeFileSync(
      ok,
      JSON.stringify({
        name: 'ok',
        horizon: 50,
        seeds: 2,
        points: 5,
        policies: ['linucb'],
        environments: [{ name: 'a', kind: 'linear', params: { k: 2, d: 2 } }],
      }),
    );
    const io2 = capture();
    t.is(await experimentCommand(ok, { out: join(dir, 'out'), quiet: true, jobs: 1 }, io2), 0);
    t.regex(io2.stdout[0], /^policy\s+env\s+final regret \(95% CI\)/);
    t.regex(io2.stdout.join('\n'), /report\s+.*report\.html/);
    // The shipped example specs must stay valid.
    const { loadSpec } = await import('../experiments/spec.js');
    for (const name of ['quick.yaml', 'full.yaml'])
      t.notThrows(() => loadSpec(join(repoRoot, 'experiments', 'specs', name)), name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('evaluate and the gate on an experiment-written decision log', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mlproxy-cli-'));
  try {
    const log = join(dir, 'decisions.jsonl');
    // An epsilon-greedy logging policy (stochastic propensities) on a linear problem.
    runCell({
      policy: 'linegreedy:epsilon=0.5',
      envName: 'lin',
      env: { kind: 'linear', params: { k: 3, d: 3, noiseSd: 0.1 } },
      seed: 1,
      horizon: 1500,
      points: 1,
      logPath: log,
    });
    // Linear rewards are not bounded to [0, 1]: the range must be stated.
    const unbounded = capture();
    t.is(evaluateCommand(log, { policy: 'linucb:alpha=0.5' }, unbounded), 2);
    t.regex(unbounded.stderr[0], /reward .* is outside \[0, 1\].*--reward-range LO,HI/);
    const rewardRange: [number, number] = [-10, 10];
    const io = capture();
    t.is(evaluateCommand(log, { policy: 'linucb:alpha=0.5', json: true, rewardRange }, io), 0);
    const res = JSON.parse(io.stdout[0]) as {
      n: number;
      k: number;
      d: number;
      candidate: { dr: { lo: number; hi: number } };
    };
    t.is(res.n, 1500);
    t.deepEqual([res.k, res.d], [3, 3]);
    t.true(res.candidate.dr.lo < res.candidate.dr.hi);
    // The gate with the same policy on both sides: the paired difference is exactly 0.
    const gate = capture();
    const code = evaluateCommand(
      log,
      { policy: 'linucb:alpha=0.5', against: 'linucb:alpha=0.5', learn: true, rewardRange },
      gate,
    );
    t.is(code, 1); // identical policies: no evidence, keep current
    t.regex(gate.stdout.join('\n'), /verdict: KEEP CURRENT/);
    const human = capture();
    t.is(evaluateCommand(log, { policy: 'linegreedy:epsilon=0.1', rewardRange }, human), 0);
    t.regex(human.stdout.join('\n'), /IPS .*95% CI[\s\S]*SNIPS[\s\S]*DR/);
    const missing = capture();
    t.is(evaluateCommand(join(dir, 'nope.jsonl'), { policy: 'linucb' }, missing), 2);
    t.regex(missing.stderr[0], /no such decision log/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
