/**
 * Loading the config: parse (YAML, which also reads JSON), validate with ajv against
 * CONFIG_SCHEMA, check the policy specs against the registry, then merge onto the
 * defaults. Every problem names its field ("config.subsystems[0].policy") and the fix.
 * CLI flags are applied afterwards with applyOverrides().
 */
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { didYouMean, formatSchemaErrors } from '../validation/messages.js';
import { checkPolicySpec } from '../validation/policy.js';
import { CONFIG_SCHEMA, FLEET_NAME_RE, SUBSYSTEM_DEFAULTS, defaultConfig } from './schema.js';
import type { DaemonConfig, SubsystemEntry, SubsystemSettings } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly problems: string[],
    readonly source: string,
  ) {
    super(`invalid config (${source}):\n  ${problems.join('\n  ')}`);
  }
}

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
const validate = ajv.compile(CONFIG_SCHEMA);

/** Default state and log directories: ./state under a repo checkout, else XDG or /var. */
export function defaultDirs(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): { stateDir: string; logDir: string } {
  if (env.STATE_DIRECTORY || env.LOGS_DIRECTORY) {
    // systemd's StateDirectory= / LogsDirectory=
    return {
      stateDir: env.STATE_DIRECTORY ?? '/var/lib/mlproxy',
      logDir: env.LOGS_DIRECTORY ?? '/var/log/mlproxy',
    };
  }
  if (
    fs.existsSync(nodePath.join(cwd, 'package.json')) &&
    fs.existsSync(nodePath.join(cwd, '.git'))
  ) {
    const base = nodePath.join(cwd, 'state');
    return { stateDir: base, logDir: nodePath.join(base, 'log') };
  }
  const xdg = env.XDG_STATE_HOME || nodePath.join(os.homedir(), '.local', 'state');
  const base = nodePath.join(xdg, 'mlproxy');
  return { stateDir: base, logDir: nodePath.join(base, 'log') };
}

/** Names a field of the config file from an ajv instancePath: config.subsystems[0].policy. */
function fieldPath(instancePath: string): string {
  return (
    'config' +
    instancePath
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
      .join('')
  );
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/** A failed oneOf of the config schema: `conservative` and `fleet.server`. */
function describeUnion(e: ErrorObject, at: string): string | undefined {
  if (at.endsWith('.fleet.server')) {
    return `${at}: must be a NATS URL such as "nats://127.0.0.1:4222", a list of them, or null (no fleet), got ${show(e.data)}`;
  }
  if (at.endsWith('.conservative')) {
    return `${at}: must be false (no budget) or { alpha: <number in [0, 1)> }, got ${show(e.data)}`;
  }
  return undefined;
}

export { checkPolicySpec } from '../validation/policy.js';

/** Parses and validates config text; `source` names the file in messages. */
export function parseConfig(text: string, source: string): Partial<DaemonConfig> {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      [`cannot parse it as YAML or JSON: ${(err as Error).message.split('\n')[0]}`],
      source,
    );
  }
  if (raw === null || raw === undefined) return {};
  if (!validate(raw)) {
    throw new ConfigError(
      formatSchemaErrors(validate.errors ?? [], fieldPath, describeUnion),
      source,
    );
  }
  const cfg = raw as Partial<DaemonConfig>;
  const problems: string[] = [];
  if (cfg.defaults?.policy !== undefined) {
    const p = checkPolicySpec(cfg.defaults.policy);
    if (p) problems.push(`config.defaults.policy: ${p}`);
  }
  const seen = new Set<string>();
  cfg.subsystems?.forEach((s, i) => {
    if (seen.has(s.name)) {
      problems.push(`config.subsystems[${i}].name: "${s.name}" is listed twice; merge the entries`);
    }
    seen.add(s.name);
    if (s.policy !== undefined) {
      const p = checkPolicySpec(s.policy);
      if (p) problems.push(`config.subsystems[${i}].policy: ${p}`);
    }
  });
  for (const [field, value] of [
    ['fleet.name', cfg.fleet?.name],
    ['fleet.train.consumer', cfg.fleet?.train?.consumer],
  ] as const) {
    if (value !== undefined && !FLEET_NAME_RE.test(value)) {
      problems.push(
        `config.${field}: must be 1 to 64 letters, digits, "_" or "-" (it becomes part of NATS subjects and bucket names), got ${JSON.stringify(value)}`,
      );
    }
  }
  const trainPolicy = cfg.fleet?.train?.policy;
  if (trainPolicy) {
    const p = checkPolicySpec(trainPolicy);
    if (p) problems.push(`config.fleet.train.policy: ${p}`);
  }
  if (problems.length) throw new ConfigError(problems, source);
  return cfg;
}

/** Deep merge of plain objects (arrays and scalars replace). */
function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return over as T;
  if (typeof over !== 'object' || over === null || Array.isArray(over)) return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = merge(out[k], v);
  return out as T;
}

