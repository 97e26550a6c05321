import test from 'ava';
import { createPolicy, restorePolicy } from '../policies/registry.js';
import { Rng } from '../policies/rng.js';
import type { Policy, PolicySnapshot } from '../policies/types.js';
import { PolicyArgumentError } from '../policies/types.js';

const K = 4;
const D = 3;
const SPECS = [
  'linucb:alpha=0.8,lambda=2',
  'lints:v=0.4,propensity_draws=8',
  'linegreedy:epsilon=0.2',
  'qlearning:bins=3,lo=-1,hi=1,epsilon=0.3',
  'sarsa:bins=3,lo=-1,hi=1,epsilon=0.3',
  'conservative:alpha=0.2,baseline=2,inner=lints,inner.v=0.3',
  'conservative:alpha=0.2,baseline=1,inner=sarsa,inner.bins=2,inner.lo=-1,inner.hi=1',
];

/** Plays n rounds on a fixed input stream; returns every decision. */
function play(policy: Policy, inputs: Rng, n: number): string[] {
  const out: string[] = [];
  let x = Array.from({ length: D }, () => inputs.normal() * 0.5);
  for (let i = 0; i < n; i++) {
    const legal = [true, inputs.uniform() < 0.8, true, true];
    const { arm, propensity } = policy.select(x, legal);
    out.push(`${arm}:${propensity}`);
    const next = Array.from({ length: D }, () => inputs.normal() * 0.5);
    policy.update(arm, inputs.uniform(), x, next);
    x = next;
  }
  return out;
}

for (const spec of SPECS) {
  test(`${spec}: snapshot and restore give identical next decisions`, (t) => {
    const policy = createPolicy(spec, { k: K, d: D, seed: 42 });
    play(policy, new Rng(1), 150);
    const snap = JSON.parse(JSON.stringify(policy.snapshot()));
    const restored = restorePolicy(snap);
    t.is(restored.kind, policy.kind);
    t.deepEqual(restored.snapshot(), policy.snapshot());
    t.deepEqual(play(restored, new Rng(2), 100), play(policy, new Rng(2), 100));
  });

  test(`${spec}: the same seed gives the same run`, (t) => {
    const a = play(createPolicy(spec, { k: K, d: D, seed: 7 }), new Rng(3), 100);
    const b = play(createPolicy(spec, { k: K, d: D, seed: 7 }), new Rng(3), 100);
    t.deepEqual(a, b);
  });

  test(`${spec}: bad arguments get clear errors`, (t) => {
    const p = createPolicy(spec, { k: K, d: D, seed: 1 });
    t.throws(() => p.select([1, 2]), { message: /length 2, expected 3/ });
    t.throws(() => p.select(undefined), { message: /context of length 3 is required/ });
    t.throws(() => p.select([0, Number.NaN, 0]), {
      message: /context\[1\] must be a finite number/,
    });
    t.throws(() => p.select([0, 0, 0], [false, false, false, false]), {
      message: /excludes every arm/,
    });
    t.throws(() => p.select([0, 0, 0], [true, true]), { message: /mask has length 2/ });
    t.throws(() => p.update(0, Number.NaN, [0, 0, 0]), {
      message: /reward must be a finite number/,
    });
    t.throws(() => p.update(0, Infinity, [0, 0, 0]), { message: /reward must be a finite number/ });
    t.throws(() => p.update(K, 0.5, [0, 0, 0]), { message: /arm 4 is out of range/ });
    t.throws(() => p.update(0, 0.5, [0, 0]), { message: /length 2, expected 3/ });
    t.throws(() => createPolicy(spec, { k: 0, d: D, seed: 1 }), {
      message: /K must be an integer >= 1/,
    });
    t.throws(() => createPolicy(spec, { k: K, d: 0, seed: 1 }), { message: /d >= 1/ });
  });
}

test('contextual and RL policies reject bad parameters by name', (t) => {
  const shape = { k: K, d: D, seed: 1 };
  const cases: [string, RegExp][] = [
    ['linucb:alpha=-1', /"alpha" must be >= 0/],
    ['linucb:lambda=0', /"lambda" must be > 0/],
    ['linucb:gamma=1', /no parameter "gamma"/],
    ['lints:v=0', /"v" must be > 0/],
    ['lints:propensity_draws=0.5', /"propensity_draws" must be an integer/],
    ['linegreedy:epsilon=1.5', /"epsilon" must be <= 1/],
    ['qlearning:gamma=2', /"gamma" must be <= 1/],
    ['qlearning:alpha=0', /"alpha" must be > 0/],
    ['sarsa:bins=0', /"bins" must be >= 1/],
    ['sarsa:lo=1,hi=0', /lo < hi/],
    ['qlearning:edges=a/b', /"edges" group 0/],
    ['qlearning:bins=100000', /states/],
  ];
  for (const [spec, message] of cases) t.throws(() => createPolicy(spec, shape), { message }, spec);
  t.throws(() => restorePolicy({ ...createPolicy('linucb', shape).snapshot(), version: 99 }), {
    message: /version 99 is not supported/,
  });
});

test('corrupt contextual, RL and conservative snapshots are rejected naming the policy and the field', (t) => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- edits reach into arbitrary JSON
  type Json = Record<string, any>;
  for (const spec of SPECS) {
    const policy = createPolicy(spec, { k: K, d: D, seed: 42 });
    play(policy, new Rng(1), 60);
    const good = JSON.stringify(policy.snapshot());
    const bad = (edit: (s: Json) => void) => {
      const copy = JSON.parse(good) as Json;
      edit(copy);
      return copy as unknown as PolicySnapshot;
    };
    const numbers = (s: Json): unknown[] =>
      policy.kind === 'conservative'
        ? s.state.armSums
        : policy.kind === 'qlearning' || policy.kind === 'sarsa'
          ? s.state.q[0][1]
          : s.state.b;
    const cases: [string, PolicySnapshot, RegExp][] = [
      ['newer version', bad((s) => (s.version = 99)), /version 99 is not supported/],
      ['missing state', bad((s) => delete s.state), /"state" must be an object/],
      ['bad rng', bad((s) => (s.rng = { s: [0, 0, 0, 0] })), /"rng" is not a valid Rng state/],
      ['short array', bad((s) => numbers(s).pop()), /must be an array of \d+ numbers/],
      ['null entry', bad((s) => (numbers(s)[0] = null)), /\[0\] must be a finite number/],
    ];
    if (policy.kind !== 'conservative') {
      cases.push(['bad params', bad((s) => (s.params.k = 0)), /bad params \(.*K must be/]);
    }
    for (const [what, snap, message] of cases) {
      const err = t.throws(() => restorePolicy(snap), { instanceOf: PolicyArgumentError }, what);
      t.regex(err?.message ?? '', new RegExp(`${policy.kind} snapshot`), `${spec}: ${what}`);
      t.regex(err?.message ?? '', message, `${spec}: ${what}`);
    }
  }
});
