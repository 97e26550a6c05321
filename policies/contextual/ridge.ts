/**
 * Per-arm ridge regression state shared by LinUCB and linear epsilon-greedy (disjoint
 * model, no intercept): A_k = lambda I + sum x x^T is kept as its inverse, updated by
 * Sherman-Morrison; b_k = sum r x; theta_k = A_k^-1 b_k. All arms live in flat blocks.
 */
import { fromPlain, setScaledIdentity, shermanMorrisonAt, toPlain } from '../linalg.js';

export interface RidgeState {
  ainv: number[];
  b: number[];
  counts: number[];
}

export class RidgeArms {
  /** K blocks of d x d: A_k^-1. */
  readonly ainv: Float64Array;
  /** K blocks of d: b_k. */
  readonly b: Float64Array;
  /** K blocks of d: theta_k = A_k^-1 b_k, refreshed on every update of arm k. */
  readonly theta: Float64Array;
  /** Number of updates per arm. */
  readonly counts: Float64Array;
  /**
   * With `bounds`: per arm, sqrt of the Frobenius norm of the symmetric matrix S_k that the
   * upper triangle of A_k^-1 defines (the one quadForm() reads), so that
   * sqrt(x^T S_k x) <= bonusScale[k] ||x||: a cheap upper bound on LinUCB's bonus.
   */
  readonly bonusScale: Float64Array;
  private readonly scratch: Float64Array;

  constructor(
    readonly k: number,
    readonly d: number,
    readonly lambda: number,
    readonly bounds = false,
  ) {
    this.ainv = new Float64Array(k * d * d);
    this.b = new Float64Array(k * d);
    this.theta = new Float64Array(k * d);
    this.counts = new Float64Array(k);
    this.bonusScale = new Float64Array(bounds ? k : 0);
    this.scratch = new Float64Array(d);
    for (let a = 0; a < k; a++) {
      setScaledIdentity(this.ainv, a * d * d, d, 1 / lambda);
      if (bounds) this.refreshBonusScale(a);
    }
  }

  /** bonusScale[k] from the upper triangle of A_k^-1 (O(d^2 / 2)). */
  private refreshBonusScale(arm: number): void {
    const d = this.d;
    const off = arm * d * d;
    const m = this.ainv;
    let diag = 0;
    let upper = 0;
    for (let i = 0; i < d; i++) {
      const row = off + i * d;
      diag += m[row + i] * m[row + i];
      for (let j = i + 1; j < d; j++) upper += m[row + j] * m[row + j];
    }
    this.bonusScale[arm] = Math.sqrt(Math.sqrt(diag + 2 * upper));
  }

  /** x · theta_k. */
  mean(arm: number, x: ArrayLike<number>): number {
    const d = this.d;
    const off = arm * d;
    let s = 0;
    for (let i = 0; i < d; i++) s += x[i] * this.theta[off + i];
    return s;
  }

  /**
   * x^T A_k^-1 x from the upper triangle (A_k^-1 is symmetric): sum_i a_ii x_i^2 +
   * 2 sum_{i<j} a_ij x_i x_j, about half the work of the full product.
   */
  quadForm(arm: number, x: ArrayLike<number>): number {
    const d = this.d;
    const off = arm * d * d;
    const m = this.ainv;
    let diag = 0;
    let cross = 0;
    for (let i = 0; i < d; i++) {
      const row = off + i * d;
      const xi = x[i];
      diag += m[row + i] * xi * xi;
      let r = 0;
      for (let j = i + 1; j < d; j++) r += m[row + j] * x[j];
      cross += xi * r;
    }
    return diag + 2 * cross;
  }

  /**
   * Adds (x, reward) to arm k. With u = A_k^-1 x and q = x^T u (computed by the
   * Sherman-Morrison step), theta_k moves by u (reward - x.theta_k) / (1 + q), the
   * recursive-least-squares form of A_new^-1 (b + reward x): O(d) instead of recomputing
   * A_k^-1 b_k in O(d^2).
   */
  update(arm: number, x: ArrayLike<number>, reward: number): void {
    const d = this.d;
    const boff = arm * d;
    const err = reward - this.mean(arm, x);
    for (let i = 0; i < d; i++) this.b[boff + i] += reward * x[i];
    const u = this.scratch;
    const denom = shermanMorrisonAt(this.ainv, arm * d * d, d, x, u);
    const step = err / denom;
    for (let i = 0; i < d; i++) this.theta[boff + i] += step * u[i];
    this.counts[arm]++;
    if (this.bounds) this.refreshBonusScale(arm);
  }

  /** theta_k = A_k^-1 b_k, written in place (no temporary views on the hot path). */
  private refreshTheta(arm: number): void {
    const d = this.d;
    const m = this.ainv;
    const off = arm * d * d;
    const boff = arm * d;
    for (let i = 0; i < d; i++) {
      const row = off + i * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += m[row + j] * this.b[boff + j];
      this.theta[boff + i] = s;
    }
  }

  state(): RidgeState {
    return { ainv: toPlain(this.ainv), b: toPlain(this.b), counts: toPlain(this.counts) };
  }

  static fromState(
    k: number,
    d: number,
    lambda: number,
    state: Record<string, unknown>,
    bounds = false,
  ): RidgeArms {
    const r = new RidgeArms(k, d, lambda, bounds);
    r.ainv.set(fromPlain(state.ainv, k * d * d, 'ainv'));
    r.b.set(fromPlain(state.b, k * d, 'b'));
    r.counts.set(fromPlain(state.counts, k, 'counts'));
    for (let a = 0; a < k; a++) {
      r.refreshTheta(a);
      if (bounds) r.refreshBonusScale(a);
    }
    return r;
  }
}
