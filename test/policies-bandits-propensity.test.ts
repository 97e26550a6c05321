/**
 * Legal-arm masks and propensities of the bandit policies.
 *
 * With the learned state frozen (select() alone does not learn), repeated decisions are
 * independent draws from one distribution, so the empirical choice frequencies must match
 * the reported propensities: within 4.5 standard errors sqrt(p (1 - p) / n) + 0.002.
 */
import test from 'ava';
import { BANDIT_POLICIES } from '../policies/catalog.js';
import { createPolicy } from '../policies/registry.js';
import type { LegalMask, Policy } from '../policies/types.js';
import { sampleBeta } from '../policies/bandits/beta-sampler.js';
import { Rng } from '../policies/rng.js';
import { bernoulliArms, runBandit } from './helpers/bandit-sim.js';

const K = 4;
const MEANS = [0.3, 0.5, 0.6, 0.45];

function trained(spec: string, rounds = 150): Policy {
  const p = createPolicy(spec, { k: K, d: 0, seed: 9 });
  runBandit(p, bernoulliArms(MEANS), { rounds, seed: 4 });
  return p;
}

/** Frequencies of each arm over n frozen decisions, and the mean reported propensity. */
function frequencies(policy: Policy, mask: LegalMask | undefined, n: number) {
  const count = new Float64Array(K);
  const propSum = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const { arm, propensity } = policy.select(undefined, mask);
    count[arm]++;
    propSum[arm] += propensity;
  }
  return Array.from(count, (c, arm) => ({
    freq: c / n,
    propensity: c > 0 ? propSum[arm] / c : 0,
  }));
}

const MASKS: Array<LegalMask | undefined> = [undefined, [true, false, true, true], [1, 1, 0, 0]];

for (const spec of [
  'egreedy:epsilon=0.3',
  'egreedy-decay:c=0.05',
  'softmax:tau=0.1',
  'exp3:gamma=0.3',
]) {
  test(`${spec}: propensities are the exact choice probabilities, over legal arms only`, (t) => {
    const policy = trained(spec);
    const n = 20000;
    for (const mask of MASKS) {
      const rows = frequencies(policy, mask, n);
      let mass = 0;
      rows.forEach(({ freq, propensity }, arm) => {
        if (mask !== undefined && !mask[arm]) {
          t.is(freq, 0, `illegal arm ${arm} was chosen`);
          return;
        }
        if (freq === 0) return;
        t.true(propensity > 0 && propensity <= 1);
        mass += propensity;
        const se = Math.sqrt((propensity * (1 - propensity)) / n);
        t.true(
          Math.abs(freq - propensity) <= 4.5 * se + 0.002,
          `arm ${arm}: frequency ${freq} vs propensity ${propensity} (mask ${JSON.stringify(mask)})`,
        );
      });
      t.true(mass <= 1 + 1e-9, 'the propensities of distinct arms cannot add up to more than 1');
    }
  });
}

test('ts and gaussian-ts: Monte Carlo propensities track the true choice frequencies', (t) => {
  for (const spec of ['ts:propensity_draws=200', 'gaussian-ts:propensity_draws=200,noise_sd=0.5']) {
    // only 30 rounds, so the posteriors still overlap and several arms have real mass
    const policy = trained(spec, 30);
    const n = 4000;
    for (const mask of [undefined, [true, true, false, true]]) {
      frequencies(policy, mask, n).forEach(({ freq, propensity }, arm) => {
        if (mask !== undefined && !mask[arm]) return t.is(freq, 0);
        if (freq === 0) return;
        t.true(propensity >= 1 / 200 && propensity <= 1);
        // the mean of n estimates from 200 draws each is close to the truth; the frequency
        // has standard error sqrt(p (1 - p) / n) <= 0.008
        t.true(Math.abs(freq - propensity) <= 0.04, `${spec} arm ${arm}: ${freq} vs ${propensity}`);
      });
    }
  }
});

