import test from 'ava';
import { createPolicy } from '../policies/registry.js';
import type { QLearning } from '../policies/rl/qlearning.js';
import type { Sarsa } from '../policies/rl/sarsa.js';
import { Discretiser } from '../policies/rl/discretiser.js';
import { Rng } from '../policies/rng.js';

/**
 * A chain of N states. Action 0 ("cash in") pays 0.1 and resets to state 0; action 1
 * ("advance") pays nothing and moves one state right, except in the last state where it
 * pays 1 and resets. A myopic learner always cashes in (average 0.1 per step); advancing
 * everywhere earns 1/N = 0.2 per step, and with gamma = 0.9 it is the optimal policy.
 */
const N = 5;
const contextOf = (s: number) => [(s + 0.5) / N];
function step(s: number, action: number): { reward: number; next: number } {
  if (action === 0) return { reward: 0.1, next: 0 };
  return s === N - 1 ? { reward: 1, next: 0 } : { reward: 0, next: s + 1 };
}

function train(kind: 'qlearning' | 'sarsa', seed: number, gamma: number, steps: number) {
  // Optimistic initial values (init = 2, above every true value) make the learner try
  // advancing; epsilon = 0.1 alone would almost never walk four steps down the chain.
  const spec = `${kind}:bins=${N},lo=0,hi=1,alpha=0.1,gamma=${gamma},epsilon=0.1,init=2`;
  const policy = createPolicy(spec, {
    k: 2,
    d: 1,
    seed,
  }) as QLearning | Sarsa;
  let s = 0;
  const legal = [true, true];
  for (let i = 0; i < steps; i++) {
    const x = contextOf(s);
    const { arm, propensity } = policy.select(x, legal);
    if (Math.min(Math.abs(propensity - 0.95), Math.abs(propensity - 0.05)) > 1e-12)
      throw new Error(`propensity ${propensity}`);
    const { reward, next } = step(s, arm);
    policy.update(arm, reward, x, contextOf(next));
    s = next;
  }
  return policy;
}

function greedyActions(policy: QLearning | Sarsa): number[] {
  return Array.from({ length: N }, (_, s) => {
    const q = policy.qValues(policy.stateOf(contextOf(s)));
    return q[1] > q[0] ? 1 : 0;
  });
}

for (const kind of ['qlearning', 'sarsa'] as const) {
  test(`${kind} finds the delayed reward of a chain where a myopic learner fails`, (t) => {
    for (const seed of [1, 2, 3]) {
      t.deepEqual(greedyActions(train(kind, seed, 0.9, 20000)), [1, 1, 1, 1, 1], `seed ${seed}`);
      // gamma = 0 makes it a (contextual) bandit: it cashes in at the start of the chain.
      t.is(greedyActions(train(kind, seed, 0, 20000))[0], 0, `myopic, seed ${seed}`);
    }
  });

  test(`${kind} respects legal masks and reports exact epsilon-greedy propensities`, (t) => {
    const policy = createPolicy(`${kind}:bins=2,epsilon=0.3`, { k: 4, d: 1, seed: 3 });
    const legal = [false, true, false, true];
    for (let i = 0; i < 200; i++) {
      const { arm, propensity } = policy.select([0.2], legal);
      t.true(arm === 1 || arm === 3);
      // Greedy arm (lowest legal index on ties: 1) gets 0.7 + 0.3/2, the other 0.3/2.
      t.true(Math.abs(propensity - (arm === 1 ? 0.85 : 0.15)) < 1e-12);
    }
  });
}

test("Q-learning applies r + gamma max Q(s') and treats a missing next context as terminal", (t) => {
  const p = createPolicy('qlearning:bins=2,alpha=0.5,gamma=0.9,epsilon=0', {
    k: 2,
    d: 1,
    seed: 1,
  }) as QLearning;
  p.update(1, 2, [0.9]); // terminal: Q(1,1) = 0.5 * 2 = 1
  t.is(p.qValues(1)[1], 1);
  p.update(0, 1, [0.1], [0.9]); // Q(0,0) = 0.5 * (1 + 0.9 * 1) = 0.95
  t.is(p.qValues(0)[0], 0.95);
});

test('SARSA defers its update until the next action is chosen', (t) => {
  const p = createPolicy('sarsa:bins=2,alpha=0.5,gamma=0.9,epsilon=0', {
    k: 2,
    d: 1,
    seed: 1,
  }) as Sarsa;
  p.update(1, 2, [0.9]); // terminal, applied at once: Q(1,1) = 1
  t.is(p.qValues(1)[1], 1);
  p.update(0, 1, [0.1], [0.9]);
  t.true(p.hasPendingUpdate());
  t.is(p.qValues(0)[0], 0);
  const { arm } = p.select([0.9]); // greedy at state 1 picks a' = 1
  t.is(arm, 1);
  t.false(p.hasPendingUpdate());
  t.is(p.qValues(0)[0], 0.5 * (1 + 0.9 * 1));
  // A select somewhere else than the pending s' falls back to expected SARSA.
  p.update(0, 0, [0.1], [0.9]);
  p.select([0.1]);
  // epsilon = 0: E[Q(s', .)] = max Q(s', .) = 1; Q(0,0) = 0.95 + 0.5 (0.9 - 0.95)
  t.is(p.qValues(0)[0], 0.95 + 0.5 * (0.9 - 0.95));
});

test('the discretiser maps contexts to mixed-radix states with uniform bins or edges', (t) => {
  const uniform = new Discretiser({ d: 2, bins: 4, lo: 0, hi: 1, edges: '' });
  t.is(uniform.states, 16);
  t.is(uniform.state([0, 0]), 0);
  t.is(uniform.state([0.3, 0]), 1);
  t.is(uniform.state([-5, 0.99]), 12);
  t.is(uniform.state([7, 7]), 15);
  const edged = new Discretiser({ d: 2, bins: 1, lo: 0, hi: 1, edges: '0.5;0.1/0.9' });
  t.is(edged.states, 6);
  t.is(edged.state([0.5, 0.05]), 1);
  t.is(edged.state([0.2, 0.1]), 2);
  t.is(edged.state([0.9, 0.95]), 5);
  t.throws(() => new Discretiser({ d: 2, bins: 1, lo: 0, hi: 1, edges: '0.5/0.2' }), {
    message: /strictly increasing/,
  });
  t.throws(() => new Discretiser({ d: 3, bins: 1, lo: 0, hi: 1, edges: '1;2' }), {
    message: /feature groups/,
  });
  t.throws(() => new Discretiser({ d: 1, bins: 3, lo: 1, hi: 1, edges: '' }), {
    message: /lo < hi/,
  });
  t.throws(() => new Discretiser({ d: 40, bins: 10, lo: 0, hi: 1, edges: '' }), {
    message: /states/,
  });
  const rng = new Rng(1);
  for (let i = 0; i < 100; i++) {
    const s = uniform.state([rng.uniform() * 3 - 1, rng.uniform() * 3 - 1]);
    t.true(Number.isInteger(s) && s >= 0 && s < 16);
  }
});
