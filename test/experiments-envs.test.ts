import test from 'ava';
import { join } from 'node:path';
import { AdversarialEnv } from '../experiments/envs/adversarial.js';
import { BenchEnv } from '../experiments/envs/bench.js';
import { createEnv } from '../experiments/envs/registry.js';
import { BernoulliEnv, DriftEnv, GaussianEnv, LinearEnv } from '../experiments/envs/stochastic.js';
import type { BanditEnv } from '../experiments/envs/types.js';
import { rewardFrom } from '../src/loop/features.js';
import { profileFor } from '../src/loop/profiles.js';
import type { Feedback, MlpDevice } from '../src/transport/device.js';
import { benchDir } from './experiments-helpers.js';

function play(env: BanditEnv, seed: number, T: number, arm: (t: number) => number) {
  env.reset(seed);
  let reward = 0;
  let regret = 0;
  let vs = 0;
  const rewards: number[] = [];
  for (let t = 0; t < T; t++) {
    env.context(t);
    const r = env.step(arm(t));
    reward += r.reward;
    regret += r.regret;
    vs += r.vsBaseline;
    rewards.push(r.reward);
  }
  return { reward, regret, vs, rewards };
}

test('bernoulli: same seed gives the same rewards, the best arm has no regret', (t) => {
  const env = new BernoulliEnv({ probs: [0.2, 0.8, 0.5] });
  const a = play(env, 7, 2000, () => 1);
  const b = play(env, 7, 2000, () => 1);
  t.deepEqual(a.rewards, b.rewards);
  t.is(a.regret, 0);
  // mean reward of the 0.8 arm over 2000 pulls: sd = sqrt(.16/2000) ≈ 0.009, 5 sd margin
  t.true(Math.abs(a.reward / 2000 - 0.8) < 0.045, `mean ${a.reward / 2000}`);
  const worst = play(env, 7, 100, () => 0);
  t.true(Math.abs(worst.regret - 60) < 1e-9);
  t.true(Math.abs(worst.vs - 0) < 1e-9); // baseline arm is 0 by default
  const c = play(env, 8, 2000, () => 1);
  t.notDeepEqual(a.rewards, c.rewards);
});

test('bernoulli without probs draws K means per seed in [0.05, 0.95]', (t) => {
  const env = new BernoulliEnv({ k: 5 });
  env.reset(1);
  const best1 = env.bestExpected(0);
  env.reset(2);
  t.not(env.bestExpected(0), best1);
  t.true(best1 >= 0.05 && best1 <= 0.95);
});

test('gaussian: regret and gain over the baseline follow the means', (t) => {
  const env = new GaussianEnv({ means: [0, 1, 0.5], sd: 0.5, baselineArm: 2 });
  const r = play(env, 3, 1000, () => 2);
  t.true(Math.abs(r.regret - 500) < 1e-9);
  t.is(r.vs, 0);
  const best = play(env, 3, 1000, () => 1);
  t.true(Math.abs(best.vs - 500) < 1e-9);
  // mean 1, sd 0.5/sqrt(1000) ≈ 0.016; 5 sd margin
  t.true(Math.abs(best.reward / 1000 - 1) < 0.08);
});

test('linear: context is length d, the oracle arm has zero regret', (t) => {
  const env = new LinearEnv({ k: 4, d: 3, noiseSd: 0 });
  env.reset(5);
  let regret = 0;
  for (let s = 0; s < 200; s++) {
    const x = env.context(s);
    t.is(x.length, 3);
    // the oracle: the arm whose step would give zero regret is the one with the best mean
    const best = env.bestExpected(s);
    const r = env.step(0);
    regret += r.regret;
    t.true(r.regret >= 0);
    t.is(r.optimal, r.regret === 0);
    t.true(Math.abs(r.reward - (best - r.regret)) < 1e-12); // noise-free: reward = mean
  }
  t.true(regret > 0);
});

test('drift abrupt: means change exactly at multiples of the period', (t) => {
  const env = new DriftEnv({ k: 3, drift: 'abrupt', period: 10 });
  env.reset(1);
  const bests: number[] = [];
  for (let s = 0; s < 30; s++) {
    bests.push(env.bestExpected(s));
    env.step(0);
  }
  t.is(new Set(bests.slice(0, 10)).size, 1);
  t.is(new Set(bests.slice(10, 20)).size, 1);
  t.not(bests[9], bests[10]);
});

test('drift gradual: the best arm rotates through all arms over a period', (t) => {
  const env = new DriftEnv({ k: 4, drift: 'gradual', period: 400, amplitude: 0.4 });
  env.reset(1);
  const bestArms = new Set<number>();
  for (let s = 0; s < 400; s++) {
    const r = env.step(s % 4);
    if (r.optimal) bestArms.add(s % 4);
  }
  t.is(bestArms.size, 4);
  t.true(env.bestExpected(0) <= 0.9 + 1e-12);
});

test('adversarial adaptive: committing to one arm is punished, regret vs best fixed arm in hindsight', (t) => {
  const env = new AdversarialEnv({ k: 3, adversary: 'adaptive', high: 1, low: 0 });
  const commit = play(env, 1, 300, () => 0);
  // arm 0 is the most played from round 1 on: it pays 0 except round 0 where all arms tie
  // (ties punish arm 0 too); arms 1 and 2 pay 1 every round.
  t.is(commit.reward, 0);
  t.is(commit.regret, 300);
  const cycle = play(env, 1, 300, (s) => s % 3);
  // Cycling: the lowest-index arm among the most played is punished; arm s%3 is then
  // always among the least played, so it pays 1 except when all are tied and s%3 = 0.
  t.true(cycle.reward >= 200);
  t.true(cycle.regret <= 100);
});

