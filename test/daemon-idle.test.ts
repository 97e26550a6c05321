/**
 * The idle daemon (issue 10 item 8): no advice after an idle window, one wake-up per
 * IDLE_WAIT_MS while every subsystem is idle (the heartbeat still kept), and no timed
 * checkpoint without a decision or a reward since the last one.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointStore } from '../src/checkpoint/store.js';
import { readDecisionLog } from '../src/decisionlog/index.js';
import { IDLE_RUN_WINDOWS, IDLE_WAIT_MS } from '../src/loop/daemon.js';
import type { CheckpointPayload } from '../src/loop/daemon.js';
import { makeDaemon, simDevice, tempDir, testConfig } from './helpers/daemon-harness.js';

const IDLE_EVERY = 3;

test('no advice for the window after an idle one: the kernel runs its baseline there', async (t) => {
  const dir = tempDir();
  const cfg = testConfig(dir);
  const device = simDevice({ subsystems: ['selftest'], selftest: { idleEvery: IDLE_EVERY } });
  const { daemon } = makeDaemon(cfg, device, { maxDecisions: 200 });
  await daemon.run();
  const decisions = readDecisionLog(path.join(dir, 'log', 'decisions.jsonl')).decisions;
  t.true(decisions.length >= 200);
  // The decision at epoch e (the window in progress) is for window e + 1; window e - 1,
  // the one that just ended, was not idle (epoch % idleEvery == idleEvery - 1 is idle).
  for (const d of decisions) {
    t.not((d.epoch - 1) % IDLE_EVERY, IDLE_EVERY - 1, `decision at epoch ${d.epoch}`);
  }
  const last = new CheckpointStore(cfg.stateDir, 3).loadLatest<CheckpointPayload>()!;
  const stats = last.payload.learners.find((l) => l.name === 'selftest')!.stats;
  t.true((stats.idleSkips ?? 0) > 0, 'advice windows after idle ones were counted');
});

test('every window idle: one read per IDLE_WAIT_MS, the heartbeat kept, no timed checkpoint', async (t) => {
  const dir = tempDir();
  const cfg = testConfig(dir, (c) => {
    c.sim.clock = 'real';
    c.checkpoint.everySeconds = 0.2;
  });
  // idleEvery 1: every window is idle; 20 ms windows; the kernel's heartbeat timeout
  // 1500 ms (the daemon's heartbeatMs 500 + one idle wait, with 500 ms to spare).
  const device = simDevice({
    clock: 'real',
    params: { heartbeatMs: 1500 },
    subsystems: ['selftest'],
    selftest: { windowMs: 20, idleEvery: 1 },
  });
  let waits = 0;
  const wait = device.waitFeedback.bind(device);
  device.waitFeedback = (ms: number) => {
    waits++;
    return wait(ms);
  };
  const durationMs = 3 * IDLE_WAIT_MS + 400;
  const { daemon } = makeDaemon(cfg, device, { durationMs });
  const id = device.listSubsystems()[0].id;
  let atEnd: { controlled: boolean; heartbeatMisses: number } | undefined;
  const probe = setTimeout(() => {
    atEnd = device.getStatus(id);
  }, durationMs - 100);
  const summary = await daemon.run();
  clearTimeout(probe);
  t.is(summary.decisions, 0, 'no advice in idle windows');
  t.true(atEnd?.controlled, 'still the controller near the end');
  t.is(atEnd?.heartbeatMisses, 0, 'the heartbeats kept control through the idle waits');
  // Per window (20 ms) that would be about 85 reads; idle: the first IDLE_RUN_WINDOWS
  // windows, then one per IDLE_WAIT_MS (a slow machine only makes fewer).
  t.true(waits <= IDLE_RUN_WINDOWS + 2 + durationMs / IDLE_WAIT_MS + 2, `${waits} reads`);
  // Only the checkpoint at exit, although everySeconds passed several times.
  const checkpoints = fs.readdirSync(cfg.stateDir).filter((f) => /^checkpoint-\d+\.json$/.test(f));
  t.is(checkpoints.length, 1);
});
