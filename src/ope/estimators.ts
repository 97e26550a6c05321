/**
 * Off-policy value estimators on per-decision terms, each with a 95% confidence interval
 * from the normal approximation with the empirical variance of the per-decision terms
 * (mean ± 1.96·sd/sqrt(n)). The terms are bounded whenever propensities are bounded
 * away from 0, and for a learning candidate they form a martingale difference sequence
 * around the target, so the (martingale) central limit theorem applies; it costs one
 * pass, where a bootstrap would cost hundreds and assume independent decisions anyway.
 *
 * Inputs per decision i: logged reward r, logged propensity p, match m = 1 when the
 * candidate chose the logged arm, the reward model's prediction for the logged arm qL
 * and for the candidate's arm qC.
 */
export const Z95 = 1.959963984540054;

export interface Estimate {
  value: number;
  lo: number;
  hi: number;
  /** Standard error. */
  se: number;
  n: number;
}

export interface OpeTerms {
  reward: Float64Array;
  propensity: Float64Array;
  match: Float64Array;
  qLogged: Float64Array;
  qCandidate: Float64Array;
}

/** Mean and normal 95% interval of a series of per-decision terms. */
export function meanInterval(terms: ArrayLike<number>): Estimate {
  const n = terms.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += terms[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (terms[i] - mean) ** 2;
  const se = n > 1 ? Math.sqrt(ss / (n - 1) / n) : Infinity;
  return { value: mean, lo: mean - Z95 * se, hi: mean + Z95 * se, se, n };
}

/** Inverse propensity scoring: mean of m·r/p. */
export function ipsTerms(x: OpeTerms): Float64Array {
  return x.reward.map((r, i) => (x.match[i] * r) / x.propensity[i]);
}

/** Doubly robust: qC + m·(r − qL)/p (Dudík, Langford and Li 2011). */
export function drTerms(x: OpeTerms): Float64Array {
  return x.reward.map(
    (r, i) => x.qCandidate[i] + (x.match[i] * (r - x.qLogged[i])) / x.propensity[i],
  );
}

export function ips(x: OpeTerms): Estimate {
  return meanInterval(ipsTerms(x));
}

/**
 * Self-normalised IPS: Σ w r / Σ w with w = m/p. Interval by the delta method: the
 * standard error is sd(w·(r − V)) / (mean(w)·sqrt(n)).
 */
export function snips(x: OpeTerms): Estimate {
  const n = x.reward.length;
  let sw = 0;
  let swr = 0;
  for (let i = 0; i < n; i++) {
    const w = x.match[i] / x.propensity[i];
    sw += w;
    swr += w * x.reward[i];
  }
  if (sw === 0) return { value: NaN, lo: -Infinity, hi: Infinity, se: Infinity, n };
  const value = swr / sw;
  const meanW = sw / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const w = x.match[i] / x.propensity[i];
    ss += (w * (x.reward[i] - value)) ** 2;
  }
  const se = n > 1 ? Math.sqrt(ss / (n - 1) / n) / meanW : Infinity;
  return { value, lo: value - Z95 * se, hi: value + Z95 * se, se, n };
}

export function dr(x: OpeTerms): Estimate {
  return meanInterval(drTerms(x));
}
