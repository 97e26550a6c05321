/**
 * Simulated hosts (a daemon on its own simulated kernel, with the fleet link) and an
 * in-process trainer, for `npm run demo:fleet` and the fleet tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { applyOverrides, loadConfig } from '../../src/config/load.js';
import type { DaemonConfig, FleetSettings } from '../../src/config/schema.js';
import { DEFAULT_FLEET_SETTINGS } from '../../src/config/schema.js';
import { FleetHost } from '../../src/fleet/host.js';
import { FleetTrainer } from '../../src/fleet/trainer.js';
import { Daemon } from '../../src/loop/daemon.js';
import type { AdoptionOutcome, DaemonHooks, HookContext } from '../../src/loop/hooks.js';
import type { MlpDevice } from '../../src/transport/device.js';
import { simDevice } from '../../src/transport/sim/fake-kernel.js';
import { SimKernel } from '../../src/transport/sim/kernel.js';
import { memoryLogger, tempDir } from '../../test/helpers/daemon-harness.js';

export { memoryLogger, tempDir };
import type { SimKernelOptions } from '../../src/transport/sim/kernel.js';

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

export interface SimHost {
  name: string;
  dir: string;
  kernel: SimKernel;
  cfg: DaemonConfig;
  /** The fleet link, or null for a host that learns alone. */
  fleet: FleetHost | null;
  /** msgIds of every record this host produced (what the fleet should hold or have dropped). */
  produced: Set<string>;
  outcomes: AdoptionOutcome[];
  decisions: number;
  lines: Record<string, unknown>[];
  device?: MlpDevice;
  /** Called with each decision (e.g. to kill the server mid-run). */
  onDecision?: (n: number) => void;
}

export function makeHost(
  name: string,
  fleet: FleetSettings | null,
  kernelOptions: SimKernelOptions,
  edit?: (c: DaemonConfig) => void,
): SimHost {
  const dir = tempDir(`mlp-fleet-${name}-`);
  const cfg = applyOverrides(
    loadConfig(undefined, { stateDir: path.join(dir, 'state'), logDir: path.join(dir, 'log') }),
    { sim: true, virtualTime: true },
  );
  if (fleet) cfg.fleet = structuredClone({ ...fleet, host: name });
  edit?.(cfg);
  const { logger, lines } = memoryLogger(process.env.MLP_FLEET_DEBUG ? 'debug' : 'info');
  const fh = fleet ? new FleetHost({ settings: cfg.fleet, stateDir: cfg.stateDir, logger }) : null;
  const host: SimHost = {
    name,
    dir,
    kernel: new SimKernel({ clock: 'auto', ...kernelOptions }),
    cfg,
    fleet: fh,
    produced: new Set(),
    outcomes: [],
    decisions: 0,
    lines,
  };
  fh?.start();
  return host;
}

/** Hooks that record what the host produced and the adoptions, around the fleet link's. */
function observedHooks(h: SimHost): DaemonHooks {
  const inner = h.fleet?.hooks ?? {};
  const note = (ctx: HookContext, type: string, id: string): void => {
    h.produced.add(`${h.name}/${id}/${type}`);
    void ctx;
  };
  return {
    attached: (abi, subs) => inner.attached?.(abi, subs),
    decision: (ctx, record) => {
      note(ctx, 'decision', record.id);
      h.decisions++;
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

/**
 * Runs the host's daemon for `decisions` more decisions on its kernel (state resumes), or
 * until `stopWhen` holds after a decision.
 */
export async function runHost(
  h: SimHost,
  decisions: number,
  stopWhen?: () => boolean,
): Promise<void> {
  // One open file for the host's whole life: closing it would drop the kernel to
  // EMERGENCY between chunks (a daemon restart), which is not what these runs model.
  h.device ??= simDevice({ kernel: h.kernel });
  const open = h.device;
  const device = new Proxy(open, {
    get: (target, key) => {
      if (key === 'close') return () => {};
      const v: unknown = Reflect.get(target, key);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const logger = memoryLogger('warn').logger;
  const daemon = new Daemon({
    config: h.cfg,
    device,
    logger,
    runId: `run${h.decisions}`,
    maxDecisions: decisions,
    hooks: observedHooks(h),
  });
  const before = h.onDecision;
  if (stopWhen) {
    h.onDecision = (n) => {
      before?.(n);
      if (stopWhen()) daemon.requestStop('measured');
    };
  }
  try {
    await daemon.run();
  } finally {
    h.onDecision = before;
  }
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
