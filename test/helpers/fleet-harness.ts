/** Simulated hosts and a trainer on a real nats-server, for the fleet tests and the demo. */
import fs from 'node:fs';
import path from 'node:path';
import type { TestFn } from 'ava';
import { applyOverrides, loadConfig } from '../../src/config/load.js';
import type { DaemonConfig, FleetSettings } from '../../src/config/schema.js';
import { DEFAULT_FLEET_SETTINGS } from '../../src/config/schema.js';
import { FleetHost } from '../../src/fleet/host.js';
import { FleetTrainer } from '../../src/fleet/trainer.js';
import { Daemon } from '../../src/loop/daemon.js';
import type { AdoptionOutcome, DaemonHooks, HookContext } from '../../src/loop/hooks.js';
import { SimDevice } from '../../src/transport/sim/sim-device.js';
import { SimKernel } from '../../src/transport/sim/kernel.js';
import type { SimKernelOptions } from '../../src/transport/sim/kernel.js';
import { memoryLogger, tempDir } from './daemon-harness.js';
import { NATS_PACKAGE_HINT, NatsServer, natsRequired, natsServerBinary } from './nats-server.js';

export function fleetSettings(
  server: string,
  name: string,
  edit?: (f: FleetSettings) => void,
): FleetSettings {
  const f = structuredClone(DEFAULT_FLEET_SETTINGS);
  f.server = server;
  f.name = name;
  f.startupWaitMs = 0;
  f.drainMs = 0;
  edit?.(f);
  return f;
}

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

export interface SimHost {
  name: string;
  dir: string;
  kernel: SimKernel;
  cfg: DaemonConfig;
  fleet: FleetHost;
  /** msgIds of every record this host produced (what the fleet should hold or have dropped). */
  produced: Set<string>;
  outcomes: AdoptionOutcome[];
  /** Kernel mode at each decision, with the fleet version in use. */
  modes: { mode: number; version: number | null }[];
  decisions: number;
  lines: Record<string, unknown>[];
  device?: SimDevice;
  /** Called with each decision (e.g. to kill the server mid-run). */
  onDecision?: (n: number) => void;
}

export function makeHost(
  name: string,
  fleet: FleetSettings,
  kernelOptions: SimKernelOptions,
  edit?: (c: DaemonConfig) => void,
): SimHost {
  const dir = tempDir(`mlp-fleet-${name}-`);
  const cfg = applyOverrides(
    loadConfig(undefined, { stateDir: path.join(dir, 'state'), logDir: path.join(dir, 'log') }),
    { sim: true, virtualTime: true },
  );
  cfg.fleet = structuredClone({ ...fleet, host: name });
  edit?.(cfg);
  const { logger, lines } = memoryLogger('info');
  const fh = new FleetHost({ settings: cfg.fleet, stateDir: cfg.stateDir, logger });
  const host: SimHost = {
    name,
    dir,
    kernel: new SimKernel({ clock: 'auto', ...kernelOptions }),
    cfg,
    fleet: fh,
    produced: new Set(),
    outcomes: [],
    modes: [],
    decisions: 0,
    lines,
  };
  fh.start();
  return host;
}

/** Hooks that record what the host produced and the adoptions, around the fleet link's. */
function observedHooks(h: SimHost): DaemonHooks {
  const inner = h.fleet.hooks;
  const note = (ctx: HookContext, type: string, id: string): void => {
    h.produced.add(`${h.name}/${id}/${type}`);
    void ctx;
  };
  return {
    attached: (abi, subs) => inner.attached?.(abi, subs),
    decision: (ctx, record) => {
      note(ctx, 'decision', record.id);
      h.decisions++;
      h.modes.push({
        mode: ctx.mode,
        version: h.fleet.status().subsystems[ctx.subsystem.name]?.adoptedVersion ?? null,
      });
      inner.decision?.(ctx, record);
      h.onDecision?.(h.decisions);
    },
    reward: (ctx, record, updated) => {
      note(ctx, 'reward', record.id);
      inner.reward?.(ctx, record, updated);
    },
    takeAdoptions: () =>
      (inner.takeAdoptions?.() ?? []).map((r) => ({
        ...r,
        settle: (o: AdoptionOutcome) => {
          h.outcomes.push(o);
          r.settle(o);
        },
      })),
  };
}

/** Runs the host's daemon for `decisions` more decisions on its kernel (state resumes). */
export async function runHost(h: SimHost, decisions: number): Promise<void> {
  // One open file for the host's whole life: closing it would drop the kernel to
  // EMERGENCY between chunks (a daemon restart), which is not what these runs model.
  h.device ??= new SimDevice({ kernel: h.kernel });
  const device = Object.create(h.device, { close: { value: () => {} } }) as SimDevice;
  const logger = memoryLogger('warn').logger;
  const daemon = new Daemon({
    config: h.cfg,
    device,
    logger,
    runId: `run${h.decisions}`,
    maxDecisions: decisions,
    hooks: observedHooks(h),
  });
  await daemon.run();
}

export function makeTrainer(
  fleet: FleetSettings,
  policy: string,
  dir = tempDir('mlp-trainer-'),
): { trainer: FleetTrainer; run: Promise<void>; dir: string; lines: Record<string, unknown>[] } {
  const { logger, lines } = memoryLogger('info');
  const trainer = new FleetTrainer({
    settings: fleet,
    policyFor: () => policy,
    stateDir: dir,
    logger,
    name: 'test-trainer',
  });
  return { trainer, run: trainer.run(), dir, lines };
}

/** Polls `cond` every 50 ms until it holds or timeoutMs passes (generous: shared cores). */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}
