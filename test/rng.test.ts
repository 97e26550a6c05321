import test from 'ava';
import { Rng } from '../policies/rng.js';

test('same seed gives the same stream, bit for bit', (t) => {
  const a = new Rng(7);
  const b = new Rng(7);
  for (let i = 0; i < 1000; i++) t.is(a.nextU32(), b.nextU32());
  t.not(new Rng(8).nextU32(), new Rng(7).nextU32());
});

test('state round-trips through JSON to an identical stream', (t) => {
  const a = new Rng(123);
  for (let i = 0; i < 17; i++) a.normal();
  const b = Rng.fromState(JSON.parse(JSON.stringify(a.state())));
  for (let i = 0; i < 100; i++) t.is(a.normal(), b.normal());
  for (let i = 0; i < 100; i++) t.is(a.beta(2, 3), b.beta(2, 3));
});

test('uniform lies in [0,1) with mean near 1/2', (t) => {
  const r = new Rng(1);
  let sum = 0;
  const n = 100000;
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    t.true(u >= 0 && u < 1);
    sum += u;
  }
  // sd of the mean is 1/sqrt(12 n) ~ 0.0009; allow 5 sd.
  t.true(Math.abs(sum / n - 0.5) < 0.0046);
});

test('normal has mean 0 and variance 1 within honest margins', (t) => {
  const r = new Rng(2);
  const n = 200000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = r.normal();
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  const variance = s2 / n - mean * mean;
  t.true(Math.abs(mean) < 5 / Math.sqrt(n));
  t.true(Math.abs(variance - 1) < 5 * Math.sqrt(2 / n));
});

test('beta(a,b) has mean a/(a+b)', (t) => {
  const r = new Rng(3);
  const n = 50000;
  let s = 0;
  for (let i = 0; i < n; i++) s += r.beta(2, 5);
  // var of Beta(2,5) = 10/(49*8) ~ 0.0255; sd of mean ~ 0.000714; 5 sd.
  t.true(Math.abs(s / n - 2 / 7) < 0.0036);
});

test('bad seeds and states are refused with a clear error', (t) => {
  t.throws(() => new Rng(1.5), { message: /integer/ });
  t.throws(() => Rng.fromState({ s: [0, 0, 0, 0], spare: null }), { message: /all zero/ });
  t.throws(() => new Rng(1).int(0), { message: /positive integer/ });
});
