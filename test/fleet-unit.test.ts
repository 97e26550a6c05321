/** The fleet's parts that need no server: queue, names, pointer checks, adoption, config. */
import test from 'ava';
import { createPolicy } from '../policies/registry.js';
import { ConfigError, loadConfig, parseConfig } from '../src/config/load.js';
import { DEFAULT_FLEET_SETTINGS } from '../src/config/schema.js';
import { eventSubject, hostToken, rolloutBucket } from '../src/fleet/names.js';
import {
  Refusal,
  encodeObject,
  parsePointer,
  pointerFor,
  verifyPolicyObject,
} from '../src/fleet/pointer.js';
import type { PolicyHeader } from '../src/fleet/pointer.js';
import { Publisher } from '../src/fleet/publisher.js';
import { adoptedPolicy } from '../src/loop/adopt.js';
import { SubsystemLearner } from '../src/loop/learner.js';
import type { LearnerSink } from '../src/loop/learner.js';
import { Mode, type MlpDevice } from '../src/transport/device.js';
import { evaluationStub } from './helpers/fleet.js';
import { simDevice } from '../src/transport/sim/fake-kernel.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('publisher: never waits, drops the oldest queued record when full, counts it', async (t) => {
  const sent: string[] = [];
  const p = new Publisher({
    capacity: 3,
    send: async (_s, _d, id) => {
      sent.push(id);
    },
  });
  for (const id of ['a', 'b', 'c', 'd', 'e']) p.enqueue({ subject: 'x', msgId: id, payload: {} });
  t.is(p.stats.dropped, 2);
  t.is(p.depth, 3);
  p.setOnline(true);
  t.true(await p.flush(5000));
  t.deepEqual(sent, ['c', 'd', 'e'], 'the newest three survive, in order');
  t.is(p.stats.published, 3);
  // A pump that found nothing to do must not wedge the next one.
  p.enqueue({ subject: 'x', msgId: 'f', payload: {} });
  t.true(await p.flush(5000));
  t.deepEqual(sent, ['c', 'd', 'e', 'f']);
  await p.close();
});

test('publisher: failed records stay queued in order and are sent again after the backoff', async (t) => {
  const sent: string[] = [];
  let fail = true;
  const p = new Publisher({
    capacity: 10,
    window: 2,
    send: async (_s, _d, id) => {
      if (fail && id === 'b') throw new Error('server away');
      sent.push(id);
    },
  });
  p.setOnline(true);
  for (const id of ['a', 'b', 'c']) p.enqueue({ subject: 'x', msgId: id, payload: {} });
  await new Promise((r) => setTimeout(r, 30));
  t.is(p.stats.errors, 1);
  t.is(p.stats.lastError, 'server away');
  fail = false;
  t.true(await p.flush(5000));
  t.deepEqual(sent, ['a', 'b', 'c']);
  t.is(p.stats.dropped, 0);
  await p.close();
});

test('publisher: records in flight are never dropped; while offline nothing is sent', async (t) => {
  const gate = deferred();
  const sent: string[] = [];
  const p = new Publisher({
    capacity: 2,
    window: 2,
    send: async (_s, _d, id) => {
      await gate.promise;
      sent.push(id);
    },
  });
  p.enqueue({ subject: 'x', msgId: 'a', payload: {} });
  await tick();
  t.deepEqual(sent, [], 'offline');
  p.setOnline(true);
  p.enqueue({ subject: 'x', msgId: 'b', payload: {} });
  await tick();
  await tick();
  // a and b are in flight: the queue is full of records that cannot be dropped.
  p.enqueue({ subject: 'x', msgId: 'c', payload: {} });
  t.is(p.stats.dropped, 1, 'the new record is the one dropped');
  gate.resolve();
  t.true(await p.flush(5000));
  t.deepEqual(sent.sort(), ['a', 'b']);
  await p.close();
});

