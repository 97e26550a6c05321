/** Shared set-up for the daemon tests: temp dirs, a silent logger, an in-process daemon. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { applyOverrides, loadConfig } from '../../src/config/load.js';
import type { DaemonConfig } from '../../src/config/schema.js';
import { Daemon } from '../../src/loop/daemon.js';
import type { DaemonOptions } from '../../src/loop/daemon.js';
import type { MlpDevice } from '../../src/transport/device.js';
import { simDevice as openSim } from '../../src/transport/sim/fake-kernel.js';
import type { SimKernelOptions } from '../../src/transport/sim/kernel.js';

export function tempDir(prefix = 'mlp-daemon-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A logger that keeps its records in memory. */
export function memoryLogger(level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

export function testConfig(dir: string, edit?: (c: DaemonConfig) => void): DaemonConfig {
  const cfg = applyOverrides(
    loadConfig(undefined, { stateDir: path.join(dir, 'state'), logDir: path.join(dir, 'log') }),
    { sim: true, virtualTime: true },
  );
  edit?.(cfg);
  return cfg;
}

/** The simulated device (IoctlDevice over the fake kernel) on a new auto-clock kernel. */
export function simDevice(opts: SimKernelOptions = {}): MlpDevice {
  return openSim({ kernelOptions: { clock: 'auto', ...opts } });
}

export function makeDaemon(
  cfg: DaemonConfig,
  device: MlpDevice,
  extra: Partial<DaemonOptions> = {},
): { daemon: Daemon; lines: Record<string, unknown>[] } {
  const { logger, lines } = memoryLogger();
  const daemon = new Daemon({ config: cfg, device, logger, runId: 'test', ...extra });
  return { daemon, lines };
}