test('adversarial switching: a fixed arm is good one period in k', (t) => {
  const env = new AdversarialEnv({ k: 2, adversary: 'switching', period: 50, high: 1, low: 0 });
  const r = play(env, 1, 200, () => 0);
  t.is(r.reward, 100);
  t.is(r.regret, 0); // both fixed arms collect 100: no regret against the best fixed arm
  const follow = play(env, 1, 200, (s) => Math.floor(s / 50) % 2);
  t.is(follow.reward, 200);
  t.is(follow.regret, -100); // beating every fixed arm gives negative regret
});

test('bench env replays the problem folder exactly', (t) => {
  const dir = join(benchDir, 'bernoulli-k8-s11');
  const env = new BenchEnv({ dir, baselineArm: 0 });
  t.is(env.k, 8);
  t.is(env.d, 0);
  t.is(env.rounds, 20000);
  const a = play(env, 1, 100, () => 5);
  const b = play(env, 99, 100, () => 5);
  t.deepEqual(a.rewards, b.rewards);
  t.is(a.regret, 0); // arm 5 has the highest prob
  const lin = createEnv({ kind: 'bench', params: { dir: join(benchDir, 'linear-d8-k6-s2026') } });
  t.is(lin.d, 8);
  t.is(lin.context(0)!.length, 8);
});

test('registry errors name the field and the fix', (t) => {
  const e1 = t.throws(() => createEnv({ kind: 'bernouli', params: {} }));
  t.regex(e1.message, /unknown environment kind "bernouli".*bernoulli/);
  const e2 = t.throws(() => createEnv({ kind: 'linear', params: { k: 3 } }));
  t.regex(e2.message, /missing required field "d"/);
  const e3 = t.throws(() =>
    createEnv({ kind: 'drift', params: { k: 3, drift: 'sudden', period: 5 } }),
  );
  t.regex(e3.message, /params\/drift: must be one of "abrupt", "gradual"/);
  const e4 = t.throws(() => createEnv({ kind: 'bernoulli', params: { k: 3, prob: [0.1] } }));
  t.regex(e4.message, /unknown field "prob"/);
  const e5 = t.throws(() => createEnv({ kind: 'bench', params: { dir: '/nonexistent' } }));
  // A missing path says what a problem folder is and where the shipped ones are.
  t.regex(
    e5.message,
    /problem folder \/nonexistent does not exist; a problem folder is a replayable bandit problem .*experiments\/problems\/linear-d8-k6-s2026/,
  );
  const e6 = t.throws(() => createEnv({ kind: 'bench', params: { dir: '/tmp' } }));
  t.regex(e6.message, /\/tmp is not a problem folder: .*meta\.json not found; a problem folder is/);
});

test('sim env: the simulated kernel subsystems as bandits, deterministic, legal arms within max_delta', (t) => {
  const ra = createEnv({ kind: 'sim', params: { subsystem: 'readahead' } });
  t.is(ra.k, 9); // ra_kb_log2 4..12
  t.is(ra.d, 15); // 14 features + bias
  t.is(ra.baselineArm, 3); // default 7
  ra.reset(1);
  // no max_delta: every setting is legal
  t.deepEqual(Array.from(ra.legal(0)!), [1, 1, 1, 1, 1, 1, 1, 1, 1]);
  t.is(ra.context(0)!.at(-1), 1);
  const syn = createEnv({ kind: 'sim', params: { subsystem: 'synthetic' } });
  t.is(syn.k, 16);
  const a = play(syn, 3, 60, (s) => (s * 5) % 13);
  const b = play(syn, 3, 60, (s) => (s * 5) % 13);
  t.deepEqual(a.rewards, b.rewards);
  t.true(a.rewards.every((r) => r >= 0 && r <= 1));
  const base = play(syn, 3, 60, () => syn.baselineArm);
  t.is(base.vs, 0);
  t.true(base.regret > 0); // level 4 is best only in phase 3
});

test("sim env pays the daemon's reward: rewardFrom(eff, baselineEff) of the feedback record in the profile's shape", (t) => {
  for (const subsystem of ['synthetic', 'readahead']) {
    const env = createEnv({ kind: 'sim', params: { subsystem } });
    env.reset(5);
    // The records the environment reads, seen through its device (a private field).
    const dev = (env as unknown as { device: MlpDevice }).device;
    const seen: Feedback[] = [];
    const read = dev.readFeedback.bind(dev);
    dev.readFeedback = () => {
      const records = read();
      seen.push(...records);
      return records;
    };
    let base = 0;
    let plays = 0;
    for (let i = 0; i < 200; i++) {
      env.context(i);
      const arm = i % 2 ? env.baselineArm : i % env.k;
      const r = env.step(arm);
      const fb = seen.filter((f) => f.applied).at(-1)!;
      const shape = profileFor(dev.listSubsystems()[0]).reward;
      t.is(r.reward, rewardFrom(fb.eff, fb.baselineEff, shape) ?? NaN, `${subsystem} round ${i}`);
      if (arm === env.baselineArm) {
        t.is(r.vsBaseline, 0);
        base += r.reward;
        plays++;
      }
    }
    // The baseline arm earns about the baseline's reward, 0.5, on both subsystems (the
    // readahead window's efficiency is in MiB/s, its reward a log ratio).
    const mean = base / plays; // odd rounds, and even ones whose i % k is the baseline arm
    t.true(mean > 0.45 && mean < 0.55, `${subsystem}: baseline arm's mean reward ${mean}`);
    t.true(
      env.bestExpected(200) >= 0.5,
      'the best legal arm is expected to do at least as well as the baseline',
    );
  }
});
