/**
 * Statistics of the experiment report: the paired t-test across seeds and Holm's
 * step-down correction for the family of pairwise comparisons. The t distribution comes
 * from jStat (one dependency-free file, pinned in package.json); the test and Holm's
 * procedure are a few lines each on top of it.
 */
import jStat from 'jstat';

export interface PairedTest {
  /** Number of pairs (seeds). */
  n: number;
  /** Mean of the differences a - b. */
  mean: number;
  /** Standard deviation of the differences (n - 1 in the denominator). */
  sd: number;
  /** 95% confidence interval of the mean difference (t with n - 1 degrees of freedom). */
  lo: number;
  hi: number;
  /** t statistic (+-Infinity when every difference is the same non-zero value). */
  t: number;
  /** Two-sided p-value of H0: mean difference = 0 (1 when every difference is 0). */
  p: number;
  /** Pairs with a > b, a < b, a = b. */
  greater: number;
  less: number;
  ties: number;
}

export function tQuantile(p: number, dof: number): number {
  return jStat.studentt.inv(p, dof);
}

export function tCdf(x: number, dof: number): number {
  return jStat.studentt.cdf(x, dof);
}

/** Paired two-sided t-test of a[i] - b[i]; needs at least two pairs. */
export function pairedTTest(a: readonly number[], b: readonly number[]): PairedTest {
  if (a.length !== b.length) throw new RangeError('paired test: the samples differ in length');
  const n = a.length;
  if (n < 2) throw new RangeError('paired test: needs at least two pairs');
  const diff = a.map((x, i) => x - b[i]);
  const mean = diff.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(diff.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const greater = diff.filter((x) => x > 0).length;
  const less = diff.filter((x) => x < 0).length;
  const ties = n - greater - less;
  const se = sd / Math.sqrt(n);
  if (se === 0) {
    // Every difference equal: identical runs (a deterministic policy on fixed draws).
    const t = mean === 0 ? 0 : mean > 0 ? Infinity : -Infinity;
    return { n, mean, sd, lo: mean, hi: mean, t, p: mean === 0 ? 1 : 0, greater, less, ties };
  }
  const t = mean / se;
  const half = tQuantile(0.975, n - 1) * se;
  const p = Math.min(1, 2 * (1 - tCdf(Math.abs(t), n - 1)));
  return { n, mean, sd, lo: mean - half, hi: mean + half, t, p, greater, less, ties };
}

/**
 * Holm's step-down adjustment: sort the m p-values ascending, multiply the i-th smallest
 * (0-based) by m - i, carry the running maximum, cap at 1. Controls the family-wise error
 * rate at any level without assumptions about the dependence between tests.
 */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}
