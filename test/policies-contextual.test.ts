import test from 'ava';
import { inverse, Matrix } from 'ml-matrix';
import { LinTs } from '../policies/contextual/lints.js';
import type { LinUcb } from '../policies/contextual/linucb.js';
import { createPolicy } from '../policies/registry.js';
import { Rng } from '../policies/rng.js';

/** A synthetic linear contextual problem: reward = x·theta_k + N(0, noise^2). */
function linearProblem(seed: number, k: number, d: number) {
  const rng = new Rng(seed + 1000);
  const theta = Array.from({ length: k }, () => Array.from({ length: d }, () => rng.normal()));
  const mean = (x: number[], a: number) => x.reduce((s, xi, i) => s + xi * theta[a][i], 0);
  return {
    context: () => Array.from({ length: d }, () => rng.normal() / Math.sqrt(d)),
    mean,
    reward: (x: number[], a: number) => mean(x, a) + 0.1 * rng.normal(),
  };
}

function run(spec: string, seed: number, rounds: number) {
  const k = 5;
  const d = 6;
  const env = linearProblem(seed, k, d);
  const policy = createPolicy(spec, { k, d, seed });
  let firstHalfRegret = 0;
  let secondHalfRegret = 0;
  let lateOptimal = 0;
  // Regret of the rounds that played a likely-greedy arm (propensity > 1/2), which for
  // epsilon-greedy with epsilon < 1/2 separates learning from its fixed exploration cost.
  const greedyRegret = [0, 0];
  const late = rounds / 5;
  for (let r = 0; r < rounds; r++) {
    const x = env.context();
    const { arm, propensity } = policy.select(x);
    if (!(propensity > 0 && propensity <= 1)) throw new Error(`bad propensity ${propensity}`);
    let best = 0;
    for (let a = 1; a < k; a++) if (env.mean(x, a) > env.mean(x, best)) best = a;
    const regret = env.mean(x, best) - env.mean(x, arm);
    if (r < rounds / 2) firstHalfRegret += regret;
    else secondHalfRegret += regret;
    if (propensity > 0.5) greedyRegret[r < rounds / 2 ? 0 : 1] += regret;
    if (r >= rounds - late && arm === best) lateOptimal++;
    policy.update(arm, env.reward(x, arm), x);
  }
  return { firstHalfRegret, secondHalfRegret, greedyRegret, lateShare: lateOptimal / late };
}

const SEEDS = [1, 2, 3];
const ROUNDS = 3000;

for (const [spec, minShare, greedyOnly] of [
  ['linucb:alpha=1', 0.9, false],
  ['lints:v=0.2', 0.9, false],
  // Fixed epsilon = 0.05 keeps exploring at random (about 4% suboptimal picks), so its
  // total regret is linear by design; the regret of its greedy choices must still vanish.
  ['linegreedy:epsilon=0.05', 0.88, true],
] as const) {
  test(`${spec} converges on a linear contextual problem, regret flattening`, (t) => {
    let share = 0;
    let first = 0;
    let second = 0;
    for (const seed of SEEDS) {
      const r = run(spec, seed, ROUNDS);
      share += r.lateShare / SEEDS.length;
      first += greedyOnly ? r.greedyRegret[0] : r.firstHalfRegret;
      second += greedyOnly ? r.greedyRegret[1] : r.secondHalfRegret;
    }
    t.log(
      `late optimal share ${share.toFixed(3)}, regret halves ${first.toFixed(1)} / ${second.toFixed(1)}`,
    );
    t.true(share >= minShare, `late optimal share ${share}`);
    // Sublinear regret: the second half of the run costs far less than the first.
    t.true(second <= 0.2 * first, `regret halves ${first} then ${second}`);
  });
}

