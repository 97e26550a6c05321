/**
 * Pairwise comparison of policies across seeds, per environment: which policy is better,
 * and with what confidence.
 *
 * Within an environment, cells with the same seed face the same environment draw (the
 * environment's seed derives from the cell's seed alone), so the final regrets of two
 * policies are paired by seed. For every pair of policies run on at least two common
 * seeds: a paired two-sided t-test of the differences in final regret (experiments/stats.ts),
 * with a 95% interval of the mean difference, and Holm's correction over all pairs of that
 * environment, so that the chance of any false "better" in an environment stays below 5%.
 * A policy is called better when its regret is lower and the Holm-adjusted p-value is
 * below 0.05.
 *
 * When every seed gives the same difference (identical replays: deterministic policies on
 * a problem folder with fixed draws), the seeds are one observation repeated: the
 * difference is reported as exact for that problem, and no confidence is claimed.
 */
import type { CellResult } from './cell.js';
import { holm, pairedTTest } from './stats.js';
import type { PairedTest } from './stats.js';

export const COMPARISON_LEVEL = 0.05;

export interface Comparison {
  env: string;
  a: string;
  b: string;
  /** Seeds both policies ran on. */
  seeds: number[];
  /** Paired test of final regret a - b (negative: a has lower regret). */
  test: PairedTest;
  /** Holm-adjusted p-value within the environment. */
  pHolm: number;
  /** Every seed gave the same difference: the runs are identical replays. */
  deterministic: boolean;
  /** The policy with significantly lower regret (Holm, 5%), or null. */
  better: string | null;
  /** One line for people. */
  verdict: string;
}

function describe(c: Omit<Comparison, 'verdict'>): string {
  const t = c.test;
  const diff = Math.abs(t.mean).toFixed(2);
  if (c.deterministic) {
    if (t.mean === 0) return `identical in every seed (the runs are identical replays)`;
    const low = t.mean < 0 ? c.a : c.b;
    return `${low} has ${diff} less regret in every seed, by the same amount: identical replays of one problem, so no confidence across seeds`;
  }
  if (c.better !== null) {
    const other = c.better === c.a ? c.b : c.a;
    const wins = c.better === c.a ? t.less : t.greater;
    return `${c.better} is better than ${other}: ${diff} less final regret on average (lower in ${wins} of ${t.n} seeds), Holm-adjusted p = ${fmtP(c.pHolm)}`;
  }
  return `no significant difference at 5% after Holm's correction (p = ${fmtP(t.p)}, adjusted ${fmtP(c.pHolm)})`;
}

export function fmtP(p: number): string {
  if (p === 0) return '0';
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

/** Every pairwise comparison, grouped by environment in first-seen order. */
export function pairwiseComparisons(cells: CellResult[]): Comparison[] {
  const envs = [...new Set(cells.map((c) => c.env))];
  const out: Comparison[] = [];
  for (const env of envs) {
    const inEnv = cells.filter((c) => c.env === env);
    const policies = [...new Set(inEnv.map((c) => c.policy))];
    const regret = new Map<string, Map<number, number>>();
    for (const c of inEnv) {
      const m = regret.get(c.policy) ?? new Map<number, number>();
      m.set(c.seed, c.finalRegret);
      regret.set(c.policy, m);
    }
    const family: Omit<Comparison, 'pHolm' | 'better' | 'verdict'>[] = [];
    for (let i = 0; i < policies.length; i++) {
      for (let j = i + 1; j < policies.length; j++) {
        const ra = regret.get(policies[i])!;
        const rb = regret.get(policies[j])!;
        const seeds = [...ra.keys()].filter((s) => rb.has(s)).sort((x, y) => x - y);
        if (seeds.length < 2) continue;
        const test = pairedTTest(
          seeds.map((s) => ra.get(s)!),
          seeds.map((s) => rb.get(s)!),
        );
        family.push({
          env,
          a: policies[i],
          b: policies[j],
          seeds,
          test,
          deterministic: test.sd === 0,
        });
      }
    }
    const adjusted = holm(family.map((f) => f.test.p));
    family.forEach((f, i) => {
      const pHolm = adjusted[i];
      const better =
        !f.deterministic && pHolm < COMPARISON_LEVEL ? (f.test.mean < 0 ? f.a : f.b) : null;
      const c = { ...f, pHolm, better };
      out.push({ ...c, verdict: describe(c) });
    });
  }
  return out;
}

/** The comparisons as a terminal table, one block per environment. */
export function comparisonTable(comparisons: Comparison[]): string {
  if (comparisons.length === 0) return '';
  const rows = comparisons.map((c) => [
    c.env,
    `${c.a}  vs  ${c.b}`,
    `${c.test.mean.toFixed(2)} [${c.test.lo.toFixed(2)}, ${c.test.hi.toFixed(2)}]`,
    c.deterministic ? '-' : fmtP(c.test.p),
    c.deterministic ? '-' : fmtP(c.pHolm),
    c.better ?? (c.deterministic ? 'identical replays' : 'no difference'),
  ]);
  const header = ['env', 'pair (a vs b)', 'regret a − b [95% CI]', 'p', 'p (Holm)', 'better'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
