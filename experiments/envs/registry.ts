/**
 * Environment registry: creates environments from {kind, params}, validating params
 * against a per-kind JSON schema so that a bad spec names the field.
 */
import type { Schema } from 'ajv';
import { didYouMean } from '../../src/validation/messages.js';
import { validateOrThrow } from '../validate.js';
import { AdversarialEnv } from './adversarial.js';
import type { AdversarialParams } from './adversarial.js';
import { BenchEnv } from './bench.js';
import type { BenchParams } from './bench.js';
import { SimEnv } from './sim.js';
import type { SimParams } from './sim.js';
import { BernoulliEnv, DriftEnv, GaussianEnv, LinearEnv } from './stochastic.js';
import type { BernoulliParams, DriftParams, GaussianParams, LinearParams } from './stochastic.js';
import type { BanditEnv } from './types.js';
import { EnvArgumentError } from './types.js';

export interface EnvSpec {
  kind: string;
  params?: Record<string, unknown>;
}

interface EnvFactory {
  kind: string;
  description: string;
  schema: Schema;
  create(params: Record<string, unknown>): BanditEnv;
}

const int = (minimum: number) => ({ type: 'integer', minimum });
const prob = { type: 'number', minimum: 0, maximum: 1 };
const baselineArm = int(0);

const FACTORIES: EnvFactory[] = [
  {
    kind: 'bernoulli',
    description: 'stationary Bernoulli arms (probs given, or drawn per seed from U(0.05, 0.95))',
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: { k: int(1), probs: { type: 'array', items: prob, minItems: 1 }, baselineArm },
      anyOf: [{ required: ['k'] }, { required: ['probs'] }],
    },
    create: (p) => new BernoulliEnv(p as BernoulliParams),
  },
  {
    kind: 'gaussian',
    description: 'stationary Gaussian arms (means given, or drawn per seed from N(0, 1)), noise sd',
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        k: int(1),
        means: { type: 'array', items: { type: 'number' }, minItems: 1 },
        sd: { type: 'number', minimum: 0 },
        baselineArm,
      },
      anyOf: [{ required: ['k'] }, { required: ['means'] }],
    },
    create: (p) => new GaussianEnv(p as GaussianParams),
  },
  {
    kind: 'linear',
    description: 'linear contextual rewards x·theta_k + noise (theta drawn per seed)',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['k', 'd'],
      properties: { k: int(1), d: int(1), noiseSd: { type: 'number', minimum: 0 }, baselineArm },
    },
    create: (p) => new LinearEnv(p as unknown as LinearParams),
  },
  {
    kind: 'drift',
    description:
      'non-stationary Bernoulli arms with abrupt (redrawn) or gradual (sinusoidal) drift',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['k', 'drift', 'period'],
      properties: {
        k: int(1),
        drift: { enum: ['abrupt', 'gradual'] },
        period: int(1),
        amplitude: { type: 'number', exclusiveMinimum: 0, maximum: 0.5 },
        baselineArm,
      },
    },
    create: (p) => new DriftEnv(p as unknown as DriftParams),
  },
  {
    kind: 'adversarial',
    description: 'oblivious switching or adaptive (punishes the most played arm) adversary',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['k', 'adversary'],
      properties: {
        k: int(2),
        adversary: { enum: ['switching', 'adaptive'] },
        period: int(1),
        high: prob,
        low: prob,
        baselineArm,
      },
    },
    create: (p) => new AdversarialEnv(p as unknown as AdversarialParams),
  },
  {
    kind: 'bench',
    description: 'replay of a problem folder (experiments/problems/ format), exact rounds',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['dir'],
      properties: { dir: { type: 'string', minLength: 1 }, baselineArm },
    },
    create: (p) => new BenchEnv(p as unknown as BenchParams),
  },
  {
    kind: 'sim',
    description:
      'the simulated kernel subsystems (the simulated device, virtual time): synthetic or readahead',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['subsystem'],
      properties: {
        subsystem: { enum: ['synthetic', 'readahead'] },
        modelSeed: int(0),
        period: int(1),
      },
    },
    create: (p) => new SimEnv(p as unknown as SimParams),
  },
];

const BY_KIND = new Map(FACTORIES.map((f) => [f.kind, f]));

export function envKinds(): { kind: string; description: string }[] {
  return FACTORIES.map(({ kind, description }) => ({ kind, description }));
}

/** Checks params of `kind`; `field` names the spec location for errors. */
export function validateEnvSpec(spec: EnvSpec, field = 'params'): void {
  const f = BY_KIND.get(spec.kind);
  if (!f) {
    throw new EnvArgumentError(
      `unknown environment kind "${spec.kind}"; ${didYouMean(spec.kind, [...BY_KIND.keys()])}known kinds: ${FACTORIES.map((x) => x.kind).join(', ')}`,
    );
  }
  validateOrThrow(f.schema, spec.params ?? {}, field, `environment "${spec.kind}" ${field}`);
}

export function createEnv(spec: EnvSpec): BanditEnv {
  validateEnvSpec(spec);
  return BY_KIND.get(spec.kind)!.create(spec.params ?? {});
}
