/**
 * policies/distribution.ts: exact action distributions turned into draws and propensities,
 * the uniform exploration mix, and the learning rules of Policy.learnsFrom.
 *
 * Frequency checks: n independent draws from a fixed distribution; each arm's empirical
 * share must lie within 4.5 standard errors sqrt(p (1 - p) / n) + 0.002 of its probability.
 */
import test from 'ava';
import {
  UniformExploration,
  distributionOf,
  drawFrom,
  hasFullSupport,
  mixUniform,
} from '../policies/distribution.js';
import { createPolicy, policyKinds, restorePolicy } from '../policies/registry.js';
import type { ConservativePolicy } from '../policies/conservative.js';
import { Rng } from '../policies/rng.js';
import type { Decision, LegalMask } from '../policies/types.js';

function within(
  t: import('ava').ExecutionContext,
  freq: number,
  p: number,
  n: number,
  what: string,
) {
  const tol = 4.5 * Math.sqrt((p * (1 - p)) / n) + 0.002;
  t.true(
    Math.abs(freq - p) <= tol,
    `${what}: share ${freq} vs probability ${p} (tolerance ${tol})`,
  );
}

test('drawFrom draws each arm with its probability and reports it as the propensity', (t) => {
  const probs = Float64Array.from([0.1, 0, 0.6, 0.3]);
  const rng = new Rng(3);
  const n = 40000;
  const count = new Float64Array(4);
  for (let i = 0; i < n; i++) {
    const d = drawFrom(probs, rng);
    t.is(d.propensity, probs[d.arm]);
    t.is(d.distribution, probs);
    count[d.arm]++;
  }
  t.is(count[1], 0, 'an arm of probability 0 is never drawn');
  probs.forEach((p, a) => within(t, count[a] / n, p, n, `arm ${a}`));
  t.throws(() => drawFrom(new Float64Array(3), rng), { message: /no positive mass/ });
});

test('mixUniform around a deterministic arm is epsilon-greedy with the exact mixed distribution', (t) => {
  const legal: LegalMask = [1, 0, 1, 1, 1];
  const rng = new Rng(11);
  const n = 40000;
  const eps = 0.2;
  const count = new Float64Array(5);
  let dist: Float64Array | undefined;
  for (let i = 0; i < n; i++) {
    const d = mixUniform(2, undefined, eps, legal, 5, rng);
    dist = d.distribution!;
    t.is(d.propensity, dist[d.arm]);
    count[d.arm]++;
  }
  t.deepEqual(Array.from(dist!), [eps / 4, 0, 1 - eps + eps / 4, eps / 4, eps / 4]);
  dist!.forEach((p, a) => within(t, count[a] / n, p, n, `arm ${a}`));
});

test('mixUniform around a stochastic policy mixes its whole distribution', (t) => {
  const pi = Float64Array.from([0.5, 0.5, 0, 0]);
  const rng = new Rng(5);
  const n = 40000;
  const eps = 0.4;
  const count = new Float64Array(4);
  let dist: Float64Array | undefined;
  for (let i = 0; i < n; i++) {
    const base = drawFrom(pi, rng);
    const d = mixUniform(base.arm, pi, eps, undefined, 4, rng);
    dist = d.distribution!;
    t.is(d.propensity, dist[d.arm]);
    count[d.arm]++;
  }
  const expected = [0.6 * 0.5 + 0.1, 0.6 * 0.5 + 0.1, 0.1, 0.1];
  expected.forEach((p, a) => t.true(Math.abs(dist![a] - p) < 1e-15));
  expected.forEach((p, a) => within(t, count[a] / n, p, n, `arm ${a}`));
});

test('UniformExploration passes forced decisions and unknown distributions through, and restores its stream', (t) => {
  const ex = UniformExploration.seeded(0.5, 7);
  const forced: Decision = { arm: 0, propensity: 1, forced: true };
  const thompson: Decision = { arm: 1, propensity: 0.4, estimated: true };
  const sure: Decision = { arm: 1, propensity: 1, estimated: true };
  t.is(ex.decide(sure, undefined, 3), sure, 'an estimated propensity 1 is no point mass');
  for (let i = 0; i < 50; i++) {
    t.is(ex.decide(forced, undefined, 3), forced);
    t.is(ex.decide(thompson, undefined, 3), thompson);
  }
  t.false(UniformExploration.mixable(forced));
  t.false(UniformExploration.mixable(thompson));
  t.true(UniformExploration.mixable({ arm: 2, propensity: 1 }));
  const saved = ex.state();
  const a = Array.from(
    { length: 30 },
    () => ex.decide({ arm: 2, propensity: 1 }, undefined, 3).arm,
  );
  const other = UniformExploration.seeded(0.5, 99);
  other.restore(saved);
  const b = Array.from(
    { length: 30 },
    () => other.decide({ arm: 2, propensity: 1 }, undefined, 3).arm,
  );
  t.deepEqual(a, b);
  t.true(
    a.some((arm) => arm !== 2),
    'half the decisions explore',
  );
  const off = UniformExploration.seeded(0, 1);
  const det: Decision = { arm: 2, propensity: 1 };
  t.is(off.decide(det, undefined, 3), det, 'epsilon 0 changes nothing');
  t.throws(() => UniformExploration.seeded(1.5, 1), { message: /epsilon must lie in \[0, 1\]/ });
});