test('thompson: a single legal arm has propensity 1; propensity_draws=0 reports NaN', (t) => {
  const policy = trained('ts:propensity_draws=50', 20);
  t.deepEqual(policy.select(undefined, [false, false, true, false]), { arm: 2, propensity: 1 });
  const unestimated = trained('ts:propensity_draws=0', 20);
  t.true(Number.isNaN(unestimated.select().propensity));
});

test('deterministic policies report propensity 1 and respect masks', (t) => {
  for (const kind of ['ucb1', 'klucb', 'ducb', 'swucb']) {
    const policy = trained(kind);
    for (const mask of MASKS) {
      for (let i = 0; i < 50; i++) {
        const d = policy.select(undefined, mask);
        t.is(d.propensity, 1);
        t.true(mask === undefined || Boolean(mask[d.arm]), `${kind} chose illegal arm ${d.arm}`);
      }
    }
  }
});

test('every policy plays only legal arms under changing masks and learns from them', (t) => {
  const rng = new Rng(77);
  for (const f of BANDIT_POLICIES) {
    const spec =
      f.kind === 'ts' || f.kind === 'gaussian-ts' ? `${f.kind}:propensity_draws=10` : f.kind;
    const policy = createPolicy(spec, { k: K, d: 0, seed: 1 });
    const run = runBandit(policy, bernoulliArms(MEANS), {
      rounds: 400,
      seed: 2,
      legal: (round) => (round % 2 === 0 ? [true, true, false, rng.uniform() < 0.5] : undefined),
    });
    for (let i = 0; i < 400; i++) {
      if (i % 2 === 0) t.not(run.actions[i], 2, `${f.kind} played illegal arm 2 at round ${i}`);
      const p = run.propensities[i];
      t.true(p > 0 && p <= 1, `${f.kind}: propensity ${p} at round ${i}`);
    }
  }
});

test('ties go to the lowest index', (t) => {
  for (const kind of ['ucb1', 'klucb', 'ducb', 'swucb', 'egreedy:epsilon=0']) {
    const p = createPolicy(kind, { k: 3, d: 0, seed: 1 });
    for (let arm = 0; arm < 3; arm++) p.update(arm, 0.5); // every arm once, same reward
    t.is(p.select().arm, 0, kind);
    t.is(p.select(undefined, [false, true, true]).arm, 1, kind);
  }
  const first = createPolicy('ucb1', { k: 4, d: 0, seed: 1 });
  const order = [];
  for (let i = 0; i < 4; i++) {
    const { arm } = first.select();
    order.push(arm);
    first.update(arm, 0);
  }
  t.deepEqual(order, [0, 1, 2, 3], 'UCB1 plays each arm once in index order');
});

test('sampleBeta: moments and distribution match Beta(a, b) on every code path', (t) => {
  const rng = new Rng(2024);
  const n = 40000;
  for (const [a, b] of [
    [1, 1],
    [1, 6],
    [4, 1],
    [0.5, 3],
    [2, 3],
    [30, 2.5],
    [150, 300],
  ]) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = sampleBeta(rng, a, b);
      t.true(x > 0 && x < 1);
      s += x;
      s2 += x * x;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    const trueMean = a / (a + b);
    const trueVar = (a * b) / ((a + b) ** 2 * (a + b + 1));
    t.true(Math.abs(mean - trueMean) <= 5 * Math.sqrt(trueVar / n), `Beta(${a},${b}) mean ${mean}`);
    t.true(Math.abs(variance / trueVar - 1) <= 0.05, `Beta(${a},${b}) variance ${variance}`);
  }
  // Kolmogorov-Smirnov against the closed-form CDF of Beta(2, 3): 6x^2 - 8x^3 + 3x^4.
  const xs = Float64Array.from({ length: n }, () => sampleBeta(rng, 2, 3)).sort();
  let ks = 0;
  xs.forEach((x, i) => {
    const cdf = 6 * x * x - 8 * x ** 3 + 3 * x ** 4;
    ks = Math.max(ks, Math.abs(cdf - i / n), Math.abs(cdf - (i + 1) / n));
  });
  t.true(
    ks < 1.95 / Math.sqrt(n),
    `KS distance ${ks} (0.1% critical value ${1.95 / Math.sqrt(n)})`,
  );
});
