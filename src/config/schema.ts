/**
 * The daemon's configuration: its TypeScript shape, defaults and JSON schema (ajv).
 * docs/daemon.md is the reference for operators; keep the two in step.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SafetySettings {
  maxStep: number;
  collapseWindows: number;
  collapseRatio: number;
  fallbackDecisions: number;
}

export interface SubsystemSettings {
  /** Policy spec, e.g. "linucb:alpha=1" (policies/registry.ts). */
  policy: string;
  /** Conservative exploration budget; false runs the policy bare. */
  conservative: { alpha: number } | false;
  /**
   * Uniform exploration mixed into the policy's decisions (policies/distribution.ts), so
   * the decision log is randomised with exact propensities for off-policy evaluation.
   */
  exploration: { epsilon: number };
  maxArms: number;
  safety: SafetySettings;
  adviceWindowsOnly: boolean;
  ttlMs: number;
  heartbeatMs: number;
}

export interface SubsystemEntry extends Partial<Omit<SubsystemSettings, 'safety'>> {
  name: string;
  enabled?: boolean;
  /** The device may lack this subsystem (fleets of mixed kernels): then it is skipped. */
  optional?: boolean;
  safety?: Partial<SafetySettings>;
}

export interface SimSettings {
  /** Run on the embedded simulated device instead of /dev/mlproxy. */
  enabled: boolean;
  /** real: windows in real time; auto: virtual time that advances as fast as the loop. */
  clock: 'real' | 'auto';
  /** Window length of every simulated subsystem, ms (null: the models' defaults). */
  windowMs: number | null;
  /** Seed of the simulated subsystems. */
  seed: number;
  /** Windows per hidden phase of the synthetic subsystem (null: its default, 100). */
  syntheticPeriod: number | null;
}

/** The trainer's settings (`mlproxy train`), docs/fleet.md. */
export interface FleetTrainSettings {
  /** Policy spec to train per subsystem; null: the subsystem's configured policy. */
  policy: string | null;
  /** Held-out samples the gate evaluates each candidate on. */
  evalSamples: number;
  /** New samples between two training rounds. */
  everySamples: number;
  /** Rollout share of each published version, in [0, 1]. */
  rollout: number;
  /** Name of the trainer's durable consumer. */
  consumer: string;
  seed: number;
}

/** The fleet link over NATS JetStream (docs/fleet.md); off while server is null. */
export interface FleetSettings {
  /** NATS server URL(s), e.g. "nats://10.0.0.5:4222"; null: no fleet. */
  server: string | string[] | null;
  /** NATS credentials file (.creds: JWT and nkey seed), or null. */
  credentials: string | null;
  /** Fleet name: subjects, stream, bucket and store names derive from it. */
  name: string;
  /** This host's name in the fleet (null: the hostname). */
  host: string | null;
  /** Records held while the server is slow or away; beyond it the oldest are dropped. */
  queueSize: number;
  /** Adopt the fleet's policies (false: only publish). */
  adopt: boolean;
  /** At start, wait this long for the fleet's current policies before the loop runs. */
  startupWaitMs: number;
  /** At stop, try this long to publish what is queued. */
  drainMs: number;
  train: FleetTrainSettings;
}

export interface DaemonConfig {
  device: string;
  sim: SimSettings;
  stateDir: string;
  logDir: string;
  logLevel: LogLevel;
  seed: number;
  /** Seconds between progress lines; 0 = none. */
  progressSeconds: number;
  /**
   * firstDecisions: the first checkpoint of a run, after this many decisions (so that a
   * daemon that dies early still saves); then every everyDecisions or everySeconds.
   */
  checkpoint: {
    firstDecisions: number;
    everyDecisions: number;
    everySeconds: number;
    keep: number;
  };
  decisionLog: { maxBytes: number; keep: number };
  metrics: { port: number | null };
  defaults: SubsystemSettings;
  /** Per-subsystem overrides; subsystems not listed run with the defaults. */
  subsystems: SubsystemEntry[];
  fleet: FleetSettings;
}

export const DEFAULT_FLEET_SETTINGS: FleetSettings = {
  server: null,
  credentials: null,
  name: 'default',
  host: null,
  queueSize: 10000,
  adopt: true,
  startupWaitMs: 2000,
  drainMs: 2000,
  train: {
    policy: null,
    evalSamples: 1000,
    everySamples: 1000,
    rollout: 1,
    consumer: 'trainer',
    seed: 1,
  },
};

export const DEFAULT_SUBSYSTEM_SETTINGS: SubsystemSettings = {
  policy: 'linucb:alpha=1',
  conservative: { alpha: 0.1 },
  exploration: { epsilon: 0.05 },
  maxArms: 256,
  safety: { maxStep: 2, collapseWindows: 3, collapseRatio: 0.7, fallbackDecisions: 20 },
  adviceWindowsOnly: true,
  ttlMs: 0,
  heartbeatMs: 500,
};

/**
 * Built-in settings of the subsystems mlproxy ships, applied over `defaults` and under the
 * subsystem's own entry in `subsystems` (so a `defaults` section does not change them;
 * set them in the subsystem's entry). readahead: a bare LinUCB with alpha 0.6 (the
 * conservative budget would keep it at the baseline through the exploration a sequential
 * reader needs, and the kernel's paired judgement is the safety net), a small uniform
 * exploration (LinUCB's bonus explores; 1 % keeps every arm's propensity above zero for
 * off-policy evaluation, where 5 % played a wrong arm in about one window of 27)
 * and no user-space step limit (its arms are 4x apart; docs/readahead.md, demo/simulate.ts).
 */
