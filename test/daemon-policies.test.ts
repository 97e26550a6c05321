/**
 * Every registered policy runs in the daemon: bare and inside the conservative wrapper, a
 * few thousand decisions each on the simulated device (both subsystems, virtual time),
 * then a restart that resumes from the checkpoint. The daemon's exploration mix logs
 * exact propensities.
 */
import test from 'ava';
import path from 'node:path';
import { policyKinds } from '../policies/registry.js';
import { readDecisionLog } from '../src/decisionlog/index.js';
import type { JoinedDecision } from '../src/decisionlog/index.js';
import { makeDaemon, simDevice, tempDir, testConfig } from './helpers/daemon-harness.js';

const DECISIONS = 2000;

function logOf(dir: string): JoinedDecision[] {
  return readDecisionLog(path.join(dir, 'log', 'decisions.jsonl')).decisions;
}

const cases: { spec: string; conservative: boolean }[] = [];
for (const f of policyKinds()) {
  cases.push({ spec: f.kind, conservative: false });
  if (f.kind !== 'conservative') cases.push({ spec: f.kind, conservative: true });
}

for (const c of cases) {
  const name = c.conservative ? `conservative around ${c.spec}` : `${c.spec} bare`;
  test(`daemon: ${name} runs ${DECISIONS} decisions, learns, logs valid propensities and resumes`, async (t) => {
    const dir = tempDir();
    const cfg = testConfig(dir, (cf) => {
      cf.defaults.policy = c.spec;
      cf.defaults.conservative = c.conservative ? { alpha: 0.1 } : false;
      cf.checkpoint.everyDecisions = 500;
    });
    const first = makeDaemon(cfg, simDevice(), { maxDecisions: DECISIONS });
    const s1 = await first.daemon.run();
    t.is(s1.stopReason, `reached ${DECISIONS} decisions`);
    t.false(
      first.lines.some((l) => (l.level as number) >= 50),
      `no error logged: ${JSON.stringify(first.lines.filter((l) => (l.level as number) >= 50))}`,
    );
    for (const s of s1.subsystems) {
      t.true(s.decisions > 0, `${s.name} decided`);
      t.true(s.updates > 0, `${s.name} learned (${s.updates} updates)`);
    }
    const log = logOf(dir);
    // One turn decides for both subsystems, so a run may end one decision past the limit.
    t.is(log.length, s1.decisions);
    t.true(s1.decisions >= DECISIONS);
    const randomised = log.filter((d) => d.propensity < 1).length;
    t.true(randomised > 0, 'the log is randomised');
    for (const d of log) {
      if (d.distribution === undefined) continue;
      t.is(d.distribution[d.arm], d.propensity);
    }

    const second = makeDaemon(cfg, simDevice(), { maxDecisions: 200 });
    const s2 = await second.daemon.run();
    t.is(s2.resumedFrom, s1.lastCheckpoint);
    t.false(second.lines.some((l) => String(l.msg).includes('checkpoint not used')));
    t.true(s2.decisions >= 200);
  });
}

test('daemon exploration: LinUCB mixed with epsilon 0.2 logs the exact mix, and epsilon 0 none', async (t) => {
  const eps = 0.2;
  const dir = tempDir();
  const cfg = testConfig(dir, (cf) => {
    cf.defaults.policy = 'linucb:alpha=1';
    cf.defaults.conservative = false;
    cf.defaults.exploration = { epsilon: eps };
    // readahead's built-in settings (epsilon 0.01) sit over `defaults`: its entry sets it.
    cf.subsystems = [{ name: 'readahead', exploration: { epsilon: eps } }];
  });
  const { daemon } = makeDaemon(cfg, simDevice(), { maxDecisions: 1500 });
  await daemon.run();
  let explored = 0;
  let policyDecisions = 0;
  for (const d of logOf(dir)) {
    // Not the policy's: the safety fallback, and the learner's reference probes (the
    // baseline arm played once after a workload change, docs/daemon.md).
    if (d.policy === 'safety:baseline' || d.policy === 'reference') continue;
    policyDecisions++;
    const n = d.legal!.reduce((a, b) => a + b, 0);
    const greedy = 1 - eps + eps / n;
    t.true(
      d.propensity === greedy || d.propensity === eps / n,
      `propensity ${d.propensity} with ${n} legal arms`,
    );
    if (d.propensity === eps / n) explored++;
    // The distribution is the mix around one arm: (1 - eps) + eps/n there, eps/n elsewhere.
    const dist = d.distribution!;
    t.is(dist.filter((p) => p === greedy).length, 1);
    t.is(dist.filter((p) => p === eps / n).length, n - 1);
  }
  // About eps (n - 1)/n of the decisions play another arm than LinUCB's: 4.5 SE margins.
  const share = explored / policyDecisions;
  t.true(share > 0.08 && share < 0.22, `explored share ${share}`);

  const dir0 = tempDir();
  const cfg0 = testConfig(dir0, (cf) => {
    cf.defaults.policy = 'linucb:alpha=1';
    cf.defaults.conservative = false;
    cf.defaults.exploration = { epsilon: 0 };
    cf.subsystems = [{ name: 'readahead', exploration: { epsilon: 0 } }];
  });
  await makeDaemon(cfg0, simDevice(), { maxDecisions: 300 }).daemon.run();
  t.true(logOf(dir0).every((d) => d.propensity === 1));
});

test('daemon log: the conservative wrapper’s forced baseline plays are marked forced, and only they are point masses of the policy', async (t) => {
  const dir = tempDir();
  const cfg = testConfig(dir, (cf) => {
    cf.defaults.policy = 'linucb:alpha=1';
    cf.defaults.conservative = { alpha: 0.1 };
  });
  const { daemon } = makeDaemon(cfg, simDevice(), { maxDecisions: 1500 });
  await daemon.run();
  const log = logOf(dir).filter((d) => d.policy !== 'safety:baseline' && d.policy !== 'reference');
  const forced = log.filter((d) => d.forced);
  // The budget starts empty: the wrapper forces the baseline at first.
  t.true(forced.length > 0, 'some plays were forced');
  for (const d of forced) {
    t.is(d.propensity, 1);
    t.is(d.distribution!.filter((p) => p > 0).length, 1, 'a point mass');
    // The knob defaults: synthetic level 4, readahead 2^7 KiB.
    t.deepEqual(d.knobs, d.subsystem === 'synthetic' ? [4] : [7], 'on the baseline arm');
    t.regex(d.policy, /^conservative:/);
  }
  // Every other decision of the policy was mixed with exploration (5%): never a point mass
  // while more than one arm is legal.
  for (const d of log) {
    if (d.forced || d.legal!.reduce((a, b) => a + b, 0) < 2) continue;
    t.true(d.propensity < 1, `decision ${d.id}: propensity ${d.propensity}`);
  }
});
