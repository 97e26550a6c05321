/** The fleet tests' server: started per test file, or skipped (or failed, in CI) without one. */
import type { TestFn } from 'ava';
import type { FleetEvaluation } from '../../src/fleet/pointer.js';
import {
  NATS_PACKAGE_HINT,
  NatsServer,
  natsRequired,
  natsServerBinary,
} from '../../scripts/fleet/nats-server.js';

export * from '../../scripts/fleet/fleet-sim.js';
export { NatsServer, freePort } from '../../scripts/fleet/nats-server.js';

/** The server for a test file, or null (and the reason) when the tests must skip. */
export async function startServerOrSkip(): Promise<NatsServer | null> {
  const bin = natsServerBinary();
  if (!bin) {
    if (natsRequired()) throw new Error(`MLP_REQUIRE_NATS=1: ${NATS_PACKAGE_HINT}`);
    return null;
  }
  return NatsServer.start(bin);
}

/** Registers a placeholder that says why the fleet tests are skipped. */
export function skipWithoutServer(test: TestFn): boolean {
  if (natsServerBinary() || natsRequired()) return false;
  test.skip(`fleet tests against a real server: ${NATS_PACKAGE_HINT}`, () => {});
  return true;
}

/** A gate result for snapshots made by hand in tests. */
export function evaluationStub(): FleetEvaluation {
  const e = (value: number, lo: number, hi: number) => ({ value, lo, hi, n: 1 });
  return {
    estimator: 'test',
    samples: 1,
    hosts: 1,
    logged: e(0.5, 0.5, 0.5),
    candidate: e(0.9, 0.8, 1),
    baseline: e(0.5, 0.4, 0.6),
    vsBaseline: e(0.4, 0.3, 0.5),
    current: null,
  };
}
