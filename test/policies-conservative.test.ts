import test from 'ava';
import type { ConservativePolicy } from '../policies/conservative.js';
import { createPolicy } from '../policies/registry.js';
import { Rng } from '../policies/rng.js';

// Bernoulli arms; the baseline (the kernel's default) is arm 1, arm 2 is better.
const MEANS = [0.3, 0.5, 0.7, 0.2];
const BASELINE = 1;
const ALPHA = 0.1;
const ROUNDS = 4000;

function run(spec: string, seed: number) {
  const policy = createPolicy(spec, { k: MEANS.length, d: 1, seed }) as ConservativePolicy;
  const env = new Rng(seed + 7777);
  const x = [1];
  let expected = 0;
  let worstSlack = Infinity;
  let lateBest = 0;
  let forced = 0;
  for (let t = 1; t <= ROUNDS; t++) {
    const { arm, propensity } = policy.select(x);
    if (propensity === 1 && arm === BASELINE) forced++;
    expected += MEANS[arm];
    // The constraint, in expectation, at every round.
    worstSlack = Math.min(worstSlack, expected - (1 - ALPHA) * t * MEANS[BASELINE]);
    if (t > ROUNDS - 1000 && arm === 2) lateBest++;
    policy.update(arm, env.uniform() < MEANS[arm] ? 1 : 0, x);
  }
  return { worstSlack, lateShare: lateBest / 1000, forced, budget: policy.budgetLeft() };
}

for (const known of [false, true]) {
  test(`conservative wrapper never breaks its budget over 50 seeds (baseline mean ${known ? 'known' : 'estimated'}) and still learns the better arm`, (t) => {
    const spec =
      `conservative:alpha=${ALPHA},baseline=${BASELINE},inner=linucb,inner.alpha=2` +
      (known ? `,baseline_reward=${MEANS[BASELINE]}` : '');
    let share = 0;
    let minSlack = Infinity;
    for (let seed = 1; seed <= 50; seed++) {
      const r = run(spec, seed);
      minSlack = Math.min(minSlack, r.worstSlack);
      t.true(r.worstSlack >= 0, `seed ${seed} broke the budget: slack ${r.worstSlack}`);
      t.true(r.forced > 0, 'the wrapper must have forced some baseline plays');
      share += r.lateShare / 50;
    }
    t.log(`smallest slack ${minSlack.toFixed(2)}, late share of the best arm ${share.toFixed(3)}`);
    t.true(share > 0.9, `late share of the best arm ${share}`);
  });
}

test('without the wrapper the same inner policy does break the budget early', (t) => {
  // Shows the budget test above can fail: plain LinUCB explores bad arms first.
  let broken = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const policy = createPolicy('linucb:alpha=2', { k: MEANS.length, d: 1, seed });
    const env = new Rng(seed + 7777);
    let expected = 0;
    let ok = true;
    for (let r = 1; r <= 200; r++) {
      const { arm } = policy.select([1]);
      expected += MEANS[arm];
      if (expected < (1 - ALPHA) * r * MEANS[BASELINE]) ok = false;
      policy.update(arm, env.uniform() < MEANS[arm] ? 1 : 0, [1]);
    }
    if (!ok) broken++;
  }
  t.is(broken, 10);
});

test('forced baseline plays report propensity 1, explored ones the inner propensity', (t) => {
  const policy = createPolicy(
    'conservative:alpha=0.1,baseline=0,inner=linegreedy,inner.epsilon=0.5',
    { k: 3, d: 1, seed: 2 },
  ) as ConservativePolicy;
  // Round 1: nothing collected yet, so exploring could lose a whole round: forced.
  t.false(policy.mayExplore());
  t.deepEqual(policy.select([1]), { arm: 0, propensity: 1, forced: true });
  const budgetBefore = policy.budgetLeft();
  for (let i = 0; i < 300; i++) policy.update(0, 0.8, [1]);
  t.true(policy.budgetLeft() > budgetBefore);
  t.true(policy.mayExplore());
  const { propensity } = policy.select([1]);
  // linear epsilon-greedy over 3 legal arms: 0.5 + 0.5/3 or 0.5/3.
  t.true(Math.abs(propensity - 2 / 3) < 1e-12 || Math.abs(propensity - 1 / 6) < 1e-12);
  // A mask without the baseline leaves the choice to the inner policy.
  const d = policy.select([1], [false, true, true]);
  t.not(d.arm, 0);
});

test('conservative wrapper checks its parameters and rewards', (t) => {
  const shape = { k: 3, d: 1, seed: 1 };
  t.throws(() => createPolicy('conservative:alpha=1', shape), { message: /alpha/ });
  t.throws(() => createPolicy('conservative:baseline=3', shape), { message: /baseline/ });
  t.throws(() => createPolicy('conservative:inner=nope', shape), {
    message: /unknown inner policy "nope"/,
  });
  t.throws(() => createPolicy('conservative:inner=linucb,inner.beta=2', shape), {
    message: /inner policy "linucb" has no parameter "beta"/,
  });
  t.throws(() => createPolicy('conservative:inner=conservative', shape), {
    message: /cannot wrap/,
  });
  t.throws(() => createPolicy('conservative:baseline_reward=2', shape), {
    message: /baseline_reward/,
  });
  t.throws(() => createPolicy('conservative:baseline_reward=abc', shape), {
    message: /baseline_reward/,
  });
  t.throws(() => createPolicy('conservative:reward_min=-1', shape), { message: /reward_min/ });
  t.throws(() => createPolicy('conservative:inner=linucb', { k: 3, d: 0, seed: 1 }), {
    message: /needs context length d >= 1/,
  });
  const p = createPolicy('conservative', shape);
  t.throws(() => p.update(0, 1.5, [1]), { message: /outside \[reward_min, reward_max\]/ });
  t.throws(() => p.update(0, Number.NaN, [1]), { message: /finite/ });
  t.throws(() => p.select([1, 2]), { message: /length 2, expected 1/ });
});

test('conservative wrapper around a context-free inner policy (ucb1) keeps its budget', (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const policy = createPolicy(`conservative:alpha=${ALPHA},baseline=${BASELINE},inner=ucb1`, {
      k: MEANS.length,
      d: 0,
      seed,
    }) as ConservativePolicy;
    t.is(policy.d, 0);
    const env = new Rng(seed);
    let expected = 0;
    let late = 0;
    for (let r = 1; r <= ROUNDS; r++) {
      const { arm } = policy.select();
      expected += MEANS[arm];
      t.true(expected >= (1 - ALPHA) * r * MEANS[BASELINE], `seed ${seed}, round ${r}`);
      if (r > ROUNDS - 1000 && arm === 2) late++;
      policy.update(arm, env.uniform() < MEANS[arm] ? 1 : 0);
    }
    t.true(late > 800, `seed ${seed}: best arm ${late} of the last 1000 rounds`);
  }
});