test('names: subjects carry fleet, host and subsystem; the rollout bucket is stable and spread', (t) => {
  t.is(
    eventSubject('prod', 'web-1.example.com', 'readahead', 'reward'),
    'mlproxy.prod.ev.web-1_example_com.readahead.reward',
  );
  t.is(hostToken('a b>*'), 'a_b__');
  t.is(rolloutBucket('prod', 'web-1'), rolloutBucket('prod', 'web-1'));
  const buckets = Array.from({ length: 1000 }, (_, i) => rolloutBucket('prod', `host-${i}`));
  const under = buckets.filter((b) => b < 0.25).length;
  // Binomial(1000, 0.25): sd 13.7; 5 sd either side.
  t.true(under > 181 && under < 319, `${under} of 1000 hosts below 0.25`);
  t.true(buckets.every((b) => b >= 0 && b < 1));
});

const header: PolicyHeader = {
  fleet: 'f',
  subsystem: 'synthetic',
  version: 2,
  spec: 'linegreedy:epsilon=0.1',
  signature: 'level:0..15/1@4;arms=16',
  k: 16,
  d: 4,
  baselineArm: 4,
  minAbi: { major: 1, minor: 2 },
  trainedSamples: 10,
  evaluation: evaluationStub(),
  createdAt: 'now',
  trainer: 't',
};
const view = {
  name: 'synthetic',
  signature: header.signature,
  k: 16,
  d: 4,
  baselineArm: 4,
  policy: header.spec,
};

test('pointer: the object is checked against the pointer, the ABI and the knob schema', (t) => {
  const snap = createPolicy(header.spec, { k: 16, d: 4, seed: 1 }).snapshot();
  const bytes = encodeObject(header, snap);
  const p = pointerFor(header, 'synthetic/v2.json', bytes, 0.5);
  t.deepEqual(parsePointer(new TextEncoder().encode(JSON.stringify(p))), p);
  t.throws(() => parsePointer(new TextEncoder().encode('{"format":"mlproxy-fleet-pointer"}')), {
    message: /malformed/,
  });
  const host = { abi: { major: 1, minor: 3 }, subsystem: view };
  t.deepEqual(verifyPolicyObject(p, bytes, host), snap);
  const kind = (f: () => unknown): string => (t.throws(f, { instanceOf: Refusal }) as Refusal).kind;
  const flipped = Uint8Array.from(bytes);
  flipped[40] ^= 1;
  t.is(
    kind(() => verifyPolicyObject(p, flipped, host)),
    'checksum',
  );
  t.is(
    kind(() => verifyPolicyObject(p, bytes, { ...host, abi: { major: 1, minor: 1 } })),
    'abi',
  );
  t.is(
    kind(() => verifyPolicyObject(p, bytes, { ...host, abi: { major: 2, minor: 5 } })),
    'abi',
  );
  t.is(
    kind(() => verifyPolicyObject(p, bytes, { ...host, subsystem: { ...view, d: 5 } })),
    'shape',
  );
  const lying = pointerFor({ ...header, version: 3 }, 'synthetic/v2.json', bytes, 1);
  t.is(
    kind(() => verifyPolicyObject(lying, bytes, host)),
    'mismatch',
  );
});

function learnerOn(
  device: MlpDevice,
  policy: string,
  conservative: { alpha: number } | null,
): SubsystemLearner {
  const info = device.listSubsystems().find((s) => s.name === 'synthetic')!;
  const sink: LearnerSink = { decision: () => {}, reward: () => {}, event: () => {} };
  const l = new SubsystemLearner(
    info,
    {
      policy,
      conservative,
      seed: 5,
      maxArms: 256,
      safety: { maxStep: 2, collapseWindows: 3, collapseRatio: 0.7, fallbackDecisions: 20 },
      adviceWindowsOnly: true,
      ttlMs: 0,
      heartbeatMs: 500,
      exploration: 0,
    },
    sink,
    'test',
  );
  l.attach(device, info.id);
  return l;
}

