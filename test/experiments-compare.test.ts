/**
 * The researcher's report: the paired t-test and Holm's correction (checked against values
 * computed by hand and by R's t.test and p.adjust), the pairwise comparison of policies
 * across seeds, and the report's legends, optimal-choice plot and environment parameters.
 */
import test from 'ava';
import type { CellResult } from '../experiments/cell.js';
import { comparisonTable, pairwiseComparisons } from '../experiments/compare.js';
import { buildReport } from '../experiments/report.js';
import { summarise } from '../experiments/results.js';
import { holm, pairedTTest, tQuantile } from '../experiments/stats.js';

const close = (a: number, b: number, tol = 1e-4) => Math.abs(a - b) <= tol;

test('paired t-test: R t.test(c(1,2,3,4,5), rep(2,5), paired = TRUE)', (t) => {
  const r = pairedTTest([1, 2, 3, 4, 5], [2, 2, 2, 2, 2]);
  t.is(r.n, 5);
  t.is(r.mean, 1);
  t.true(close(r.t, 1.414214), `t ${r.t}`);
  t.true(close(r.p, 0.2302), `p ${r.p}`);
  t.true(close(r.lo, -0.963243) && close(r.hi, 2.963243), `${r.lo}..${r.hi}`);
  t.deepEqual([r.greater, r.less, r.ties], [3, 1, 1]);
  t.true(close(tQuantile(0.975, 4), 2.776445));
});

test('paired t-test: identical differences are exact, not significant by accident', (t) => {
  const same = pairedTTest([3, 3, 3], [3, 3, 3]);
  t.is(same.p, 1);
  t.is(same.t, 0);
  const shifted = pairedTTest([1, 2, 3], [2, 3, 4]);
  t.is(shifted.sd, 0);
  t.is(shifted.t, -Infinity);
  t.throws(() => pairedTTest([1], [2]), { message: /at least two pairs/ });
});

test("Holm: R p.adjust(c(0.01, 0.04, 0.03, 0.005), 'holm')", (t) => {
  const adj = holm([0.01, 0.04, 0.03, 0.005]);
  [0.03, 0.06, 0.06, 0.02].forEach((want, i) => t.true(close(adj[i], want, 1e-12), `${adj[i]}`));
  t.deepEqual(holm([0.5, 0.9]), [1, 1]);
  t.deepEqual(holm([]), []);
});

function cell(policy: string, env: string, seed: number, finalRegret: number): CellResult {
  return {
    policy,
    env,
    seed,
    rounds: 100,
    k: 2,
    finalRegret,
    totalReward: 50,
    meanReward: 0.5,
    finalVsBaseline: 0,
    optimalShare: 0.5,
    decisionsPerSec: 1e5 * (seed + 1),
    checkpoints: [50, 100],
    cumRegret: [finalRegret / 2, finalRegret],
    cumVsBaseline: [0, 0],
    armShare: [
      [0.5, 0.5],
      [0.5, 0.5],
    ],
    optimalCurve: [0.4, 0.6],
  };
}

test('pairwise comparison: a clearly better policy, a tie, identical replays, Holm over the family', (t) => {
  const cells: CellResult[] = [];
  const noise = [0.3, -0.2, 0.1, -0.4, 0.2, 0.0];
  noise.forEach((e, seed) => {
    cells.push(cell('good', 'env', seed, 10 + e));
    cells.push(cell('bad', 'env', seed, 30 - e));
    cells.push(cell('bad-twin', 'env', seed, 30 + e * 0.9));
    // A deterministic pair on fixed draws: the same regrets in every seed.
    cells.push(cell('fixed-a', 'bench', seed, 5));
    cells.push(cell('fixed-b', 'bench', seed, 7));
  });
  const comps = pairwiseComparisons(cells);
  const get = (a: string, b: string) => comps.find((c) => c.a === a && c.b === b)!;
  const gb = get('good', 'bad');
  t.is(gb.better, 'good');
  t.true(gb.test.hi < 0);
  t.true(gb.pHolm >= gb.test.p, 'Holm never lowers a p-value');
  t.regex(
    gb.verdict,
    /good is better than bad: 20\.\d\d less final regret on average \(lower in 6 of 6 seeds\)/,
  );
  const twins = get('bad', 'bad-twin');
  t.is(twins.better, null);
  t.regex(twins.verdict, /no significant difference at 5% after Holm's correction/);
  const det = get('fixed-a', 'fixed-b');
  t.true(det.deterministic);
  t.is(det.better, null);
  t.regex(
    det.verdict,
    /fixed-a has 2\.00 less regret in every seed.*identical replays of one problem, so no confidence/,
  );
  t.is(comps.filter((c) => c.env === 'env').length, 3);
  t.regex(comparisonTable(comps), /good {2}vs {2}bad/);
});

test('report: full policy labels in legends, optimal-choice plot, environment parameters, comparisons', async (t) => {
  const long1 = 'conservative:alpha=0.1,baseline=0,inner=linucb,inner.alpha=1';
  const long2 = 'conservative:alpha=0.1,baseline=0,inner=linucb,inner.alpha=2';
  const cells = [0, 1, 2].flatMap((seed) => [
    cell(long1, 'lin', seed, 10 + seed),
    cell(long2, 'lin', seed, 12 + seed * 1.5),
  ]);
  const summaries = summarise(cells);
  t.deepEqual(summaries[0].optimalCurve.mean, [0.4, 0.6]);
  t.is(summaries[0].decisionsPerSec, 2e5, 'median over seeds');
  t.deepEqual([summaries[0].decisionsPerSecMin, summaries[0].decisionsPerSecMax], [1e5, 3e5]);
  const html = await buildReport(
    {
      name: 'x',
      seeds: [0, 1, 2],
      horizon: 100,
      environments: [{ name: 'lin', kind: 'linear', params: { k: 2, d: 3 } }],
    },
    summaries,
    pairwiseComparisons(cells),
  );
  for (const label of [long1, long2]) t.true(html.includes(`>${label}<`), `full label ${label}`);
  t.false(/alpha=…|…<\/text>/.test(html), 'no truncated legend label');
  t.regex(html, /Share of optimal choices over time — lin/);
  t.regex(
    html,
    /kind <code>linear<\/code>, parameters <code>\{&#34;k&#34;:2,&#34;d&#34;:3\}<\/code>/,
  );
  t.regex(html, /Which policy is better/);
  t.regex(html, /100k–300k/);
});
