/**
 * In the QEMU guest: the device conformance suite (test/conformance/suite.ts), the
 * same one `npm test` runs on SimDevice, against IoctlDevice on the real
 * /dev/mlproxy, with the synthetic subsystem and mlproxy_selftest.ko's `selftest`
 * (the ladder tests' noiseless subsystem, and the second subsystem the suite may
 * unregister and register again). Run by
 * scripts/vm/test-vm.sh (node:test, as root in the guest).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { IoctlDevice } from '../../src/transport/ioctl-device.js';
import { conformanceSuite } from '../conformance/suite.js';
import {
  DEVICE_PATH,
  insmod,
  kernelMark,
  kernelProblems,
  loadModule,
  rmmod,
  unloadModule,
} from './helpers/guest.js';

/**
 * Short windows keep the real-time waits short; the suite reads windowMs itself. The
 * heartbeat timeout leaves a slow guest 50 windows between two heartbeats (the suite
 * keeps its controllers alive in every wait; only the heartbeat test goes silent).
 */
const PARAMS = {
  synth_window_ms: 20,
  synth_period: 100, // phase boundaries every 2 s: the paired-judgement test needs one
  learning_period: 4,
  check_period: 4,
  heartbeat_ms: 1000,
  emergency_hold_windows: 3,
  // A recommendation may be based on a state 4 windows old: a STALE verdict then needs a
  // caller stalled for 100 ms between GET_STATE and RECOMMEND (the stale test adapts).
  max_epoch_lag: 4,
  // Two subsystems of 20 ms windows fill it in 1.3 s of not reading (a slow guest).
  ring_records: 128,
  // The ladder's defaults, stated: the ladder tests (on selftest) read them.
  promote_windows: 8,
  promote_margin_pct: 2,
  demote_margin_pct: 5,
  collapse_pct: 50,
} as const;
const SELFTEST = { window_ms: 20 } as const;

before(() => {
  kernelMark('conformance suite');
  loadModule(PARAMS, { selftest: SELFTEST });
});

after(() => {
  unloadModule();
  assert.deepEqual(kernelProblems(), [], 'no kernel warnings or oopses');
});

conformanceSuite(
  (name, fn) => test(name, fn),
  {
    open: () => new IoctlDevice(DEVICE_PATH),
    params: {
      learningPeriod: PARAMS.learning_period,
      checkPeriod: PARAMS.check_period,
      syntheticPeriod: PARAMS.synth_period,
      heartbeatMs: PARAMS.heartbeat_ms,
      emergencyHoldWindows: PARAMS.emergency_hold_windows,
      maxEpochLag: PARAMS.max_epoch_lag,
      ringRecords: PARAMS.ring_records,
      promoteWindows: PARAMS.promote_windows,
      promoteMarginPct: PARAMS.promote_margin_pct,
      demoteMarginPct: PARAMS.demote_margin_pct,
      collapsePct: PARAMS.collapse_pct,
    },
    slackMs: 10000,
    removable: {
      name: 'selftest',
      remove: () => rmmod('mlproxy_selftest'),
      restore: () => insmod('mlproxy_selftest', SELFTEST),
    },
  },
  'ioctl',
);
