/**
 * `mlproxy train` (the fleet's trainer) and `mlproxy fleet status|pin|unpin|rollout`
 * (the operator's view and controls of the fleet's policy pointers). docs/fleet.md.
 * Loaded lazily by main.ts, so that `run` and `status` do not load the trainer.
 */
import nodePath from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { ConfigError, loadConfig, settingsFor } from '../src/config/load.js';
import type { DaemonConfig } from '../src/config/schema.js';
import { connectFleet, openStores } from '../src/fleet/connection.js';
import { pointerKey, streamName } from '../src/fleet/names.js';
import { parsePointer } from '../src/fleet/pointer.js';
import type { PolicyObject, PolicyPointer } from '../src/fleet/pointer.js';
import { FleetTrainer } from '../src/fleet/trainer.js';
import { createLogger } from '../src/logging.js';
import { DaemonMetrics, startMetricsServer } from '../src/metrics/metrics.js';
import { sha256Hex } from '../src/fleet/names.js';
import { EXIT } from './exit-codes.js';
import { parseDuration, parseIntArg, parseLogLevel } from './options.js';
import os from 'node:os';

interface FleetFlags {
  config?: string;
  server?: string;
  fleet?: string;
}

interface TrainFlags extends FleetFlags {
  stateDir?: string;
  duration?: number;
  metricsPort?: number;
  logLevel?: DaemonConfig['logLevel'];
  pretty?: boolean;
}

function fleetConfig(flags: FleetFlags): DaemonConfig {
  const cfg = loadConfig(flags.config);
  if (flags.server !== undefined) cfg.fleet.server = flags.server;
  if (flags.fleet !== undefined) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(flags.fleet)) {
      throw new ConfigError(
        [`--fleet: must be 1 to 64 letters, digits, "_" or "-", got "${flags.fleet}"`],
        'command line',
      );
    }
    cfg.fleet.name = flags.fleet;
  }
  if (cfg.fleet.server === null) {
    throw new ConfigError(
      ['fleet.server is not set; give --server nats://HOST:4222 or set fleet.server in the config'],
      flags.config ?? 'command line',
    );
  }
  return cfg;
}

function withFleetOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file (its fleet section; see docs/fleet.md)')
    .option(
      '--server <url>',
      'NATS server URL, e.g. nats://127.0.0.1:4222 (overrides fleet.server)',
    )
    .option('--fleet <name>', 'fleet name (overrides fleet.name)');
}

export function registerFleetCommands(program: Command): void {
  withFleetOptions(
    program
      .command('train')
      .description(
        "the fleet's trainer: consume every host's decisions and rewards, learn per subsystem, gate each candidate off-policy, publish what passes",
      ),
  )
    .option('--state-dir <dir>', "the trainer's checkpoints (default <stateDir>/trainer)")
    .option('--duration <time>', 'stop after this long (0 = until a signal)', parseDuration)
    .option('--metrics-port <port>', 'Prometheus metrics on 127.0.0.1:port', parseIntArg(0, 65535))
    .addOption(new Option('--log-level <level>', 'log level').argParser(parseLogLevel))
    .option('--no-pretty', 'JSON log lines even on a terminal')
    .action(async (flags: TrainFlags) => {
      process.exitCode = await trainCommand(flags);
    });

  const fleet = program
    .command('fleet')
    .description("the fleet's policy pointers: status, pin (or roll back), unpin, rollout share");
  withFleetOptions(fleet.command('status').description('pointers, trainer rounds, events stream'))
    .option('--json', 'print JSON')
    .action(async (flags: FleetFlags & { json?: boolean }) => {
      process.exitCode = await fleetStatusCommand(flags);
    });
  withFleetOptions(
    fleet
      .command('pin <subsystem> <version>')
      .description(
        'make <version> the fleet policy of <subsystem> and stop the trainer from replacing it (a rollback when older)',
      ),
  )
    .option('--reason <text>', 'why (shown in status)', 'operator')
    .action(async (subsystem: string, version: string, flags: FleetFlags & { reason: string }) => {
      process.exitCode = await pinCommand(subsystem, version, flags);
    });
  withFleetOptions(
    fleet.command('unpin <subsystem>').description('let the trainer publish new versions again'),
  ).action(async (subsystem: string, flags: FleetFlags) => {
    process.exitCode = await editPointer(
      flags,
      subsystem,
      (p) => ({ ...p, pinned: null }),
      'unpinned',
    );
  });
  withFleetOptions(
    fleet
      .command('rollout <subsystem> <share>')
      .description(
        'set the share of hosts (0..1, by a stable hash of the host) that take the current version',
      ),
  ).action(async (subsystem: string, share: string, flags: FleetFlags) => {
    const s = Number(share);
    if (!(s >= 0 && s <= 1)) {
      process.stderr.write(
        `mlproxy fleet rollout: share must be a number in [0, 1], got "${share}"\n`,
      );
      process.exitCode = EXIT.usage;
      return;
    }
    process.exitCode = await editPointer(
      flags,
      subsystem,
      (p) => ({ ...p, rollout: s }),
      `rollout ${s}`,
    );
  });
}

