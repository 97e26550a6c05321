/**
 * Snapshots of every bandit policy: JSON round trip to identical next decisions,
 * rejection of corrupt snapshots, and seed determinism.
 */
import test from 'ava';
import { BANDIT_POLICIES } from '../policies/catalog.js';
import { createPolicy, restorePolicy } from '../policies/registry.js';
import { Rng } from '../policies/rng.js';
import { isPolicySnapshot } from '../policies/snapshot.js';
import type { Policy, PolicySnapshot } from '../policies/types.js';
import { PolicyArgumentError } from '../policies/types.js';
import { adoptedPolicy } from '../src/loop/adopt.js';

const K = 5;
const KINDS = BANDIT_POLICIES.map((f) => f.kind);
const RANDOMISED = new Set(['egreedy', 'egreedy-decay', 'softmax', 'ts', 'gaussian-ts', 'exp3']);
// small propensity_draws keeps the Thompson runs quick; the value is still a real estimate
const SPECS: Record<string, string> = {
  ts: 'ts:propensity_draws=20',
  'gaussian-ts': 'gaussian-ts:propensity_draws=20',
  swucb: 'swucb:window=50',
};
const specOf = (kind: string) => SPECS[kind] ?? kind;

/** Random legal masks (about one decision in three restricted) and Bernoulli rewards. */
class Driver {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  mask(): boolean[] | undefined {
    if (this.rng.uniform() < 0.66) return undefined;
    const m = Array.from({ length: K }, () => this.rng.uniform() < 0.6);
    m[this.rng.int(K)] = true;
    return m;
  }
  reward(arm: number): number {
    return this.rng.uniform() < 0.2 + 0.15 * arm ? 1 : 0;
  }
}

function play(policy: Policy, driver: Driver, rounds: number): void {
  for (let i = 0; i < rounds; i++) {
    const { arm } = policy.select(undefined, driver.mask());
    policy.update(arm, driver.reward(arm));
  }
}

for (const kind of KINDS) {
  test(`${kind}: snapshot -> JSON -> restore makes the same next 200 decisions`, (t) => {
    const original = createPolicy(specOf(kind), { k: K, d: 0, seed: 42 });
    const driver = new Driver(7);
    play(original, driver, 300);
    const json = JSON.stringify(original.snapshot());
    const restored = restorePolicy(JSON.parse(json) as PolicySnapshot);
    t.is(restored.kind, kind);
    t.is(restored.k, K);
    t.is(restored.d, 0);
    for (let i = 0; i < 200; i++) {
      const mask = driver.mask();
      const a = original.select(undefined, mask);
      const b = restored.select(undefined, mask);
      t.deepEqual(b, a, `decision ${i} differs`);
      const r = driver.reward(a.arm);
      original.update(a.arm, r);
      restored.update(b.arm, r);
    }
    t.is(JSON.stringify(restored.snapshot()), JSON.stringify(original.snapshot()));
  });

  test(`${kind}: corrupt snapshots are rejected with a clear error`, (t) => {
    const policy = createPolicy(specOf(kind), { k: K, d: 0, seed: 3 });
    play(policy, new Driver(1), 60);
    const good = JSON.parse(JSON.stringify(policy.snapshot())) as PolicySnapshot;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- edits reach into arbitrary JSON
    type Json = Record<string, any>;
    const bad = (edit: (s: Json) => void): PolicySnapshot => {
      const copy = JSON.parse(JSON.stringify(good)) as Json;
      edit(copy);
      return copy as unknown as PolicySnapshot;
    };
    const firstArray = Object.keys(good.state).find((key) => Array.isArray(good.state[key]))!;
    const cases: Array<[string, PolicySnapshot]> = [
      ['newer version', bad((s) => (s.version = 99))],
      ['missing state', bad((s) => delete s.state)],
      ['bad rng', bad((s) => (s.rng = { s: [0, 0, 0, 0], spare: null }))],
      ['negative t', bad((s) => (s.state.t = -1))],
      ['fractional t', bad((s) => (s.state.t = 1.5))],
      ['short array', bad((s) => s.state[firstArray].pop())],
      ['null entry', bad((s) => (s.state[firstArray][0] = null))],
      ['K = 0', bad((s) => (s.params.k = 0))],
      ['seed not an integer', bad((s) => (s.params.seed = 'x'))],
    ];
    for (const [what, snap] of cases) {
      const err = t.throws(() => restorePolicy(snap), { instanceOf: PolicyArgumentError }, what);
      t.regex(err?.message ?? '', new RegExp(`${kind}`), what);
    }
    t.throws(() => restorePolicy({ ...good, kind: 'no-such-policy' }), {
      message: /unknown policy "no-such-policy"/,
    });
  });

  test(`${kind}: the same seed gives the same run${RANDOMISED.has(kind) ? ', another seed a different one' : ''}`, (t) => {
    const trace = (seed: number) => {
      const p = createPolicy(specOf(kind), { k: K, d: 0, seed });
      const driver = new Driver(11);
      const out: number[] = [];
      for (let i = 0; i < 300; i++) {
        const d = p.select(undefined, driver.mask());
        out.push(d.arm, d.propensity);
        p.update(d.arm, driver.reward(d.arm));
      }
      return out;
    };
    t.deepEqual(trace(5), trace(5));
    if (RANDOMISED.has(kind)) t.notDeepEqual(trace(5), trace(6));
    else t.deepEqual(trace(5), trace(6), 'a deterministic policy ignores its seed');
  });
}

test('snapshot consistency checks catch edited learned state', (t) => {
  const ucb = createPolicy('ucb1', { k: 3, d: 0, seed: 1 });
  ucb.update(0, 1);
  const s = JSON.parse(JSON.stringify(ucb.snapshot())) as PolicySnapshot;
  (s.state as Record<string, unknown>).t = 5;
  t.throws(() => restorePolicy(s), { message: /t must equal the sum of the counts/ });

  const ts = createPolicy('ts:propensity_draws=10', { k: 2, d: 0, seed: 1 });
  ts.update(1, 1);
  const s2 = JSON.parse(JSON.stringify(ts.snapshot())) as PolicySnapshot;
  (s2.state.alpha as number[])[0] = 0.5; // below the prior a0 = 1
  t.throws(() => restorePolicy(s2), { message: /state\.alpha\[0\] must be/ });
});

test('one envelope check for every snapshot: restorePolicy and the fleet adoption share it', (t) => {
  for (const bad of [null, 'ucb1', [], { kind: 3 }, { params: {} }]) {
    t.false(isPolicySnapshot(bad), JSON.stringify(bad));
    t.throws(() => restorePolicy(bad as unknown as PolicySnapshot), {
      instanceOf: PolicyArgumentError,
      message: 'policy snapshot must be an object with a "kind" string',
    });
    const current = createPolicy('ucb1', { k: 3, d: 0, seed: 1 });
    t.is(
      adoptedPolicy(
        current,
        { policy: 'ucb1', conservative: null },
        { k: 3, d: 0, baselineArm: 0 },
        bad as unknown as PolicySnapshot,
      ),
      'the snapshot is not a policy snapshot',
    );
  }
  t.true(isPolicySnapshot(createPolicy('ucb1', { k: 3, d: 0, seed: 1 }).snapshot()));
});
