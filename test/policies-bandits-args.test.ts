/** Bad arguments to the bandit policies get PolicyArgumentErrors that name the problem. */
import test from 'ava';
import { BANDIT_POLICIES } from '../policies/catalog.js';
import { createPolicy } from '../policies/registry.js';
import { PolicyArgumentError } from '../policies/types.js';

const ERR = { instanceOf: PolicyArgumentError };

for (const { kind } of BANDIT_POLICIES) {
  test(`${kind}: bad shape, reward, arm and mask are rejected`, (t) => {
    t.throws(() => createPolicy(kind, { k: 0, d: 0, seed: 1 }), { ...ERR, message: /K must be/ });
    t.throws(() => createPolicy(kind, { k: 2.5, d: 0, seed: 1 }), { ...ERR, message: /K must/ });
    t.throws(() => createPolicy(kind, { k: 3, d: 0, seed: 0.5 }), { ...ERR, message: /seed/ });
    t.throws(() => createPolicy(`${kind}:nonsense=1`, { k: 3, d: 0, seed: 1 }), {
      ...ERR,
      message: /no parameter "nonsense"/,
    });
    const p = createPolicy(kind, { k: 3, d: 0, seed: 1 });
    p.select();
    for (const reward of [NaN, Infinity, -Infinity]) {
      t.throws(() => p.update(0, reward), { ...ERR, message: /reward must be a finite number/ });
    }
    for (const arm of [-1, 3, 1.5, NaN]) {
      t.throws(() => p.update(arm, 0), { ...ERR, message: /out of range/ });
    }
    t.throws(() => p.select(undefined, [true, true]), {
      ...ERR,
      message: /length 2, expected K = 3/,
    });
    t.throws(() => p.select(undefined, [false, 0, false]), {
      ...ERR,
      message: /excludes every arm/,
    });
    // a rejected call leaves the policy usable
    const { arm } = p.select();
    t.notThrows(() => p.update(arm, 0.5));
  });
}

test('rewards outside [0, 1] are rejected by the policies that need them', (t) => {
  for (const kind of ['klucb', 'ts', 'exp3']) {
    const p = createPolicy(kind, { k: 2, d: 0, seed: 1 });
    p.select();
    t.throws(() => p.update(0, 1.5), { ...ERR, message: /\[0, 1\]/ });
    t.throws(() => p.update(0, -0.1), { ...ERR, message: /\[0, 1\]/ });
  }
  const ucb = createPolicy('ucb1', { k: 2, d: 0, seed: 1 });
  t.notThrows(() => ucb.update(0, 42), 'UCB1 takes any finite reward');
});

test('bad parameters name the parameter and its range', (t) => {
  const shape = { k: 3, d: 0, seed: 1 };
  const cases: Array<[string, RegExp]> = [
    ['egreedy:epsilon=1.5', /"epsilon" must be <= 1/],
    ['egreedy:epsilon=-0.1', /"epsilon" must be >= 0/],
    ['egreedy:epsilon=abc', /"epsilon" must be a finite number/],
    ['egreedy-decay:c=0', /"c" must be > 0/],
    ['egreedy-decay:gap=2', /"gap" must be <= 1/],
    ['softmax:tau=0', /"tau" must be > 0/],
    ['klucb:c=-1', /"c" must be >= 0/],
    ['klucb:precision=0', /"precision" must be > 0/],
    ['ts:a0=0', /"a0" must be > 0/],
    ['ts:propensity_draws=2.5', /"propensity_draws" must be an integer/],
    ['gaussian-ts:noise_sd=0', /"noise_sd" must be > 0/],
    ['exp3:gamma=0', /"gamma" must be > 0/],
    ['exp3:gamma=1.1', /"gamma" must be <= 1/],
    ['ducb:gamma=1.01', /"gamma" must be <= 1/],
    ['ducb:xi=0', /"xi" must be > 0/],
    ['swucb:window=0', /"window" must be >= 1/],
    ['swucb:window=10.5', /"window" must be an integer/],
    ['swucb:bound=-1', /"bound" must be > 0/],
  ];
  for (const [spec, message] of cases)
    t.throws(() => createPolicy(spec, shape), { ...ERR, message }, spec);
});

test('exp3 refuses an update for an arm the last decision could not choose', (t) => {
  const p = createPolicy('exp3', { k: 3, d: 0, seed: 1 });
  p.select(undefined, [true, false, true]);
  t.throws(() => p.update(1, 1), { ...ERR, message: /could not be chosen/ });
});