function configOrExit(flags: FleetFlags, cmd: string): DaemonConfig | number {
  try {
    return fleetConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`mlproxy ${cmd}: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}

export async function trainCommand(flags: TrainFlags): Promise<number> {
  const cfg = configOrExit(flags, 'train');
  if (typeof cfg === 'number') return cfg;
  const log = createLogger({
    level: flags.logLevel ?? cfg.logLevel,
    pretty: flags.pretty === false ? false : undefined,
  });
  const metrics = new DaemonMetrics({ processMetrics: true });
  const trainer = new FleetTrainer({
    settings: cfg.fleet,
    policyFor: (name) => settingsFor(cfg, name)?.policy ?? cfg.defaults.policy,
    stateDir: flags.stateDir
      ? nodePath.resolve(flags.stateDir)
      : nodePath.join(cfg.stateDir, 'trainer'),
    logger: log,
    registry: metrics.registry,
  });
  const port = flags.metricsPort ?? cfg.metrics.port;
  const server = port === null ? undefined : await startMetricsServer(metrics.registry, port);
  if (server) log.info(`metrics on http://127.0.0.1:${server.port}/metrics`);
  const stop = (why: string): void => {
    log.info(`${why}: stopping the trainer`);
    trainer.stop();
  };
  const onSignal = (sig: NodeJS.Signals): void => stop(sig);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const timer = flags.duration
    ? setTimeout(() => stop(`ran for ${flags.duration! / 1000} s`), flags.duration)
    : undefined;
  try {
    await trainer.run();
    log.info(
      `trainer: stopped; ${trainer.stats.messages} messages, ${trainer.stats.samples} samples, ${trainer.rounds.length} rounds (${trainer.rounds.filter((r) => r.verdict === 'published').length} published)`,
    );
    return EXIT.ok;
  } catch (err) {
    log.error(`trainer failed: ${(err as Error).message}`);
    return EXIT.failure;
  } finally {
    clearTimeout(timer);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await server?.close();
  }
}

async function withStores<T>(
  cfg: DaemonConfig,
  cmd: string,
  fn: (s: Awaited<ReturnType<typeof openStores>>) => Promise<T>,
): Promise<T | number> {
  let nc;
  try {
    nc = await connectFleet(cfg.fleet, `mlproxy ${cmd}`);
  } catch (err) {
    process.stderr.write(
      `mlproxy ${cmd}: cannot reach the fleet server ${String(cfg.fleet.server)}: ${(err as Error).message}\n`,
    );
    return EXIT.failure;
  }
  try {
    return await fn(await openStores(nc, cfg.fleet.name));
  } catch (err) {
    process.stderr.write(`mlproxy ${cmd}: ${(err as Error).message}\n`);
    return EXIT.failure;
  } finally {
    await nc.close().catch(() => {});
  }
}

function fmtPointer(p: PolicyPointer): string {
  const e = p.evaluation;
  const pin = p.pinned ? `, PINNED by ${p.pinned.by} at ${p.pinned.at} (${p.pinned.reason})` : '';
  return (
    `v${p.version} (${p.spec}, sha256 ${p.sha256.slice(0, 12)}…, rollout ${p.rollout}, min ABI ${p.minAbi.major}.${p.minAbi.minor}${pin})\n` +
    `    gate: candidate ${e.candidate.value.toFixed(4)} [${e.candidate.lo.toFixed(4)}, ${e.candidate.hi.toFixed(4)}] vs baseline ${e.baseline.value.toFixed(4)}: difference ${e.vsBaseline.value.toFixed(4)} [${e.vsBaseline.lo.toFixed(4)}, ${e.vsBaseline.hi.toFixed(4)}]` +
    (e.current
      ? `; vs v${e.current.version}: ${e.current.difference.value.toFixed(4)} [${e.current.difference.lo.toFixed(4)}, ${e.current.difference.hi.toFixed(4)}]`
      : '') +
    ` (${e.samples} held-out samples, ${e.hosts} hosts, trained on ${p.trainedSamples})`
  );
}

export async function fleetStatusCommand(flags: FleetFlags & { json?: boolean }): Promise<number> {
  const cfg = configOrExit(flags, 'fleet status');
  if (typeof cfg === 'number') return cfg;
  const r = await withStores(cfg, 'fleet status', async (s) => {
    const pointers: PolicyPointer[] = [];
    const trainers: Record<string, unknown> = {};
    for await (const key of await s.kv.keys('>')) {
      const e = await s.kv.get(key);
      if (!e || e.operation !== 'PUT') continue;
      if (key.startsWith('policy.')) pointers.push(parsePointer(e.value));
      else if (key.startsWith('trainer.')) trainers[key.slice('trainer.'.length)] = e.json();
    }
    const si = await s.jsm.streams.info(streamName(cfg.fleet.name));
    const consumers = [];
    for await (const c of s.jsm.consumers.list(streamName(cfg.fleet.name))) {
      consumers.push({ name: c.name, pending: c.num_pending, ackPending: c.num_ack_pending });
    }
    const objects = (await s.objects.list()).map((o) => o.name).sort();
    return {
      fleet: cfg.fleet.name,
      server: cfg.fleet.server,
      stream: {
        name: si.config.name,
        messages: si.state.messages,
        bytes: si.state.bytes,
        firstSeq: si.state.first_seq,
        lastSeq: si.state.last_seq,
        consumers,
      },
      pointers,
      trainers,
      objects,
    };
  });
  if (typeof r === 'number') return r;
  if (flags.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return EXIT.ok;
  }
  const lines = [
    `fleet ${r.fleet} on ${String(r.server)}: stream ${r.stream.name}, ${r.stream.messages} messages (${(r.stream.bytes / 1048576).toFixed(1)} MiB, seq ${r.stream.firstSeq}..${r.stream.lastSeq})`,
    ...r.stream.consumers.map(
      (c) => `  consumer ${c.name}: ${c.pending} pending, ${c.ackPending} unacknowledged`,
    ),
  ];
  if (r.pointers.length === 0) lines.push('no fleet policy published yet');
  for (const p of r.pointers) lines.push(`${p.subsystem}: ${fmtPointer(p)}`);
  for (const [name, t] of Object.entries(r.trainers)) {
    const x = t as {
      trainer: string;
      at: string;
      rounds: number;
      samples: number;
      hosts: string[];
      last: { verdict: string; reason: string };
    };
    lines.push(
      `${name}: trainer ${x.trainer}, ${x.rounds} rounds, ${x.samples} samples from ${x.hosts.length} hosts; last (${x.at}): ${x.last.verdict}: ${x.last.reason}`,
    );
  }
  lines.push(`objects: ${r.objects.join(', ') || 'none'}`);
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}

async function editPointer(
  flags: FleetFlags,
  subsystem: string,
  edit: (p: PolicyPointer) => PolicyPointer,
  what: string,
): Promise<number> {
  const cfg = configOrExit(flags, 'fleet');
  if (typeof cfg === 'number') return cfg;
  const r = await withStores(cfg, 'fleet', async (s) => {
    const e = await s.kv.get(pointerKey(subsystem));
    if (!e || e.operation !== 'PUT')
      throw new Error(`no fleet policy for ${subsystem}; see mlproxy fleet status`);
    const next = edit(parsePointer(e.value));
    await s.kv.update(pointerKey(subsystem), JSON.stringify(next), e.revision);
    process.stdout.write(`${subsystem}: ${what}: ${fmtPointer(next)}\n`);
    return EXIT.ok;
  });
  return r;
}

export async function pinCommand(
  subsystem: string,
  version: string,
  flags: FleetFlags & { reason: string },
): Promise<number> {
  const v = Number(version.replace(/^v/, ''));
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(
      `mlproxy fleet pin: version must be a positive integer such as 3 or v3, got "${version}"\n`,
    );
    return EXIT.usage;
  }
  const cfg = configOrExit(flags, 'fleet pin');
  if (typeof cfg === 'number') return cfg;
  return withStores(cfg, 'fleet pin', async (s) => {
    const e = await s.kv.get(pointerKey(subsystem));
    const cur = e && e.operation === 'PUT' ? parsePointer(e.value) : null;
    const name = `${subsystem}/v${v}.json`;
    const bytes = await s.objects.getBlob(name);
    if (!bytes)
      throw new Error(
        `no object ${name} in the store; see mlproxy fleet status for the versions kept`,
      );
    const obj = JSON.parse(new TextDecoder().decode(bytes)) as PolicyObject;
    const pointer: PolicyPointer = {
      format: 'mlproxy-fleet-pointer',
      v: 1,
      ...obj.header,
      object: name,
      sha256: sha256Hex(bytes),
      bytes: bytes.length,
      rollout: cur?.rollout ?? 1,
      pinned: {
        at: new Date().toISOString(),
        by: `${os.userInfo().username}@${os.hostname()}`,
        reason: flags.reason,
      },
    };
    if (e) await s.kv.update(pointerKey(subsystem), JSON.stringify(pointer), e.revision);
    else await s.kv.create(pointerKey(subsystem), JSON.stringify(pointer));
    process.stdout.write(`${subsystem}: pinned ${fmtPointer(pointer)}\n`);
    return EXIT.ok;
  });
}
