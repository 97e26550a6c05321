/** The fleet tests' server: started per test file, or skipped (or failed, in CI) without one. */
import type { TestFn } from 'ava';
import {
  NATS_PACKAGE_HINT,
  NatsServer,
  natsRequired,
  natsServerBinary,
} from '../../scripts/demo/nats-server.js';

export * from '../../scripts/demo/fleet-sim.js';
export { NatsServer, freePort } from '../../scripts/demo/nats-server.js';

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