/** Loads the config file (or only the defaults when file is undefined). */
export function loadConfig(
  file: string | undefined,
  dirs: { stateDir: string; logDir: string } = defaultDirs(),
): DaemonConfig {
  const base = defaultConfig(dirs);
  if (file === undefined) return base;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      [
        `cannot read the config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; check the --config path`,
      ],
      file,
    );
  }
  const partial = parseConfig(text, file);
  const cfg = merge(base, partial);
  // Relative directories in a file are relative to the file.
  const dir = nodePath.dirname(nodePath.resolve(file));
  cfg.stateDir = nodePath.resolve(dir, cfg.stateDir);
  // A stateDir of its own without a logDir keeps the decision log with it.
  cfg.logDir =
    partial.stateDir !== undefined && partial.logDir === undefined
      ? nodePath.join(cfg.stateDir, 'log')
      : nodePath.resolve(dir, cfg.logDir);
  if (cfg.fleet.credentials) cfg.fleet.credentials = nodePath.resolve(dir, cfg.fleet.credentials);
  return cfg;
}

/** Command-line values that override the file. */
export interface ConfigOverrides {
  device?: string;
  sim?: boolean;
  virtualTime?: boolean;
  simWindowMs?: number;
  stateDir?: string;
  logDir?: string;
  logLevel?: DaemonConfig['logLevel'];
  policy?: string;
  seed?: number;
  metricsPort?: number;
  progressSeconds?: number;
  checkpointEvery?: number;
}

/**
 * Applies command-line values over the config. --state-dir without --log-dir moves the
 * decision log too (to <state dir>/log), so that two runs with their own state
 * directories never share one log. --virtual-time and --sim-window-ms need the simulated
 * device (--sim, or sim.enabled in the file): a ConfigError otherwise.
 */
export function applyOverrides(cfg: DaemonConfig, o: ConfigOverrides): DaemonConfig {
  const out = structuredClone(cfg);
  if (o.device !== undefined) out.device = o.device;
  if (o.sim) out.sim.enabled = true;
  const simOnly = [
    o.virtualTime ? '--virtual-time' : '',
    o.simWindowMs !== undefined ? '--sim-window-ms' : '',
  ].filter(Boolean);
  if (simOnly.length && !out.sim.enabled) {
    throw new ConfigError(
      simOnly.map(
        (f) =>
          `${f} applies only to the simulated device: add --sim (or sim.enabled: true in the config), or drop ${f}`,
      ),
      'command line',
    );
  }
  if (o.virtualTime) out.sim.clock = 'auto';
  if (o.simWindowMs !== undefined) out.sim.windowMs = o.simWindowMs;
  if (o.stateDir !== undefined) {
    out.stateDir = nodePath.resolve(o.stateDir);
    if (o.logDir === undefined) out.logDir = nodePath.join(out.stateDir, 'log');
  }
  if (o.logDir !== undefined) out.logDir = nodePath.resolve(o.logDir);
  if (o.logLevel !== undefined) out.logLevel = o.logLevel;
  if (o.policy !== undefined) {
    out.defaults.policy = o.policy;
    for (const s of out.subsystems) delete s.policy;
  }
  if (o.seed !== undefined) out.seed = o.seed;
  if (o.metricsPort !== undefined) out.metrics.port = o.metricsPort;
  if (o.progressSeconds !== undefined) out.progressSeconds = o.progressSeconds;
  if (o.checkpointEvery !== undefined) out.checkpoint.everyDecisions = o.checkpointEvery;
  return out;
}

/**
 * The settings of one subsystem: defaults, then the built-in settings of a shipped
 * subsystem (SUBSYSTEM_DEFAULTS), then its entry; undefined when disabled.
 */
export function settingsFor(cfg: DaemonConfig, name: string): SubsystemSettings | undefined {
  const entry: SubsystemEntry | undefined = cfg.subsystems.find((s) => s.name === name);
  if (entry?.enabled === false) return undefined;
  const { name: _n, enabled: _e, optional: _o, ...over } = entry ?? { name };
  const builtin = Object.hasOwn(SUBSYSTEM_DEFAULTS, name) ? SUBSYSTEM_DEFAULTS[name] : undefined;
  return merge(merge(structuredClone(cfg.defaults), structuredClone(builtin)), over);
}

/**
 * Checks the config's subsystem entries against the subsystems the device has: a name
 * the device lacks is a ConfigError with a did-you-mean, unless the entry says
 * `optional: true` (then it is only returned in `skipped`) or `enabled: false`.
 */
export function checkSubsystemsOnDevice(
  cfg: DaemonConfig,
  onDevice: readonly string[],
  device: string,
): { skipped: string[] } {
  const problems: string[] = [];
  const skipped: string[] = [];
  cfg.subsystems.forEach((entry, i) => {
    if (onDevice.includes(entry.name) || entry.enabled === false) return;
    if (entry.optional) {
      skipped.push(entry.name);
      return;
    }
    problems.push(
      `config.subsystems[${i}].name: the device ${device} has no subsystem "${entry.name}"; ` +
        `${didYouMean(entry.name, onDevice)}it has: ${onDevice.join(', ') || 'none'}. ` +
        `Fix the name, or add "optional: true" to the entry if this machine may lack it`,
    );
  });
  if (problems.length) throw new ConfigError(problems, 'config against the device');
  return { skipped };
}