test('linear TS samples theta from N(theta_hat, v^2 A^-1)', (t) => {
  const d = 3;
  const v = 0.7;
  const lambda = 2;
  const policy = new LinTs({ k: 1, d, seed: 5, v, lambda, propensityDraws: 1 });
  const data = new Rng(9);
  let A = Matrix.eye(d, d).mul(lambda);
  const b = new Array<number>(d).fill(0);
  for (let n = 0; n < 15; n++) {
    const x = Array.from({ length: d }, () => data.normal());
    const r = data.normal();
    policy.update(0, r, x);
    A = A.add(Matrix.columnVector(x).mmul(Matrix.rowVector(x)));
    for (let i = 0; i < d; i++) b[i] += r * x[i];
  }
  const cov = inverse(A).mul(v * v);
  const thetaHat = inverse(A).mmul(Matrix.columnVector(b)).getColumn(0);
  const mean = policy.posteriorMean(0);
  for (let i = 0; i < d; i++) t.true(Math.abs(mean[i] - thetaHat[i]) < 1e-9);

  const n = 40000;
  const sum = new Float64Array(d);
  const sumSq = new Float64Array(d * d);
  const theta = new Float64Array(d);
  for (let s = 0; s < n; s++) {
    policy.sampleTheta(0, theta);
    for (let i = 0; i < d; i++) {
      const di = theta[i] - thetaHat[i];
      sum[i] += di;
      for (let j = 0; j < d; j++) sumSq[i * d + j] += di * (theta[j] - thetaHat[j]);
    }
  }
  for (let i = 0; i < d; i++) {
    // The sample mean has sd sqrt(cov_ii / n); allow 5 sd.
    t.true(Math.abs(sum[i] / n) < 5 * Math.sqrt(cov.get(i, i) / n), `mean[${i}]`);
    for (let j = 0; j < d; j++) {
      // The sample covariance about the true mean has sd sqrt((S_ii S_jj + S_ij^2) / n).
      const sij = cov.get(i, j);
      const sd = Math.sqrt((cov.get(i, i) * cov.get(j, j) + sij * sij) / n);
      t.true(Math.abs(sumSq[i * d + j] / n - sij) < 5 * sd, `cov[${i},${j}]`);
    }
  }
});

test('linear TS propensities match the frequencies of its choices', (t) => {
  const k = 4;
  const d = 3;
  const policy = createPolicy('lints:v=1,propensity_draws=32', { k, d, seed: 11 });
  const data = new Rng(4);
  for (let n = 0; n < 12; n++) {
    const x = Array.from({ length: d }, () => data.normal());
    policy.update(n % k, data.normal(), x);
  }
  const x = [0.4, -0.3, 0.8];
  const legal = [true, true, false, true];
  const draws = 6000;
  const count = new Float64Array(k);
  const propensitySum = new Float64Array(k);
  for (let s = 0; s < draws; s++) {
    const { arm, propensity } = policy.select(x, legal);
    count[arm]++;
    // E[1{arm=a} / p(a)] = 1 for every arm with positive probability, and each
    // P(arm = a) equals the mean of the reported propensity over the times a was chosen.
    propensitySum[arm] += propensity;
  }
  t.is(count[2], 0);
  for (const a of [0, 1, 3]) {
    const freq = count[a] / draws;
    const meanPropensity = count[a] ? propensitySum[a] / count[a] : 0;
    // Frequencies have sd <= 0.0065 at 6000 draws; the Monte Carlo estimate is averaged too.
    t.true(Math.abs(freq - meanPropensity) < 0.03, `arm ${a}: ${freq} vs ${meanPropensity}`);
  }
});

test('LinUCB select (which scores only arms whose bound can win) equals the argmax of every score', (t) => {
  const rng = new Rng(17);
  for (const alpha of [0, 0.3, 1, 4]) {
    const k = 7;
    const d = 5;
    const p = createPolicy(`linucb:alpha=${alpha},lambda=1`, { k, d, seed: 1 }) as LinUcb;
    const theta = Array.from({ length: k }, () => Array.from({ length: d }, () => rng.normal()));
    for (let round = 0; round < 3000; round++) {
      const x = Array.from({ length: d }, () => rng.normal() / Math.sqrt(d));
      const legal =
        round % 3 === 0 ? Array.from({ length: k }, (_, a) => (a + round) % 4 !== 0) : undefined;
      const scores = Array.from(p.scoresFor(x));
      let want = -1;
      for (let a = 0; a < k; a++) {
        if (legal && !legal[a]) continue;
        if (want < 0 || scores[a] > scores[want]) want = a;
      }
      const { arm } = p.select(x, legal);
      if (arm !== want) {
        t.fail(`alpha ${alpha}, round ${round}: select chose ${arm}, the argmax is ${want}`);
        return;
      }
      const mean = x.reduce((s, v, i) => s + v * theta[arm][i], 0);
      p.update(arm, mean + 0.1 * rng.normal(), x);
    }
  }
  // Ties (a fresh policy: every arm scores the same) go to the lowest legal index.
  const fresh = createPolicy('linucb', { k: 4, d: 2, seed: 1 });
  t.is(fresh.select([0.5, 0.5]).arm, 0);
  t.is(fresh.select([0.5, 0.5], [0, 0, 1, 1]).arm, 2);
  t.pass();
});
