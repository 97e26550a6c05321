/**
 * `mlproxy run`: load and validate the config, open the device, run the daemon until a
 * signal, --decisions or --duration stops it, and print a summary.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { ConfigError, applyOverrides, loadConfig } from '../src/config/load.js';
import type { ConfigOverrides } from '../src/config/load.js';
import type { DaemonConfig } from '../src/config/schema.js';
import { Daemon } from '../src/loop/daemon.js';
import type { RunSummary } from '../src/loop/daemon.js';
import { createLogger } from '../src/logging.js';
import type { Logger } from '../src/logging.js';
import { ABI_MAJOR, ABI_MINOR } from '../src/abi/constants.js';
import { DaemonMetrics } from '../src/metrics/metrics.js';
import { StorageError } from '../src/storage/io.js';
import { DirLockedError } from '../src/storage/lock.js';
import { DeviceError } from '../src/transport/device.js';
import type { MlpDevice } from '../src/transport/device.js';
import { openDevice } from '../src/transport/open-device.js';
import type { SimKernelOptions } from '../src/transport/sim/kernel.js';
import { EXIT } from './exit-codes.js';
import { systemdNotifier } from './systemd.js';
import { packageVersion } from './version.js';
import {
  parseDuration,
  parseIntArg,
  parseLogLevel,
  parsePolicy,
  parsePositiveNumber,
} from './options.js';

/** Defaults that make `mlproxy run --sim` (and so `npm start`) a short, lively demo. */
export const SIM_DEMO = {
  durationMs: 20000,
  /** Short windows compress time: the 20 s demo spans about 10,000 kernel windows. */
  windowMs: 2,
  progressSeconds: 3,
  /** Synthetic phases of 2500 windows (5 s): the demo goes through all four phases. */
  syntheticPeriod: 2500,
};

interface RunFlags {
  config?: string;
  sim?: boolean;
  virtualTime?: boolean;
  simWindowMs?: number;
  device?: string;
  stateDir?: string;
  logDir?: string;
  logLevel?: DaemonConfig['logLevel'];
  policy?: string;
  seed?: number;
  decisions?: number;
  duration?: number;
  metricsPort?: number;
  progress?: number;
  checkpointEvery?: number;
  pretty?: boolean;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the tuner daemon (on /dev/mlproxy, or on the simulated device with --sim)')
    .option('-c, --config <file>', 'config file, YAML or JSON (see packaging/mlproxy.example.yaml)')
    .option(
      '--sim',
      `run on the embedded simulated device (demo defaults: ${SIM_DEMO.windowMs} ms windows, synthetic phases of ${SIM_DEMO.syntheticPeriod} windows, --duration ${SIM_DEMO.durationMs / 1000}s, progress every ${SIM_DEMO.progressSeconds} s)`,
    )
    .option('--virtual-time', 'with --sim: virtual time that runs as fast as the loop (tests)')
    .option('--sim-window-ms <ms>', 'with --sim: window length in ms', parseIntArg(1, 3600000))
    .option('--device <path>', 'device node (default /dev/mlproxy)')
    .option('--state-dir <dir>', 'checkpoints and status file')
    .option('--log-dir <dir>', 'decision log (decisions.jsonl, rotated)')
    .addOption(
      new Option(
        '--log-level <level>',
        'trace, debug, info, warn, error, fatal or silent',
      ).argParser(parseLogLevel),
    )
    .option('--policy <spec>', 'policy for every subsystem, e.g. "linucb:alpha=1"', parsePolicy)
    .option('--seed <n>', 'seed of the policies', parseIntArg(0, 4294967295))
    .option('--decisions <n>', 'stop after n decisions', parseIntArg(1, Number.MAX_SAFE_INTEGER))
    .option(
      '--duration <time>',
      'stop after this long, e.g. 20s, 5m (0 = until a signal)',
      parseDuration,
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics on 127.0.0.1:port (0 = any free port)',
      parseIntArg(0, 65535),
    )
    .option(
      '--progress <seconds>',
      'seconds between progress lines (0 = none)',
      parsePositiveNumber,
    )
    .option('--checkpoint-every <n>', 'checkpoint every n decisions', parseIntArg(1, 1e9))
    .option('--no-pretty', 'JSON log lines even on a terminal')
    .action(async (flags: RunFlags) => {
      process.exitCode = await runCommand(flags);
    });
}

function overridesOf(flags: RunFlags): ConfigOverrides {
  return {
    device: flags.device,
    sim: flags.sim,
    virtualTime: flags.virtualTime,
    simWindowMs: flags.simWindowMs,
    stateDir: flags.stateDir,
    logDir: flags.logDir,
    logLevel: flags.logLevel,
    policy: flags.policy,
    seed: flags.seed,
    metricsPort: flags.metricsPort,
    progressSeconds: flags.progress,
    checkpointEvery: flags.checkpointEvery,
  };
}

function resolveConfig(flags: RunFlags): DaemonConfig {
  const cfg = applyOverrides(loadConfig(flags.config), overridesOf(flags));
  if (cfg.sim.enabled && cfg.sim.clock === 'real') {
    if (cfg.sim.windowMs === null) cfg.sim.windowMs = SIM_DEMO.windowMs;
    if (cfg.sim.syntheticPeriod === null) cfg.sim.syntheticPeriod = SIM_DEMO.syntheticPeriod;
    if (flags.progress === undefined && cfg.progressSeconds === 0) {
      cfg.progressSeconds = SIM_DEMO.progressSeconds;
    }
  }
  return cfg;
}

