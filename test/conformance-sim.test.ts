import test from 'ava';
import { SimKernel } from '../src/transport/sim/kernel.js';
import { ReadaheadModel } from '../src/transport/sim/readahead.js';
import { SimDevice } from '../src/transport/sim/sim-device.js';
import { conformanceSuite } from './conformance/suite.js';

// One simulated kernel on a virtual clock, shared by every file the suite opens,
// like the one module in the guest; with selftest, for the ladder tests (the guest
// loads mlproxy_selftest.ko).
const kernel = new SimKernel({
  clock: 'manual',
  subsystems: ['synthetic', 'readahead', 'selftest'],
});
conformanceSuite(
  (name, fn) =>
    test.serial(name, async (t) => {
      await fn();
      t.pass();
    }),
  {
    open: () => new SimDevice({ kernel }),
    openUnprivileged: () => new SimDevice({ kernel, privileged: false }),
    clock: {
      advanceWindows: (id, n) => kernel.advanceWindows(id, n),
      advanceMs: (ms) => kernel.advanceMs(ms),
    },
    params: kernel.params,
    removable: {
      name: 'readahead',
      remove: () => kernel.unregister('readahead'),
      restore: () => void kernel.register(new ReadaheadModel()),
    },
  },
  'sim',
);
