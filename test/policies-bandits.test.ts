/**
 * Convergence and regret of the context-free bandit policies on seeded synthetic rewards.
 *
 * Problem: four Bernoulli arms with means 0.2, 0.5, 0.7, 0.4 (best arm 2, smallest gap 0.2),
 * T = 4000 rounds, each check averaged over three seeds. Margins were set from 20 seeds per
 * policy: the worst three-seed average is recorded next to each threshold. Fixed-rate
 * explorers (egreedy, softmax, exp3) have linear regret by design, so for them the check
 * is the known long-run regret rate rather than sublinear growth.
 */
import test from 'ava';
import { createPolicy } from '../policies/registry.js';
import {
  bernoulliArms,
  bestArmShare,
  gaussianArms,
  regretBetween,
  runBandit,
  type BanditEnvironment,
} from './helpers/bandit-sim.js';

const MEANS = [0.2, 0.5, 0.7, 0.4];
const T = 4000;
const SEEDS = [1, 2, 3];

/** Per-round regret of a fixed exploration rate x: x times the mean gap over all arms. */
const MEAN_GAP = MEANS.reduce((s, m) => s + (0.7 - m), 0) / MEANS.length;

/** Softmax at tau = 0.1 on MEANS: exact long-run choice probabilities and regret rate. */
const SOFTMAX_WEIGHTS = MEANS.map((m) => Math.exp(m / 0.1));
const SOFTMAX_RATE =
  MEANS.reduce((s, m, i) => s + (0.7 - m) * SOFTMAX_WEIGHTS[i], 0) /
  SOFTMAX_WEIGHTS.reduce((s, w) => s + w, 0);

type RegretCheck =
  /** regret over [T/2, T) below half of [0, T/2): logarithmic regret gives about
   * ln 2 / ln(T/2) ~ 0.09 plus the early transient. */
  | 'sublinear'
  /** The policy keeps exploring by design: its second-half regret per round must match
   * this long-run rate within 30%. */
  | { rate: number }
  /** Finite-memory policies pay a steady exploration cost: second-half regret per round
   * must stay below this (a uniformly random policy pays MEAN_GAP = 0.25). */
  | { below: number };

interface Case {
  spec: string;
  env?: BanditEnvironment;
  /** Minimum average share of best-arm pulls over the last quarter of the run. */
  minShare: number;
  regret: RegretCheck;
}

// Worst three-seed averages over 20 seeds are noted per case.
const CASES: Case[] = [
  // share 0.943, ratio 0.32
  { spec: 'ucb1', minShare: 0.85, regret: 'sublinear' },
  // share 0.993, ratio 0.27
  { spec: 'klucb', minShare: 0.9, regret: 'sublinear' },
  // greedy share is 1 - 0.1 + 0.1 / 4 = 0.925; worst 0.923
  { spec: 'egreedy:epsilon=0.1', minShare: 0.85, regret: { rate: 0.1 * MEAN_GAP } },
  // share 0.983, ratio 0.18
  { spec: 'egreedy-decay', minShare: 0.9, regret: 'sublinear' },
  // long-run best-arm probability 0.839 when the means are known; worst 0.837. Its regret
  // rate with estimated means varies more than a fixed rate (0.02 to 0.04 against a known-
  // means rate of 0.038), so it is bounded rather than matched.
  { spec: 'softmax:tau=0.1', minShare: 0.75, regret: { below: 1.5 * SOFTMAX_RATE } },
  // share 0.994, ratio 0.26
  { spec: 'ts', minShare: 0.9, regret: 'sublinear' },
  // share 0.989, ratio 0.24
  { spec: 'gaussian-ts:noise_sd=0.5', minShare: 0.9, regret: 'sublinear' },
  // long-run best-arm probability 1 - 0.1 + 0.1 / 4 = 0.925; worst 0.920
  { spec: 'exp3:gamma=0.1', minShare: 0.85, regret: { rate: 0.1 * MEAN_GAP } },
  // share 0.643, rate about 0.1
  { spec: 'ducb', minShare: 0.55, regret: { below: 0.6 * MEAN_GAP } },
  // share 0.797, rate about 0.045
  { spec: 'swucb', minShare: 0.7, regret: { below: 0.3 * MEAN_GAP } },
];

function runCase(c: Case) {
  const env = c.env ?? bernoulliArms(MEANS);
  let share = 0;
  let firstHalf = 0;
  let secondHalf = 0;
  for (const seed of SEEDS) {
    const policy = createPolicy(c.spec, { k: env.k, d: 0, seed });
    const run = runBandit(policy, env, { rounds: T, seed: 1000 + seed });
    share += bestArmShare(run, (3 * T) / 4, T) / SEEDS.length;
    firstHalf += regretBetween(run, 0, T / 2) / SEEDS.length;
    secondHalf += regretBetween(run, T / 2, T) / SEEDS.length;
  }
  return { share, firstHalf, secondHalf };
}

for (const c of CASES) {
  test(`${c.spec}: converges to the best arm with the expected regret growth`, (t) => {
    const r = runCase(c);
    t.true(r.share >= c.minShare, `best-arm share ${r.share.toFixed(3)} < ${c.minShare}`);
    const perRound = r.secondHalf / (T / 2);
    if (c.regret === 'sublinear') {
      t.true(
        r.secondHalf < 0.5 * r.firstHalf,
        `regret [T/2,T) = ${r.secondHalf.toFixed(1)} is not below half of [0,T/2) = ${r.firstHalf.toFixed(1)}`,
      );
    } else if ('rate' in c.regret) {
      const rate = c.regret.rate;
      t.true(
        Math.abs(perRound - rate) <= 0.3 * rate,
        `per-round regret ${perRound.toFixed(4)} vs long-run rate ${rate.toFixed(4)}`,
      );
    } else {
      t.true(perRound < c.regret.below, `per-round regret ${perRound.toFixed(4)}`);
    }
  });
}

test('Gaussian rewards: ucb1 also finds the best arm', (t) => {
  const r = runCase({
    spec: 'ucb1',
    env: gaussianArms(MEANS, 0.3),
    minShare: 0.85,
    regret: 'sublinear',
  });
  t.true(r.share >= 0.85, `share ${r.share}`);
});