export function simKernelOptions(cfg: DaemonConfig): SimKernelOptions {
  const s = cfg.sim;
  const windowMs = s.windowMs ?? undefined;
  return {
    clock: s.clock,
    synthetic: {
      seed: s.seed,
      windowMs,
      ...(s.syntheticPeriod !== null ? { period: s.syntheticPeriod } : {}),
    },
    readahead: { seed: (s.seed + 1) >>> 0, windowMs },
  };
}

function openFor(cfg: DaemonConfig): MlpDevice {
  return openDevice(
    cfg.sim.enabled ? { sim: true, simOptions: simKernelOptions(cfg) } : { path: cfg.device },
  );
}

function printSummary(log: Logger, s: RunSummary): void {
  const lines = [
    `summary: ${s.decisions} decisions in ${(s.elapsedMs / 1000).toFixed(1)} s on ${s.device} (${s.stopReason})` +
      (s.resumedFrom
        ? '; per-subsystem figures include the runs before, resumed from checkpoints'
        : ''),
    ...s.subsystems.map((x) => {
      const r = x.meanReward === null ? '-' : x.meanReward.toFixed(3);
      const below =
        x.belowBaselineShare === null ? '-' : `${(100 * x.belowBaselineShare).toFixed(1)}%`;
      const verdicts = Object.entries(x.verdicts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      return `  ${x.name}: mode ${x.mode}, ${x.decisions} decisions (${x.fallbackDecisions} safety fallbacks, ${x.collapses} collapses), ${x.updates} updates, mean reward ${r} (baseline 0.5), ${below} of advice windows below baseline; verdicts: ${verdicts || 'none'}`;
    }),
    `  checkpoint: ${s.lastCheckpoint ?? 'none'}`,
  ];
  log.info(lines.join('\n'));
}

export async function runCommand(flags: RunFlags): Promise<number> {
  let cfg: DaemonConfig;
  try {
    cfg = resolveConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`mlproxy: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  const log = createLogger({
    level: cfg.logLevel,
    pretty: flags.pretty === false ? false : undefined,
  });
  const durationMs =
    flags.duration !== undefined
      ? flags.duration || undefined
      : cfg.sim.enabled && cfg.sim.clock === 'real' && flags.decisions === undefined
        ? SIM_DEMO.durationMs
        : undefined;

  let device: MlpDevice;
  try {
    device = openFor(cfg);
  } catch (err) {
    if (err instanceof DeviceError) {
      log.error(`cannot open the device: ${err.message}`);
      if (!process.stderr.isTTY || !process.stdout.isTTY) {
        process.stderr.write(`mlproxy: cannot open the device: ${err.message}\n`);
      }
      return err.code === 'ENOENT' ? EXIT.deviceMissing : EXIT.failure;
    }
    throw err;
  }
  if (device.simulated) {
    log.warn(
      `the device is SIMULATED (${device.description}, ${cfg.sim.windowMs ?? 'default'} ms windows): no kernel is being tuned` +
        (durationMs ? `; stopping after ${durationMs / 1000} s (Ctrl-C stops earlier)` : ''),
    );
  }

  const notifier = systemdNotifier({ onError: (m) => log.warn(m) });
  // Node's process metrics start only if metrics are served (Daemon.startMetrics).
  const metrics = new DaemonMetrics({
    version: packageVersion(),
    abi: `${ABI_MAJOR}.${ABI_MINOR}`,
  });
  // The fleet link (docs/fleet.md), loaded only when fleet.server is set; the loop never
  // waits on it.
  const fleet =
    cfg.fleet.server === null
      ? undefined
      : await (
          await import('../src/fleet/host.js')
        ).startFleetHost(cfg.fleet, cfg.stateDir, log, metrics.registry);
  const daemon = new Daemon({
    config: cfg,
    device,
    reopenDevice: () => openFor(cfg),
    logger: log,
    metrics,
    hooks: fleet?.hooks,
    maxDecisions: flags.decisions,
    durationMs,
    onAlive: () => notifier.alive(),
    onStarted: () => notifier.ready(`tuning ${device.description}`),
  });
  const onStop = (signal: NodeJS.Signals) => {
    log.info(`${signal}: finishing the current step, then checkpoint and exit`);
    daemon.requestStop(signal);
  };
  const onHup = () => {
    if (!flags.config) {
      log.warn('SIGHUP: no --config file to reload');
      return;
    }
    let next: DaemonConfig;
    try {
      next = resolveConfig(flags);
    } catch (err) {
      log.error(`SIGHUP: config reload failed, keeping the old config: ${(err as Error).message}`);
      return;
    }
    daemon.reload(next).catch((err: Error) => log.error(`SIGHUP: reload failed: ${err.message}`));
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  const tellStderr = (message: string) => {
    if (!process.stderr.isTTY || !process.stdout.isTTY)
      process.stderr.write(`mlproxy: ${message}\n`);
  };
  try {
    const summary = await daemon.run();
    printSummary(log, summary);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof DirLockedError || err instanceof ConfigError) {
      log.error(err.message);
      tellStderr(err.message);
      return EXIT.usage;
    }
    if (err instanceof StorageError) {
      log.error(
        { path: err.path, code: err.code },
        `stopped: ${err.message}. The device was closed, so the kernel runs its baseline; start the daemon again once this is fixed`,
      );
      tellStderr(err.message);
      return EXIT.failure;
    }
    log.error({ err }, `stopped by an error: ${(err as Error).message}`);
    return EXIT.failure;
  } finally {
    notifier.stopping();
    await fleet?.close();
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('SIGHUP', onHup);
  }
}
