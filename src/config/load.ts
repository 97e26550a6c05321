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
import { createPolicy, getFactory, parsePolicySpec } from '../../policies/registry.js';
import { CONFIG_SCHEMA, SUBSYSTEM_DEFAULTS, defaultConfig } from './schema.js';
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

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

const TYPE_FIX: Record<string, string> = {
  integer: 'write a whole number',
  number: 'write a number',
  string: 'write a string',
  boolean: 'write true or false',
  object: 'write a mapping of fields',
  array: 'write a list',
};

function describe(e: ErrorObject): string {
  const at = fieldPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = String(p.additionalProperty);
      const known = Object.keys(
        ((e.parentSchema as { properties?: object }) ?? {}).properties ?? {},
      );
      const guess = closest(field, known);
      return `${at}.${field}: unknown field "${field}"; ${guess ? `did you mean "${guess}"? ` : ''}remove it or use one of: ${known.join(', ')}`;
    }
    case 'required':
      return `${at}: missing field "${String(p.missingProperty)}"; add it`;
    case 'type': {
      const type = String(p.type).split(',')[0];
      return `${at}: must be ${String(p.type).replace(',', ' or ')}, got ${show(e.data)}; ${TYPE_FIX[type] ?? `write a ${type}`}`;
    }
    case 'enum':
      return `${at}: must be one of ${(p.allowedValues as unknown[]).map(show).join(', ')}; got ${show(e.data)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${at}: must be ${String(p.comparison)} ${String(p.limit)}, got ${show(e.data)}`;
    case 'minLength':
      return `${at}: must not be empty`;
    case 'oneOf':
    case 'const':
      if (at.endsWith('.conservative')) {
        return `${at}: must be false (no budget) or { alpha: <number in [0, 1)> }, got ${show(e.data)}`;
      }
      return `${at}: ${e.message ?? 'is invalid'}, got ${show(e.data)}`;
    default:
      return `${at}: ${e.message ?? 'is invalid'}`;
  }
}

/** Formats ajv errors; a failed oneOf hides the noise of its branches. */
function formatErrors(errors: ErrorObject[]): string[] {
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath);
  const out: string[] = [];
  for (const e of errors) {
    if (e.keyword !== 'oneOf' && oneOfPaths.some((p) => e.instancePath.startsWith(p))) continue;
    const msg = describe(e);
    if (!out.includes(msg)) out.push(msg);
  }
  return out;
}

/** Checks a policy spec against the registry; returns the problem or undefined. */
export function checkPolicySpec(spec: string): string | undefined {
  try {
    const { kind, params } = parsePolicySpec(spec);
    const factory = getFactory(kind);
    // Build once on a small shape so that unknown or bad parameters surface now.
    createPolicy(
      { kind, params },
      { k: 2, d: factory.contextual || kind === 'conservative' ? 2 : 0, seed: 1 },
    );
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^unknown policy "([^"]*)"/, "unknown policy '$1'");
  }
}

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
  if (!validate(raw)) throw new ConfigError(formatErrors(validate.errors ?? []), source);
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
  const cfg = merge(base, parseConfig(text, file));
  // Relative directories in a file are relative to the file.
  const dir = nodePath.dirname(nodePath.resolve(file));
  cfg.stateDir = nodePath.resolve(dir, cfg.stateDir);
  cfg.logDir = nodePath.resolve(dir, cfg.logDir);
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

export function applyOverrides(cfg: DaemonConfig, o: ConfigOverrides): DaemonConfig {
  const out = structuredClone(cfg);
  if (o.device !== undefined) out.device = o.device;
  if (o.sim) out.sim.enabled = true;
  if (o.virtualTime) out.sim.clock = 'auto';
  if (o.simWindowMs !== undefined) out.sim.windowMs = o.simWindowMs;
  if (o.stateDir !== undefined) out.stateDir = nodePath.resolve(o.stateDir);
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
  const { name: _n, enabled: _e, ...over } = entry ?? { name };
  const builtin = Object.hasOwn(SUBSYSTEM_DEFAULTS, name) ? SUBSYSTEM_DEFAULTS[name] : undefined;
  return merge(merge(structuredClone(cfg.defaults), structuredClone(builtin)), over);
}
