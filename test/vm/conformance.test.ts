/**
 * In the QEMU guest: the device conformance suite (test/conformance/suite.ts), the
 * same one `npm test` runs on the simulator (IoctlDevice over the fake kernel), against
 * IoctlDevice on the real
 * /dev/mlproxy, with the synthetic subsystem and mlproxy_selftest.ko's `selftest`
 * (the ladder tests' noiseless subsystem, and the second subsystem the suite may
 * unregister and register again), with the parameters of
 * test/conformance/guest-params.ts. Run by scripts/vm/test-vm.sh (node:test, as root
 * in the guest).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { IoctlDevice } from '../../src/transport/ioctl-device.js';
import { GUEST_CONFORMANCE, GUEST_PARAMS, GUEST_SELFTEST } from '../conformance/guest-params.js';
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

before(() => {
  kernelMark('conformance suite');
  loadModule(GUEST_PARAMS, { selftest: GUEST_SELFTEST });
});

after(() => {
  unloadModule();
  assert.deepEqual(kernelProblems(), [], 'no kernel warnings or oopses');
});

conformanceSuite(
  (name, fn) => test(name, fn),
  {
    open: () => new IoctlDevice(DEVICE_PATH),
    params: GUEST_CONFORMANCE,
    slackMs: 10000,
    removable: {
      name: 'selftest',
      remove: () => rmmod('mlproxy_selftest'),
      restore: () => insmod('mlproxy_selftest', GUEST_SELFTEST),
    },
  },
  'ioctl',
);
