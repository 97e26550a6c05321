import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCell } from '../experiments/cell.js';
import { expandCells, runExperiment } from '../experiments/experiment.js';
import { summarise, summaryTable, toCsv } from '../experiments/results.js';
import { checkSpec } from '../experiments/spec.js';
import { readDecisionLog } from '../src/decisionlog/reader.js';
import { benchDir, FixedArmPolicy } from './experiments-helpers.js';

const SPEC = {
  name: 'tiny',
  horizon: 300,
  seeds: 3,
  points: 10,
  policies: ['linucb:alpha=1,lambda=1', { spec: 'linegreedy:epsilon=0.1', envs: ['lin'] }],
  environments: [
    { name: 'lin', kind: 'linear', params: { k: 3, d: 4 } },
    { name: 'lin-noisy', kind: 'linear', params: { k: 3, d: 4, noiseSd: 1 } },
  ],
};

const withoutTiming = (cells: { decisionsPerSec: number }[]) =>
  cells.map((c) => ({ ...c, decisionsPerSec: 0 }));

test('a cell is deterministic and its curves add up', (t) => {
  const cell = {
    policy: 'linucb:alpha=1',
    envName: 'e',
    env: { kind: 'linear', params: { k: 3, d: 4 } },
    seed: 5,
    horizon: 250,
    points: 10,
  };
  const a = runCell(cell);
  const b = runCell(cell);
  t.deepEqual(withoutTiming([a]), withoutTiming([b]));
  t.is(a.checkpoints.length, 10);
  t.is(a.checkpoints.at(-1), 250);
  t.is(a.cumRegret.at(-1), a.finalRegret);
  for (const row of a.armShare) t.true(Math.abs(row.reduce((s, x) => s + x, 0) - 1) < 1e-12);
  t.true(a.decisionsPerSec > 0);
  const c = runCell({ ...cell, seed: 6 });
  t.not(c.finalRegret, a.finalRegret);
});

test('a fixed best arm has zero regret; a fixed other arm shows in the arm shares', (t) => {
  const cell = {
    policy: 'fixed',
    envName: 'b',
    env: { kind: 'bernoulli', params: { probs: [0.3, 0.7] } },
    seed: 1,
    horizon: 100,
    points: 4,
  };
  const best = runCell(cell, (s) => new FixedArmPolicy(s.k, s.d, 1));
  t.is(best.finalRegret, 0);
  t.true(Math.abs(best.finalVsBaseline - 40) < 1e-9);
  t.deepEqual(best.armShare, [
    [0, 1],
    [0, 1],
    [0, 1],
    [0, 1],
  ]);
  const worst = runCell(cell, (s) => new FixedArmPolicy(s.k, s.d, 0));
  t.true(Math.abs(worst.finalRegret - 40) < 1e-9);
  t.is(worst.optimalShare, 0);
});

test('spec validation names the bad field', (t) => {
  const bad = (patch: object) => t.throws(() => checkSpec({ ...SPEC, ...patch }, 'x.yaml')).message;
  t.regex(bad({ horizon: 0 }), /horizon: must be >= 1/);
  t.regex(bad({ seeds: 'three' }), /seeds/);
  t.regex(bad({ extra: 1 }), /unknown field "extra"/);
  t.regex(
    bad({ environments: [{ name: 'a', kind: 'linear', params: { k: 3 } }] }),
    /environments\/0\/params: missing required field "d"/,
  );
  t.regex(bad({ environments: [{ name: 'a', kind: 'nope' }] }), /unknown environment kind "nope"/);
  t.regex(
    bad({ policies: ['linucb:alpah=1'] }),
    /policies\/0: policy "linucb" has no parameter "alpah"; did you mean "alpha"\? it takes alpha, lambda/,
  );
  // The same did-you-mean quality as the daemon's config.
  t.regex(
    bad({ policies: ['lnucb'] }),
    /policies\/0: unknown policy 'lnucb'; did you mean "linucb"\?/,
  );
  t.regex(
    bad({ environments: [{ name: 'a', kind: 'lnear', params: { k: 3, d: 2 } }] }),
    /unknown environment kind "lnear"; did you mean "linear"\? known kinds:/,
  );
  t.regex(
    bad({ horizn: 5 }),
    /unknown field "horizn"; did you mean "horizon"\? remove it or use one of: name, description, horizon/,
  );
  t.regex(
    bad({ environments: [{ name: 'a', kind: 'linear', params: { k: 3, d: 2, noiseSD: 1 } }] }),
    /environments\/0\/params\/noiseSD: unknown field "noiseSD"; did you mean "noiseSd"\?/,
  );
  t.regex(bad({ horizon: 'long' }), /horizon: must be integer, got "long"; write a whole number/);
  t.regex(
    bad({
      policies: ['linucb'],
      environments: [{ name: 'b', kind: 'bernoulli', params: { k: 3 } }],
    }),
    /cannot run on environment "b" \(k=3, d=0\).*envs/,
  );
  t.regex(bad({ policies: [{ spec: 'linucb', envs: ['zzz'] }] }), /no environment named "zzz"/);
});

