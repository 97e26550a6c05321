import test from 'ava';
import { createPolicy } from '../policies/registry.js';

const shape = { k: 4, d: 0, seed: 5 };

test('Thompson propensity does not depend on whether or when it is read', (t) => {
  const reader = createPolicy('ts:propensity_draws=200', shape);
  const skipper = createPolicy('ts:propensity_draws=200', shape);
  for (let i = 0; i < 300; i++) {
    const a = reader.select();
    const b = skipper.select();
    t.is(a.arm, b.arm);
    const p = a.propensity;
    t.true(p > 0 && p <= 1);
    t.is(a.propensity, p, 'memoised');
    if (i % 3 === 0) t.is(b.propensity, p, 'same estimate when read by another run');
    const r = a.arm === 2 ? 1 : 0;
    reader.update(a.arm, r);
    skipper.update(b.arm, r);
  }
});

test('reading a Thompson propensity after update() is a clear error', (t) => {
  const p = createPolicy('gaussian-ts:propensity_draws=50', shape);
  const d = p.select();
  p.update(d.arm, 0.5);
  t.throws(() => d.propensity, { message: /before calling update\(\)/ });
});
