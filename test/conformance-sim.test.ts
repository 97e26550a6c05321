import test from 'ava';
import { simDevice } from '../src/transport/sim/fake-kernel.js';
import { SimKernel } from '../src/transport/sim/kernel.js';
import { ReadaheadModel } from '../src/transport/sim/readahead.js';
import { GUEST_CONFORMANCE, GUEST_PARAMS, GUEST_SELFTEST } from './conformance/guest-params.js';
import { conformanceSuite, type ConformanceParams } from './conformance/suite.js';

/**
 * The suite on one simulated kernel on a virtual clock, shared by every file the suite
 * opens, like the one module in the guest, through the same IoctlDevice and byte codec
 * as the guest run (the fake kernel answers the system calls); with selftest, for the ladder tests (the
 * guest loads mlproxy_selftest.ko). Once with the kernel's defaults, once with the
 * guest run's parameters (test/conformance/guest-params.ts).
 */
function onSim(title: string, kernel: SimKernel, params: Partial<ConformanceParams>): void {
  conformanceSuite(
    (name, fn) =>
      test.serial(name, async (t) => {
        await fn();
        t.pass();
      }),
    {
      open: () => simDevice({ kernel }),
      openUnprivileged: () => simDevice({ kernel, privileged: false }),
      clock: {
        advanceWindows: (id, n) => kernel.advanceWindows(id, n),
        advanceMs: (ms) => kernel.advanceMs(ms),
      },
      params,
      removable: {
        name: 'readahead',
        remove: () => kernel.unregister('readahead'),
        restore: () => void kernel.register(new ReadaheadModel()),
      },
    },
    title,
  );
}

const defaults = new SimKernel({
  clock: 'manual',
  subsystems: ['synthetic', 'readahead', 'selftest'],
});
onSim('sim', defaults, defaults.params);

const { syntheticPeriod, ...guestKernelParams } = GUEST_CONFORMANCE;
onSim(
  "sim with the guest's parameters",
  new SimKernel({
    clock: 'manual',
    subsystems: ['synthetic', 'readahead', 'selftest'],
    params: guestKernelParams,
    synthetic: { windowMs: GUEST_PARAMS.synth_window_ms, period: syntheticPeriod },
    selftest: { windowMs: GUEST_SELFTEST.window_ms },
  }),
  GUEST_CONFORMANCE,
);