test('cells expand policy × env × seed, honouring per-policy env lists', (t) => {
  const cells = expandCells(checkSpec(structuredClone(SPEC), 's'));
  t.is(cells.length, 2 * 3 + 1 * 3);
  t.deepEqual(cells.map((c) => `${c.policy}|${c.envName}|${c.seed}`).slice(0, 4), [
    'linucb:alpha=1,lambda=1|lin|0',
    'linucb:alpha=1,lambda=1|lin|1',
    'linucb:alpha=1,lambda=1|lin|2',
    'linucb:alpha=1,lambda=1|lin-noisy|0',
  ]);
});

test('experiment: same numbers with 1 or 2 workers; JSON, CSV, HTML and decision logs written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mlproxy-exp-'));
  try {
    const spec = checkSpec({ ...structuredClone(SPEC), logDecisions: true }, 's');
    const one = await runExperiment(spec, {
      outDir: join(dir, 'one'),
      jobs: 1,
      quiet: true,
      noReport: true,
    });
    const two = await runExperiment(spec, { outDir: join(dir, 'two'), jobs: 2, quiet: true });
    t.is(one.poolSize, 1);
    t.deepEqual(withoutTiming(one.cells), withoutTiming(two.cells));
    const json = JSON.parse(readFileSync(two.files.json, 'utf8')) as {
      cells: unknown[];
      summaries: unknown[];
    };
    t.is(json.cells.length, 9);
    t.is(json.summaries.length, 3);
    const csv = readFileSync(two.files.cellsCsv, 'utf8').trim().split('\n');
    t.is(csv.length, 10);
    t.true(csv[1].startsWith('"linucb:alpha=1,lambda=1",lin,0,300,'));
    const html = readFileSync(two.files.report!, 'utf8');
    // 3 band plots per env (regret, vs baseline, optimal choices) + one arm plot per (policy, env)
    t.is((html.match(/<svg/g) ?? []).length, 3 * 2 + 3);
    t.true(existsSync(two.files.pairwiseCsv));
    t.regex(html, /Cumulative regret — lin/);
    t.regex(html, /1\.96 standard errors/);
    const log = readDecisionLog(join(dir, 'two', 'logs', 'p0-lin-s0.jsonl'));
    t.is(log.decisions.length, 300);
    t.true(
      log.decisions.every(
        (d) => d.propensity === 1 && d.context.length === 4 && typeof d.reward === 'number',
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('summary: 95% interval across seeds and a readable table', (t) => {
  const mk = (seed: number, regret: number) => ({
    policy: 'p,1',
    env: 'e',
    seed,
    rounds: 10,
    k: 2,
    finalRegret: regret,
    totalReward: 5,
    meanReward: 0.5,
    finalVsBaseline: 1,
    optimalShare: 0.5,
    decisionsPerSec: 2e6,
    checkpoints: [10],
    cumRegret: [regret],
    cumVsBaseline: [1],
    armShare: [[0.5, 0.5]],
    optimalCurve: [0.5],
  });
  const [s] = summarise([mk(0, 1), mk(1, 3)]);
  t.is(s.meanFinalRegret, 2);
  // sd = sqrt(2), se = 1, half width = 1.96
  t.true(Math.abs(s.finalRegretCi! - 1.959963984540054) < 1e-12);
  t.deepEqual(s.cumRegret.lo, [2 - s.finalRegretCi!]);
  const table = summaryTable([s]);
  t.regex(table, /p,1\s+e\s+2\.0 ± 2\.0\s+0\.5000\s+1\.0\s+50\.0%\s+2\.00M \(2\.00M–2\.00M\)/);
  // Identical seeds (a deterministic replay) give no interval, and say so.
  const [same] = summarise([mk(0, 4), mk(1, 4), mk(2, 4)]);
  t.true(same.identicalSeeds);
  t.is(same.finalRegretCi, null);
  t.regex(summaryTable([same]), /4\.0 \(identical in all 3 seeds\)/);
  t.is(toCsv(['a'], [['x,"y"']]), 'a\n"x,""y"""\n');
});

test('the policy learns from the context it decided in (step does not overwrite it)', (t) => {
  const seen: string[] = [];
  const recorder = (s: { k: number; d: number }) => {
    const p = new FixedArmPolicy(s.k, s.d, 0);
    return Object.assign(p, {
      select: (x?: ArrayLike<number>) => (
        seen.push(`s${Array.from(x!).join()}`),
        { arm: 0, propensity: 1 }
      ),
      update: (_a: number, _r: number, x?: ArrayLike<number>) =>
        void seen.push(`u${Array.from(x!).join()}`),
    });
  };
  for (const env of [
    { kind: 'linear', params: { k: 2, d: 3 } },
    { kind: 'bench', params: { dir: join(benchDir, 'linear-d8-k6-s2026') } },
  ]) {
    seen.length = 0;
    runCell({ policy: 'rec', envName: 'e', env, seed: 1, horizon: 20, points: 2 }, recorder);
    for (let i = 0; i < seen.length; i += 2) t.is(seen[i + 1].slice(1), seen[i].slice(1));
    t.not(seen[0], seen[2]);
  }
});
