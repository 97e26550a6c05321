/**
 * How LinUCB keeps A_k^-1: Sherman-Morrison rank-one updates on flat Float64Array (what
 * policies/contextual/linucb.ts does) against re-inverting A_k with ml-matrix after each
 * update (scoring with ml-matrix products, or with flat loops over copies of A^-1 to isolate
 * the cost of inverting). Same problem, d = 10, K = 10; each row also reports how many
 * decisions agree with the Sherman-Morrison one.
 */
import { inverse, Matrix } from 'ml-matrix';
import { LinUcb } from '../policies/contextual/linucb.js';
import { Rng } from '../policies/rng.js';
import type { BenchModule, BenchOptions, Row } from './types.js';

const K = 10;
const D = 10;
const POOL = 4096;

/** LinUCB written with ml-matrix: A kept, inverted with inverse() after every update. */
class MlMatrixLinUcb {
  private readonly a: Matrix[] = [];
  private readonly ainv: Matrix[] = [];
  private readonly b: Matrix[] = [];
  private readonly theta: Matrix[] = [];

  /** A^-1 and theta copied to flat arrays after each update (flat-scoring variant). */
  private readonly flatAinv = new Float64Array(K * D * D);
  private readonly flatTheta = new Float64Array(K * D);

  constructor(
    private readonly alpha: number,
    private readonly flatScoring: boolean,
  ) {
    for (let k = 0; k < K; k++)
      for (let i = 0; i < D; i++) this.flatAinv[k * D * D + i * D + i] = 1;
    for (let k = 0; k < K; k++) {
      this.a.push(Matrix.eye(D, D));
      this.ainv.push(Matrix.eye(D, D));
      this.b.push(Matrix.zeros(D, 1));
      this.theta.push(Matrix.zeros(D, 1));
    }
  }

  select(x: Float64Array): number {
    if (this.flatScoring) return this.selectFlat(x);
    const xc = Matrix.columnVector(Array.from(x));
    let best = -1;
    let bestScore = -Infinity;
    for (let k = 0; k < K; k++) {
      const mean = xc.transpose().mmul(this.theta[k]).get(0, 0);
      const q = xc.transpose().mmul(this.ainv[k]).mmul(xc).get(0, 0);
      const score = mean + this.alpha * Math.sqrt(Math.max(q, 0));
      if (best < 0 || score > bestScore) {
        best = k;
        bestScore = score;
      }
    }
    return best;
  }

  private selectFlat(x: Float64Array): number {
    let best = -1;
    let bestScore = -Infinity;
    for (let k = 0; k < K; k++) {
      let mean = 0;
      let q = 0;
      for (let i = 0; i < D; i++) {
        mean += x[i] * this.flatTheta[k * D + i];
        let r = 0;
        for (let j = 0; j < D; j++) r += this.flatAinv[k * D * D + i * D + j] * x[j];
        q += x[i] * r;
      }
      const score = mean + this.alpha * Math.sqrt(Math.max(q, 0));
      if (best < 0 || score > bestScore) {
        best = k;
        bestScore = score;
      }
    }
    return best;
  }

  update(arm: number, reward: number, x: Float64Array): void {
    const xc = Matrix.columnVector(Array.from(x));
    this.a[arm].add(xc.mmul(xc.transpose()));
    this.b[arm].add(Matrix.mul(xc, reward));
    this.ainv[arm] = inverse(this.a[arm]);
    this.theta[arm] = this.ainv[arm].mmul(this.b[arm]);
    if (this.flatScoring) {
      this.flatAinv.set(this.ainv[arm].to1DArray(), arm * D * D);
      this.flatTheta.set(this.theta[arm].to1DArray(), arm * D);
    }
  }
}

function pool(): { contexts: Float64Array[]; rewards: Float64Array } {
  const rng = new Rng(77);
  const theta = Array.from({ length: K * D }, () => rng.normal());
  const contexts: Float64Array[] = [];
  const rewards = new Float64Array(POOL * K);
  for (let i = 0; i < POOL; i++) {
    const x = new Float64Array(D);
    for (let j = 0; j < D; j++) x[j] = rng.normal() / Math.sqrt(D);
    contexts.push(x);
    for (let a = 0; a < K; a++) {
      let m = 0;
      for (let j = 0; j < D; j++) m += x[j] * theta[a * D + j];
      rewards[i * K + a] = m + 0.1 * rng.normal();
    }
  }
  return { contexts, rewards };
}

type Step = (i: number) => number;

function timed(step: Step, seconds: number): number {
  for (let i = 0; i < 2000; i++) step(i);
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    for (let j = 0; j < 500; j++) step(n++);
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return n / elapsed;
}

function makeSteps(): { flat: Step; ml: Step; mlFlat: Step } {
  const { contexts, rewards } = pool();
  const flat = new LinUcb({ k: K, d: D, seed: 0, alpha: 1, lambda: 1 });
  const ml = new MlMatrixLinUcb(1, false);
  const mlFlat = new MlMatrixLinUcb(1, true);
  return {
    flat: (i) => {
      const x = contexts[i & (POOL - 1)];
      const { arm } = flat.select(x);
      flat.update(arm, rewards[(i & (POOL - 1)) * K + arm], x);
      return arm;
    },
    ml: (i) => {
      const x = contexts[i & (POOL - 1)];
      const arm = ml.select(x);
      ml.update(arm, rewards[(i & (POOL - 1)) * K + arm], x);
      return arm;
    },
    mlFlat: (i) => {
      const x = contexts[i & (POOL - 1)];
      const arm = mlFlat.select(x);
      mlFlat.update(arm, rewards[(i & (POOL - 1)) * K + arm], x);
      return arm;
    },
  };
}

/** Decisions on which each implementation agrees with Sherman-Morrison over n rounds. */
function agreement(n: number): Record<string, number> {
  const { flat, ml, mlFlat } = makeSteps();
  let same = 0;
  let sameFlat = 0;
  for (let i = 0; i < n; i++) {
    const a = flat(i);
    if (ml(i) === a) same++;
    if (mlFlat(i) === a) sameFlat++;
  }
  return { [CASES[0]]: 1, [CASES[1]]: same / n, [CASES[2]]: sameFlat / n };
}

const CASES = ['sherman-morrison-flat', 'ml-matrix-inverse', 'ml-matrix-inverse-flat-scoring'];

export const linucbInverseBench: BenchModule = {
  name: 'linucb-inverse',
  description: `LinUCB A^-1 maintenance: Sherman-Morrison on Float64Array vs ml-matrix inverse(), d=${D}, K=${K}`,
  cases: () => CASES,
  run: (cases, opts: BenchOptions): Row[] => {
    const agree = agreement(5000);
    return cases.map((name) => {
      const steps = makeSteps();
      const step = name === CASES[0] ? steps.flat : name === CASES[1] ? steps.ml : steps.mlFlat;
      const perSecond = timed(step, opts.seconds);
      return {
        implementation: name,
        'decisions/s': Math.round(perSecond),
        'ns/decision': Math.round(1e9 / perSecond),
        'same arm as Sherman-Morrison (5000 rounds)': `${(agree[name] * 100).toFixed(1)}%`,
      };
    });
  },
};
