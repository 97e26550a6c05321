/**
 * `mlproxy status`: the device (version, subsystems, modes, kernel counters) and the
 * daemon of the state directory: its status file, checked against the living process
 * (the directory lock answers with the holder's pid; a status file that says "running"
 * for a pid that is gone was left by a daemon that died without a clean exit).
 *
 * The daemon's status is shown whatever the device's state: without /dev/mlproxy the
 * command still prints it (and exits 3). The simulated device lives inside a daemon run
 * with --sim, so `status --sim` shows that daemon's kernel counters from its status file
 * rather than a fresh, unrelated simulation.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import type { Command } from 'commander';
import { ConfigError, applyOverrides, defaultDirs, loadConfig } from '../src/config/load.js';
import type { DaemonConfig } from '../src/config/schema.js';
import { FLEET_STATUS_FILE, formatFleetStatus } from '../src/fleet/status-file.js';
import type { FleetStatus } from '../src/fleet/status-file.js';
import { STATUS_FILE_NAME } from '../src/loop/daemon.js';
import { processAlive } from '../src/storage/io.js';
import { lockHolder } from '../src/storage/lock.js';
import { DeviceError, MODE_NAMES } from '../src/transport/device.js';
import type { MlpDevice, Status, SubsystemInfo, VersionInfo } from '../src/transport/device.js';
import { openDevice } from '../src/transport/open-device.js';
import { EXIT } from './exit-codes.js';

/** StateDirectory=mlproxy of packaging/mlproxy.service. */
const SYSTEMD_STATE_DIR = '/var/lib/mlproxy';

interface StatusFlags {
  config?: string;
  sim?: boolean;
  device?: string;
  stateDir?: string;
  json?: boolean;
}

/** The daemon's status.json as written by the daemon (src/loop/daemon.ts writeStatus). */
interface DaemonStatusFile {
  pid?: number;
  running?: boolean;
  updatedAt?: string;
  stopReason?: string | null;
  error?: string | null;
  device?: string;
  simulated?: boolean;
  lastCheckpoint?: string | null;
  runDecisions?: number;
  subsystems?: { name: string; decisions: number; mode: string; meanReward: number | null }[];
  kernel?: Record<string, Status> | null;
}

export interface DaemonView {
  /** What the process table says now: running (holds the lock), stopped, or died. */
  state: 'running' | 'stopped' | 'died';
  /** The pid that holds the state directory now, when one does. */
  holderPid: number | null;
  file: string;
  status: DaemonStatusFile;
}

export interface StatusReport {
  /** The device inspected, or null when there is none to open. */
  device: string | null;
  /** Why the device could not be opened. */
  deviceError: string | null;
  simulated: boolean;
  version: VersionInfo | null;
  subsystems: (Partial<SubsystemInfo> & { name: string; status: Status })[];
  stateDir: string;
  daemon: DaemonView | null;
  /** The host's fleet link (<stateDir>/fleet.json), when it has a fleet. */
  fleet: FleetStatus | null;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show the device, its subsystems, modes and counters, and the daemon status')
    .option('-c, --config <file>', "the daemon's config file (for its device and state directory)")
    .option('--sim', 'the daemon runs on the simulated device: show its counters from its status')
    .option('--device <path>', 'device node (default /dev/mlproxy)')
    .option('--state-dir <dir>', "the daemon's state directory (for its status file)")
    .option('--json', 'print JSON')
    .action(async (flags: StatusFlags) => {
      process.exitCode = await statusCommand(flags);
    });
}

/** The daemon of `stateDir`: its status file, checked against the process table. */
export async function daemonView(stateDir: string): Promise<DaemonView | null> {
  const file = nodePath.join(stateDir, STATUS_FILE_NAME);
  let status: DaemonStatusFile;
  try {
    status = JSON.parse(fs.readFileSync(file, 'utf8')) as DaemonStatusFile;
  } catch {
    return null;
  }
  const holder = await lockHolder(stateDir);
  const holderPid = holder?.pid ?? null;
  let state: DaemonView['state'];
  if (holder) state = 'running';
  else if (!status.running) state = 'stopped';
  // No lock holder: a "running" file is stale, unless its pid lives (a lock we cannot see).
  else state = status.pid !== undefined && processAlive(status.pid) ? 'running' : 'died';
  return { state, holderPid, file, status };
}

function deviceReport(device: MlpDevice): Pick<StatusReport, 'version' | 'subsystems'> {
  const version = device.version();
  const subsystems = device.listSubsystems().map((info) => ({
    ...info,
    status: device.getStatus(info.id),
  }));
  return { version, subsystems };
}

/** The host's fleet link state (<stateDir>/fleet.json), or null without a fleet. */
function readFleetStatus(stateDir: string): FleetStatus | null {
  try {
    return JSON.parse(
      fs.readFileSync(nodePath.join(stateDir, FLEET_STATUS_FILE), 'utf8'),
    ) as FleetStatus;
  } catch {
    return null;
  }
}

