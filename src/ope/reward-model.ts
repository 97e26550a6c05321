/**
 * The reward model of the doubly robust estimator: per-arm ridge regression of the
 * reward on [1, context] (lambda = 1, intercept unpenalised would matter little here,
 * so it is penalised like the rest for numerical safety).
 *
 * Cross-fitting: the log is split into two folds by position (even / odd decisions, so
 * that drift over time affects both alike); each fold is predicted by the model fitted
 * on the other fold only. A decision's own reward therefore never enters its own
 * prediction, which keeps the DR correction term unbiased without a separate data set.
 */
import { Matrix, solve } from 'ml-matrix';
import type { LoggedDecision } from './data.js';

export class RidgeRewardModel {
  /** weights[a]: coefficients of [1, x] for arm a. */
  private readonly weights: Float64Array[];

  constructor(
    readonly k: number,
    readonly d: number,
    rows: LoggedDecision[],
    lambda = 1,
  ) {
    const p = d + 1;
    const A = Array.from({ length: k }, () => Matrix.eye(p, p).mul(lambda));
    const b = Array.from({ length: k }, () => new Float64Array(p));
    const z = new Float64Array(p);
    for (const row of rows) {
      z[0] = 1;
      for (let i = 0; i < d; i++) z[i + 1] = row.context[i];
      const Aa = A[row.arm];
      const ba = b[row.arm];
      for (let i = 0; i < p; i++) {
        ba[i] += row.reward * z[i];
        for (let j = 0; j < p; j++) Aa.set(i, j, Aa.get(i, j) + z[i] * z[j]);
      }
    }
    this.weights = A.map((Aa, a) =>
      Float64Array.from(solve(Aa, Matrix.columnVector(Array.from(b[a]))).getColumn(0)),
    );
  }

  predict(context: ArrayLike<number>, arm: number): number {
    const w = this.weights[arm];
    let s = w[0];
    for (let i = 0; i < this.d; i++) s += w[i + 1] * context[i];
    return s;
  }
}

/** models[i % 2] predicts decision i: fitted on the other fold. */
export function crossFittedModels(
  k: number,
  d: number,
  rows: LoggedDecision[],
): [RidgeRewardModel, RidgeRewardModel] {
  const even = rows.filter((_, i) => i % 2 === 0);
  const odd = rows.filter((_, i) => i % 2 === 1);
  return [new RidgeRewardModel(k, d, odd), new RidgeRewardModel(k, d, even)];
}
