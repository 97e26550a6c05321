/**
 * After an abrupt change, discounted and sliding-window UCB recover; plain UCB1 does not.
 *
 * Three Bernoulli arms: means 0.9, 0.5, 0.4 for 2000 rounds, then 0.3, 0.5, 0.4 (the old
 * best arm collapses, arm 1 becomes best by a gap of 0.1). UCB1's estimate of arm 0 sits on
 * 2000 pulls near 0.9 and takes thousands of rounds to fall below 0.5. Share of best-arm
 * pulls over rounds 2500..4000, averaged over three seeds. Over 20 seeds: UCB1 0.14..0.33,
 * D-UCB 0.47..0.60, SW-UCB 0.65..0.86.
 */
import test from 'ava';
import { createPolicy } from '../policies/registry.js';
import { bernoulliArms, bestArmShare, runBandit } from './helpers/bandit-sim.js';

const ENV = bernoulliArms([0.9, 0.5, 0.4], [{ at: 2000, means: [0.3, 0.5, 0.4] }]);
const T = 4000;
const SEEDS = [1, 2, 3];

function shares(spec: string): { before: number; after: number } {
  let before = 0;
  let after = 0;
  for (const seed of SEEDS) {
    const run = runBandit(createPolicy(spec, { k: 3, d: 0, seed }), ENV, {
      rounds: T,
      seed: 500 + seed,
    });
    before += bestArmShare(run, 1000, 2000) / SEEDS.length;
    after += bestArmShare(run, 2500, T) / SEEDS.length;
  }
  return { before, after };
}

test('ducb and swucb recover after a change point, ucb1 does not', (t) => {
  const ucb1 = shares('ucb1');
  const ducb = shares('ducb');
  const swucb = shares('swucb');
  t.log({ ucb1, ducb, swucb });
  // every policy had found the first best arm before the change
  t.true(ucb1.before > 0.9 && ducb.before > 0.7 && swucb.before > 0.85);
  t.true(ucb1.after < 0.35, `ucb1 share after the change ${ucb1.after}`);
  t.true(ducb.after > 0.4, `ducb share after the change ${ducb.after}`);
  t.true(swucb.after > 0.55, `swucb share after the change ${swucb.after}`);
  t.true(ducb.after > ucb1.after + 0.15 && swucb.after > ucb1.after + 0.25);
});