/** Device part and daemon part of the report; the device may be absent. */
export async function collectStatus(
  device: MlpDevice | null,
  stateDir: string,
  deviceError: string | null = null,
  simulatedInDaemon = false,
): Promise<StatusReport> {
  const daemon = await daemonView(stateDir);
  if (simulatedInDaemon) {
    const kernel = daemon?.status.kernel ?? {};
    return {
      device: daemon ? `simulated, inside the daemon (pid ${daemon.status.pid})` : null,
      deviceError: daemon
        ? null
        : 'the simulated device lives inside `mlproxy run --sim`, and no daemon has run with this state directory',
      simulated: true,
      version: null,
      subsystems: Object.entries(kernel).map(([name, status]) => ({ name, status })),
      stateDir,
      daemon,
      fleet: readFleetStatus(stateDir),
    };
  }
  return {
    device: device?.description ?? null,
    deviceError,
    simulated: device?.simulated ?? false,
    ...(device ? deviceReport(device) : { version: null, subsystems: [] }),
    stateDir,
    daemon,
    fleet: readFleetStatus(stateDir),
  };
}

function subsystemLines(s: StatusReport['subsystems'][number]): string[] {
  const st = s.status;
  const where = s.id !== undefined ? ` (id ${s.id}, ${s.windowMs} ms windows)` : '';
  return [
    `  ${s.name}${where}: mode ${MODE_NAMES[st.mode]}${st.pinned ? ' (pinned)' : ''}, ` +
      `${st.controlled ? `controlled by pid ${st.controllerPid}` : 'no controller'}, epoch ${st.epoch}`,
    `    windows ${st.windows} (advice ${st.adviceWindows}, baseline ${st.baselineWindows}); ` +
      `recs ${st.recs}: applied ${st.recsApplied}, clamped ${st.recsClamped}, rejected ${st.recsRejected}, shadowed ${st.recsShadowed}, expired ${st.recsExpired}; ` +
      `promotions ${st.promotions}, demotions ${st.demotions}, emergencies ${st.emergencies}; ` +
      `baseline eff ${st.baselineEff.toFixed(3)}, last eff ${st.lastEff.toFixed(3)}`,
  ];
}

function daemonLines(r: StatusReport): string[] {
  const v = r.daemon;
  if (!v) return [`daemon: no status file in ${r.stateDir} (no daemon has run with it)`];
  const d = v.status;
  const head =
    v.state === 'running'
      ? `daemon: running (pid ${v.holderPid ?? d.pid}, updated ${d.updatedAt})`
      : v.state === 'died'
        ? `daemon: NOT running: pid ${d.pid} is gone without a clean exit (killed or crashed; last update ${d.updatedAt}); the next start resumes from the last checkpoint`
        : `daemon: stopped (pid ${d.pid}, at ${d.updatedAt}: ${d.stopReason ?? 'stopped'})`;
  const lines = [head + `, last checkpoint ${d.lastCheckpoint ?? 'none'}`];
  if (d.error) lines.push(`  ${d.error}`);
  for (const s of d.subsystems ?? []) {
    lines.push(
      `  ${s.name}: ${s.decisions} decisions, mode ${s.mode}, mean reward ${s.meanReward === null ? '-' : s.meanReward.toFixed(3)}`,
    );
  }
  return lines;
}

export function formatText(r: StatusReport): string {
  const lines: string[] = [];
  if (r.device === null) {
    lines.push(`device: none (${r.deviceError})`);
  } else if (r.version) {
    const v = r.version;
    lines.push(
      `device: ${r.device}${r.simulated ? ' (SIMULATED)' : ''}, ABI ${v.abiMajor}.${v.abiMinor}${v.compatible ? '' : ' (INCOMPATIBLE)'}, ${v.nrSubsys} subsystem(s)`,
    );
  } else {
    lines.push(`device: ${r.device} (SIMULATED; kernel counters as of the daemon's last status)`);
  }
  for (const s of r.subsystems) lines.push(...subsystemLines(s));
  lines.push(...daemonLines(r));
  if (r.fleet) lines.push(...formatFleetStatus(r.fleet));
  return lines.join('\n');
}

function resolveConfig(flags: StatusFlags): DaemonConfig {
  return applyOverrides(loadConfig(flags.config, defaultDirs()), {
    device: flags.device,
    sim: flags.sim,
    stateDir: flags.stateDir,
  });
}

export async function statusCommand(flags: StatusFlags): Promise<number> {
  let cfg: DaemonConfig;
  try {
    cfg = resolveConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`mlproxy status: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  let device: MlpDevice | null = null;
  let deviceError: string | null = null;
  let code: number = EXIT.ok;
  if (!cfg.sim.enabled) {
    try {
      device = openDevice({ path: cfg.device, readOnly: true });
    } catch (err) {
      if (!(err instanceof DeviceError)) throw err;
      deviceError = err.message;
      code = err.code === 'ENOENT' ? EXIT.deviceMissing : EXIT.failure;
    }
  }
  // Without --state-dir or a config naming one, a systemd service's directory is the
  // likely place of the daemon when the default one has no status file.
  let stateDir = cfg.stateDir;
  if (
    !flags.stateDir &&
    !fs.existsSync(nodePath.join(stateDir, STATUS_FILE_NAME)) &&
    fs.existsSync(nodePath.join(SYSTEMD_STATE_DIR, STATUS_FILE_NAME))
  ) {
    stateDir = SYSTEMD_STATE_DIR;
  }
  try {
    const report = await collectStatus(device, stateDir, deviceError, cfg.sim.enabled);
    process.stdout.write(
      (flags.json ? JSON.stringify(report, null, 2) : formatText(report)) + '\n',
    );
    if (deviceError) process.stderr.write(`mlproxy status: ${deviceError}\n`);
    return code;
  } catch (err) {
    process.stderr.write(`mlproxy status: ${(err as Error).message}\n`);
    return EXIT.failure;
  } finally {
    device?.close();
  }
}