test('hasFullSupport and distributionOf', (t) => {
  t.true(hasFullSupport([0.5, 0, 0.5], [1, 0, 1]));
  t.false(hasFullSupport([0.5, 0, 0.5]));
  t.false(hasFullSupport(undefined));
  t.deepEqual(Array.from(distributionOf({ arm: 1, propensity: 1 }, 3)!), [0, 1, 0]);
  t.is(distributionOf({ arm: 1, propensity: 0.3 }, 3), undefined);
});

// Every policy whose decisions carry a distribution: it is a distribution over the legal
// arms, and the propensity is its entry for the chosen arm.
const CONTEXT = [0.3, -0.2];
for (const f of policyKinds()) {
  test(`${f.kind}: a decision's distribution, when given, is exact and consistent`, (t) => {
    const policy = createPolicy(
      f.kind === 'conservative' ? 'conservative:inner=linegreedy' : f.kind,
      {
        k: 4,
        d: f.contextual || f.kind === 'conservative' ? 2 : 0,
        seed: 4,
      },
    );
    const rng = new Rng(8);
    const masks: (LegalMask | undefined)[] = [undefined, [1, 0, 1, 1], [0, 1, 1, 0]];
    let carried = 0;
    for (let i = 0; i < 300; i++) {
      const legal = masks[i % masks.length];
      const x = policy.d > 0 ? CONTEXT.map((c) => c + rng.uniform() - 0.5) : undefined;
      const d = policy.select(x, legal);
      if (d.distribution !== undefined) {
        carried++;
        const dist = d.distribution;
        t.is(dist.length, 4);
        let sum = 0;
        dist.forEach((p, a) => {
          t.true(p >= 0 && p <= 1);
          if (legal && !legal[a]) t.is(p, 0, `illegal arm ${a} has probability ${p}`);
          sum += p;
        });
        t.true(Math.abs(sum - 1) < 1e-12, `sums to ${sum}`);
        t.is(d.propensity, dist[d.arm]);
      }
      policy.update(d.arm, rng.uniform(), x, x);
    }
    const exact = [
      'egreedy',
      'egreedy-decay',
      'softmax',
      'exp3',
      'linegreedy',
      'qlearning',
      'sarsa',
    ];
    if (exact.includes(f.kind)) t.true(carried > 0, 'this policy knows its distribution');
    t.true(
      f.kind === 'exp3' ? policy.learnsFrom === 'importance-weighted' : policy.learnsFrom === 'any',
    );
  });
}

test('exp3 learns through the given propensity and refuses plays without full support', (t) => {
  const a = createPolicy('exp3:gamma=0.2', { k: 3, d: 0, seed: 1 });
  const b = createPolicy('exp3:gamma=0.2', { k: 3, d: 0, seed: 1 });
  a.select();
  b.select();
  a.update(1, 1, undefined, undefined, { propensity: 0.5, fullSupport: true });
  b.update(1, 1, undefined, undefined, { propensity: 0.25, fullSupport: true });
  const wa = (a.snapshot().state.log_weights as number[])[1];
  const wb = (b.snapshot().state.log_weights as number[])[1];
  t.true(Math.abs(wb - 2 * wa) < 1e-12, 'the weight grows with reward / propensity');
  t.throws(() => a.update(0, 1, undefined, undefined, { propensity: 1, fullSupport: false }), {
    message: /without full support.*skip this update/,
  });
  t.throws(() => a.update(0, 1, undefined, undefined, { propensity: 0, fullSupport: true }), {
    message: /propensity 0 of arm 0 must lie in \(0, 1\]/,
  });
});

test('conservative around exp3: forced baseline plays never reach exp3, its own plays do', (t) => {
  const policy = createPolicy('conservative:alpha=0.2,baseline=0,inner=exp3', {
    k: 3,
    d: 0,
    seed: 5,
  }) as ConservativePolicy;
  const rng = new Rng(2);
  let forced = 0;
  let own = 0;
  for (let i = 0; i < 3000; i++) {
    // Every other update comes with UpdateInfo, as the daemon sends it.
    const d = policy.select(undefined, i % 7 === 0 ? [1, 0, 1] : undefined);
    if (d.forced) forced++;
    else own++;
    const reward = d.arm === 2 ? (rng.uniform() < 0.9 ? 1 : 0) : rng.uniform() < 0.5 ? 1 : 0;
    const info = i % 2 ? { propensity: d.propensity, fullSupport: !d.forced } : undefined;
    policy.update(d.arm, reward, undefined, undefined, info);
  }
  t.true(forced > 0 && own > 0, `${forced} forced, ${own} own plays`);
  t.is(policy.innerSkipped, forced);
  const inner = policy.inner.snapshot().state.log_weights as number[];
  t.true(inner[2] > inner[1], 'exp3 still learns the better arm');
  const restored = restorePolicy(policy.snapshot()) as ConservativePolicy;
  t.is(restored.innerSkipped, forced);
  t.deepEqual(restored.select(), policy.select());
});