test('adoption: the learned state is replaced; the host keeps its random stream and conservative budget', (t) => {
  const device = simDevice({ kernelOptions: { clock: 'manual', subsystems: ['synthetic'] } });
  const l = learnerOn(device, 'linegreedy:epsilon=0.1', { alpha: 0.1 });
  for (let i = 0; i < 30; i++) l.policy.update(4, 0.5, [0, 0, 0, 1]);
  const before = l.policy.snapshot();
  const fleet = createPolicy('linegreedy:epsilon=0.1', { k: 16, d: 4, seed: 99 });
  for (let i = 0; i < 200; i++) fleet.update(10, 0.95, [0, 0, 0, 1]);
  const next = adoptedPolicy(
    l.policy,
    l.settings,
    { k: 16, d: 4, baselineArm: 4 },
    fleet.snapshot(),
  );
  if (typeof next === 'string') return t.fail(next);
  const after = next.snapshot();
  t.is(after.kind, 'conservative');
  t.deepEqual(after.state.rounds, before.state.rounds, "the host's budget accounting stays");
  const inner = after.state.inner as typeof before;
  t.deepEqual(inner.state, fleet.snapshot().state, 'the fleet’s learned state');
  t.deepEqual(inner.rng, (before.state.inner as typeof before).rng, "the host's own random stream");
  t.is(inner.params.seed, 5);
  // Refusals: another policy kind, other parameters, another shape.
  const other = createPolicy('linucb:alpha=1', { k: 16, d: 4, seed: 1 }).snapshot();
  t.regex(
    adoptedPolicy(l.policy, l.settings, { k: 16, d: 4, baselineArm: 4 }, other) as string,
    /linucb/,
  );
  const eps = createPolicy('linegreedy:epsilon=0.3', { k: 16, d: 4, seed: 1 }).snapshot();
  t.regex(
    adoptedPolicy(l.policy, l.settings, { k: 16, d: 4, baselineArm: 4 }, eps) as string,
    /epsilon/,
  );
  const wide = createPolicy('linegreedy:epsilon=0.1', { k: 8, d: 4, seed: 1 }).snapshot();
  t.regex(
    adoptedPolicy(l.policy, l.settings, { k: 16, d: 4, baselineArm: 4 }, wide) as string,
    /k/,
  );
  device.close();
});

test('adoption asks the kernel for LEARNING mode, but leaves a mode the administrator pinned', (t) => {
  const device = simDevice({ kernelOptions: { clock: 'manual', subsystems: ['synthetic'] } });
  const l = learnerOn(device, 'linucb:alpha=1', null);
  const snap = createPolicy('linucb:alpha=1', { k: 16, d: 4, seed: 3 }).snapshot();
  device.setMode(l.id, Mode.Recommendation, false);
  const o = l.adopt(snap, device);
  t.true(o.adopted);
  t.is(o.modeBefore, Mode.Recommendation);
  t.is(o.modeAfter, Mode.Learning);
  t.is(device.getMode(l.id).mode, Mode.Learning);
  device.setMode(l.id, Mode.Collaboration, true);
  const pinned = l.adopt(snap, device);
  t.true(pinned.adopted);
  t.is(pinned.modeAfter, Mode.Collaboration);
  t.regex(pinned.reason!, /pinned by the administrator/);
  const refused = l.adopt(createPolicy('ucb1', { k: 16, d: 0, seed: 1 }).snapshot(), device);
  t.false(refused.adopted);
  device.close();
});

test('config: the example config lists the fleet defaults', (t) => {
  const cfg = loadConfig('packaging/mlproxy.example.yaml', {
    stateDir: '/tmp/s',
    logDir: '/tmp/l',
  });
  t.deepEqual(cfg.fleet, DEFAULT_FLEET_SETTINGS);
});

test('config: the fleet section is validated with fixes named', (t) => {
  const cfg = parseConfig(
    'fleet:\n  server: nats://10.0.0.1:4222\n  name: prod\n  queueSize: 500\n',
    'x.yaml',
  );
  t.is(cfg.fleet?.server, 'nats://10.0.0.1:4222');
  const bad = (text: string): string =>
    (t.throws(() => parseConfig(text, 'x.yaml'), { instanceOf: ConfigError }) as ConfigError)
      .message;
  t.regex(bad('fleet:\n  name: "a.b"\n'), /config\.fleet\.name: must be 1 to 64 letters/);
  t.regex(bad('fleet:\n  server: 5\n'), /config\.fleet\.server: must be a NATS URL/);
  t.regex(bad('fleet:\n  queueSiz: 5\n'), /did you mean "queueSize"/);
  t.regex(bad('fleet:\n  train:\n    rollout: 2\n'), /config\.fleet\.train\.rollout: must be <= 1/);
  t.regex(
    bad('fleet:\n  train:\n    policy: lnucb\n'),
    /config\.fleet\.train\.policy: unknown policy/,
  );
});
