/**
 * `mlproxy status`: the device (version, subsystems, modes, kernel counters) and, when a
 * daemon has run with this state directory, its status file.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import type { Command } from 'commander';
import { defaultDirs } from '../config/load.js';
import { FLEET_STATUS_FILE, formatFleetStatus } from '../fleet/status-file.js';
import type { FleetStatus } from '../fleet/status-file.js';
import { STATUS_FILE_NAME } from '../loop/daemon.js';
import { DeviceError, MODE_NAMES } from '../transport/device.js';
import type { MlpDevice, Status, SubsystemInfo, VersionInfo } from '../transport/device.js';
import { openDevice } from '../transport/open-device.js';
import { EXIT } from './exit-codes.js';

interface StatusFlags {
  sim?: boolean;
  device?: string;
  stateDir?: string;
  json?: boolean;
}

export interface StatusReport {
  device: string;
  simulated: boolean;
  version: VersionInfo;
  subsystems: (SubsystemInfo & { status: Status })[];
  daemon: unknown;
  /** The host's fleet link (<stateDir>/fleet.json), when it has a fleet. */
  fleet: FleetStatus | null;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show the device, its subsystems, modes and counters, and the daemon status')
    .option('--sim', 'inspect a fresh simulated device')
    .option('--device <path>', 'device node (default /dev/mlproxy)')
    .option('--state-dir <dir>', "the daemon's state directory (for its status file)")
    .option('--json', 'print JSON')
    .action((flags: StatusFlags) => {
      process.exitCode = statusCommand(flags);
    });
}

export function collectStatus(device: MlpDevice, stateDir: string): StatusReport {
  const version = device.version();
  const subsystems = device.listSubsystems().map((info) => ({
    ...info,
    status: device.getStatus(info.id),
  }));
  let daemon: unknown = null;
  const file = nodePath.join(stateDir, STATUS_FILE_NAME);
  try {
    daemon = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    daemon = null;
  }
  let fleet: FleetStatus | null = null;
  try {
    fleet = JSON.parse(
      fs.readFileSync(nodePath.join(stateDir, FLEET_STATUS_FILE), 'utf8'),
    ) as FleetStatus;
  } catch {
    fleet = null;
  }
  return {
    device: device.description,
    simulated: device.simulated,
    version,
    subsystems,
    daemon,
    fleet,
  };
}

function formatText(r: StatusReport): string {
  const v = r.version;
  const lines = [
    `device: ${r.device}${r.simulated ? ' (SIMULATED)' : ''}, ABI ${v.abiMajor}.${v.abiMinor}${v.compatible ? '' : ' (INCOMPATIBLE)'}, ${v.nrSubsys} subsystem(s)`,
  ];
  for (const s of r.subsystems) {
    const st = s.status;
    lines.push(
      `  ${s.name} (id ${s.id}, ${s.windowMs} ms windows): mode ${MODE_NAMES[st.mode]}${st.pinned ? ' (pinned)' : ''}, ` +
        `${st.controlled ? `controlled by pid ${st.controllerPid}` : 'no controller'}, epoch ${st.epoch}`,
      `    windows ${st.windows} (advice ${st.adviceWindows}, baseline ${st.baselineWindows}); ` +
        `recs ${st.recs}: applied ${st.recsApplied}, clamped ${st.recsClamped}, rejected ${st.recsRejected}, shadowed ${st.recsShadowed}, expired ${st.recsExpired}; ` +
        `promotions ${st.promotions}, demotions ${st.demotions}, emergencies ${st.emergencies}; ` +
        `baseline eff ${st.baselineEff.toFixed(3)}, last eff ${st.lastEff.toFixed(3)}`,
    );
  }
  const d = r.daemon as {
    running?: boolean;
    pid?: number;
    updatedAt?: string;
    lastCheckpoint?: string;
    subsystems?: { name: string; decisions: number; mode: string; meanReward: number | null }[];
  } | null;
  if (!d) {
    lines.push('daemon: no status file (it has not run with this state directory)');
  } else {
    lines.push(
      `daemon: ${d.running ? 'running' : 'stopped'} (pid ${d.pid}, updated ${d.updatedAt}), last checkpoint ${d.lastCheckpoint ?? 'none'}`,
    );
    for (const s of d.subsystems ?? []) {
      lines.push(
        `  ${s.name}: ${s.decisions} decisions, mode ${s.mode}, mean reward ${s.meanReward === null ? '-' : s.meanReward.toFixed(3)}`,
      );
    }
  }
  if (r.fleet) lines.push(...formatFleetStatus(r.fleet));
  return lines.join('\n');
}

export function statusCommand(flags: StatusFlags): number {
  let device: MlpDevice;
  try {
    device = openDevice(
      flags.sim
        ? { sim: true, simOptions: { clock: 'manual' } }
        : { path: flags.device, readOnly: true },
    );
  } catch (err) {
    if (err instanceof DeviceError) {
      process.stderr.write(`mlproxy status: ${err.message}\n`);
      return err.code === 'ENOENT' ? EXIT.deviceMissing : EXIT.failure;
    }
    throw err;
  }
  try {
    const report = collectStatus(device, flags.stateDir ?? defaultDirs().stateDir);
    process.stdout.write(
      (flags.json ? JSON.stringify(report, null, 2) : formatText(report)) + '\n',
    );
    return EXIT.ok;
  } catch (err) {
    process.stderr.write(`mlproxy status: ${(err as Error).message}\n`);
    return EXIT.failure;
  } finally {
    device.close();
  }
}