export const SUBSYSTEM_DEFAULTS: Readonly<Record<string, Partial<SubsystemSettings>>> = {
  readahead: {
    policy: 'linucb:alpha=0.6',
    conservative: false,
    exploration: { epsilon: 0.01 },
    // A short fallback: the kernel's paired judgement is the safety net, and a workload
    // change (a large setting meeting mmap readers) trips the guard until the policy sees it.
    safety: { maxStep: 0, collapseWindows: 2, collapseRatio: 0.3, fallbackDecisions: 3 },
  },
};

/** The defaults; stateDir/logDir are filled in by defaultDirs() at load time. */
export function defaultConfig(dirs: { stateDir: string; logDir: string }): DaemonConfig {
  return {
    device: '/dev/mlproxy',
    sim: { enabled: false, clock: 'real', windowMs: null, seed: 42, syntheticPeriod: null },
    stateDir: dirs.stateDir,
    logDir: dirs.logDir,
    logLevel: 'info',
    seed: 1,
    progressSeconds: 0,
    checkpoint: { firstDecisions: 32, everyDecisions: 500, everySeconds: 30, keep: 3 },
    decisionLog: { maxBytes: 64 * 1024 * 1024, keep: 5 },
    metrics: { port: null },
    defaults: structuredClone(DEFAULT_SUBSYSTEM_SETTINGS),
    subsystems: [],
    fleet: structuredClone(DEFAULT_FLEET_SETTINGS),
  };
}

const safetySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxStep: { type: 'integer', minimum: 0 },
    collapseWindows: { type: 'integer', minimum: 1 },
    collapseRatio: { type: 'number', minimum: 0, maximum: 1 },
    fallbackDecisions: { type: 'integer', minimum: 0 },
  },
} as const;

const subsystemProps = {
  policy: { type: 'string', minLength: 1 },
  conservative: {
    oneOf: [
      { const: false },
      {
        type: 'object',
        additionalProperties: false,
        required: ['alpha'],
        properties: { alpha: { type: 'number', minimum: 0, exclusiveMaximum: 1 } },
      },
    ],
  },
  exploration: {
    type: 'object',
    additionalProperties: false,
    properties: { epsilon: { type: 'number', minimum: 0, maximum: 1 } },
  },
  maxArms: { type: 'integer', minimum: 1, maximum: 65536 },
  safety: safetySchema,
  adviceWindowsOnly: { type: 'boolean' },
  ttlMs: { type: 'integer', minimum: 0, maximum: 60000 },
  heartbeatMs: { type: 'integer', minimum: 1, maximum: 600000 },
} as const;

/** Fleet and consumer names become parts of NATS subjects and bucket names. */
export const FLEET_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

const fleetSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: {
      oneOf: [
        { type: 'null' },
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      ],
    },
    credentials: { type: ['string', 'null'], minLength: 1 },
    name: { type: 'string', minLength: 1 },
    host: { type: ['string', 'null'], minLength: 1, maxLength: 255 },
    queueSize: { type: 'integer', minimum: 1, maximum: 10000000 },
    adopt: { type: 'boolean' },
    startupWaitMs: { type: 'integer', minimum: 0, maximum: 600000 },
    drainMs: { type: 'integer', minimum: 0, maximum: 600000 },
    train: {
      type: 'object',
      additionalProperties: false,
      properties: {
        policy: { type: ['string', 'null'], minLength: 1 },
        evalSamples: { type: 'integer', minimum: 50, maximum: 1000000 },
        everySamples: { type: 'integer', minimum: 1, maximum: 10000000 },
        rollout: { type: 'number', minimum: 0, maximum: 1 },
        consumer: { type: 'string', minLength: 1 },
        seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
      },
    },
  },
} as const;

export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    device: { type: 'string', minLength: 1 },
    sim: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        clock: { enum: ['real', 'auto'] },
        windowMs: { type: ['integer', 'null'], minimum: 1, maximum: 3600000 },
        seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
        syntheticPeriod: { type: ['integer', 'null'], minimum: 1 },
      },
    },
    stateDir: { type: 'string', minLength: 1 },
    logDir: { type: 'string', minLength: 1 },
    logLevel: { enum: [...LOG_LEVELS] },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
    progressSeconds: { type: 'number', minimum: 0 },
    checkpoint: {
      type: 'object',
      additionalProperties: false,
      properties: {
        firstDecisions: { type: 'integer', minimum: 1 },
        everyDecisions: { type: 'integer', minimum: 1 },
        everySeconds: { type: 'number', exclusiveMinimum: 0 },
        keep: { type: 'integer', minimum: 1, maximum: 100 },
      },
    },
    decisionLog: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxBytes: { type: 'integer', minimum: 4096 },
        keep: { type: 'integer', minimum: 0, maximum: 1000 },
      },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      properties: {
        port: { type: ['integer', 'null'], minimum: 0, maximum: 65535 },
      },
    },
    defaults: { type: 'object', additionalProperties: false, properties: subsystemProps },
    subsystems: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1 },
          enabled: { type: 'boolean' },
          optional: { type: 'boolean' },
          ...subsystemProps,
        },
      },
    },
    fleet: fleetSchema,
  },
} as const;
