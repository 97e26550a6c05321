/**
 * In the QEMU guest: the device conformance suite (test/conformance/suite.ts), the
 * same one `npm test` runs on SimDevice, against IoctlDevice on the real
 * /dev/mlproxy. Run by scripts/vm/test-vm.sh (node:test, as root in the guest).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { IoctlDevice } from '../../src/transport/ioctl-device.js';
import { conformanceSuite } from '../conformance/suite.js';
import {
  DEVICE_PATH,
  kernelMark,
  kernelProblems,
  loadModule,
  unloadModule,
} from './helpers/guest.js';

/** Short windows keep the real-time waits short; the suite reads windowMs itself. */
const PARAMS = {
  synth_window_ms: 20,
  synth_period: 100, // phase boundaries every 2 s: the paired-judgement test needs one
  learning_period: 4,
  check_period: 4,
  heartbeat_ms: 300,
  emergency_hold_windows: 3,
  max_epoch_lag: 1,
  ring_records: 32,
} as const;

before(() => {
  kernelMark('conformance suite');
  loadModule(PARAMS);
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
    },
    slackMs: 10000,
  },
  'ioctl',
);
