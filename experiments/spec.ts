/**
 * Experiment spec files (YAML or JSON), validated with ajv: policies × environments ×
 * seeds. Every bad field is named in the error, and every policy is tried on every
 * environment it is paired with before anything runs.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import YAML from 'yaml';
import { createPolicy } from '../policies/registry.js';
import { didYouMean } from '../src/validation/messages.js';
import { checkPolicySpec } from '../src/validation/policy.js';
import { createEnv, validateEnvSpec } from './envs/registry.js';
import { SpecError, validateOrThrow } from './validate.js';

export interface PolicyEntry {
  /** Policy spec, e.g. "egreedy:epsilon=0.1". */
  spec: string;
  /** Restrict the policy to these environment names (default: all). */
  envs?: string[];
}

export interface EnvEntry {
  name: string;
  kind: string;
  params?: Record<string, unknown>;
}

export interface ExperimentSpec {
  name: string;
  /** Rounds per run (an environment with fewer rounds, e.g. bench, stops earlier). */
  horizon: number;
  /** Seeds to run: a count n (seeds 0..n-1) or an explicit list. */
  seeds: number | number[];
  /** Points per curve (default 100). */
  points?: number;
  /** Worker threads (default 2; capped by os.availableParallelism()). */
  jobs?: number;
  /** Write each cell's decisions and rewards as a decision log under <out>/logs/. */
  logDecisions?: boolean;
  policies: (string | PolicyEntry)[];
  environments: EnvEntry[];
}

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'horizon', 'seeds', 'policies', 'environments'],
  properties: {
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    horizon: { type: 'integer', minimum: 1 },
    seeds: {
      oneOf: [
        { type: 'integer', minimum: 1 },
        { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'integer', minimum: 0 } },
      ],
    },
    points: { type: 'integer', minimum: 1, maximum: 10000 },
    jobs: { type: 'integer', minimum: 1 },
    logDecisions: { type: 'boolean' },
    policies: {
      type: 'array',
      minItems: 1,
      items: {
        oneOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            additionalProperties: false,
            required: ['spec'],
            properties: {
              spec: { type: 'string', minLength: 1 },
              envs: { type: 'array', minItems: 1, items: { type: 'string' } },
            },
          },
        ],
      },
    },
    environments: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'kind'],
        properties: {
          name: { type: 'string', minLength: 1 },
          kind: { type: 'string', minLength: 1 },
          params: { type: 'object' },
        },
      },
    },
  },
} as const;

/** Parses and checks a spec object; `source` names it in errors. Relative bench dirs resolve against `baseDir`. */
export function checkSpec(value: unknown, source: string, baseDir = process.cwd()): ExperimentSpec {
  validateOrThrow(SCHEMA, value, '', `experiment spec ${source}`);
  const spec = value as ExperimentSpec;
  const envNames = new Set<string>();
  spec.environments.forEach((e, i) => {
    const field = `environments/${i}`;
    if (envNames.has(e.name))
      throw new SpecError(
        `${source}: ${field}/name: "${e.name}" is used twice; names must be unique`,
      );
    envNames.add(e.name);
    try {
      if (e.kind === 'bench' && typeof e.params?.dir === 'string' && !isAbsolute(e.params.dir)) {
        e.params = { ...e.params, dir: resolve(baseDir, e.params.dir) };
      }
      validateEnvSpec(e, `${field}/params`);
    } catch (err) {
      throw new SpecError(`${source}: ${field} (${e.name}): ${(err as Error).message}`);
    }
  });
  const seen = new Set<string>();
  spec.policies.forEach((p, i) => {
    const entry = typeof p === 'string' ? { spec: p } : p;
    if (seen.has(entry.spec))
      throw new SpecError(`${source}: policies/${i}: "${entry.spec}" is listed twice`);
    seen.add(entry.spec);
    const problem = checkPolicySpec(entry.spec);
    if (problem) throw new SpecError(`${source}: policies/${i}: ${problem}`);
    for (const name of entry.envs ?? []) {
      if (!envNames.has(name)) {
        throw new SpecError(
          `${source}: policies/${i}/envs: no environment named "${name}"; ${didYouMean(name, [...envNames])}known: ${[...envNames].join(', ')}`,
        );
      }
    }
  });
  // Try every pairing once so that a bad policy or an impossible pairing fails now.
  for (const e of spec.environments) {
    const env = createEnv(e);
    for (const [i, entry] of policyEntries(spec).entries()) {
      if (entry.envs && !entry.envs.includes(e.name)) continue;
      try {
        createPolicy(entry.spec, { k: env.k, d: env.d, seed: 0 });
      } catch (err) {
        throw new SpecError(
          `${source}: policies/${i} "${entry.spec}" cannot run on environment "${e.name}" (k=${env.k}, d=${env.d}): ` +
            `${(err as Error).message}. Restrict it with {spec: "${entry.spec}", envs: [...]}`,
        );
      }
    }
  }
  return spec;
}

export function policyEntries(spec: ExperimentSpec): PolicyEntry[] {
  return spec.policies.map((p) => (typeof p === 'string' ? { spec: p } : p));
}

export function seedList(spec: ExperimentSpec): number[] {
  return typeof spec.seeds === 'number'
    ? Array.from({ length: spec.seeds }, (_, i) => i)
    : spec.seeds;
}

/** Reads a .yaml/.yml/.json spec file and checks it. */
export function loadSpec(path: string): ExperimentSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SpecError(`cannot read experiment spec ${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = path.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new SpecError(
      `experiment spec ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
    );
  }
  return checkSpec(value, path, dirname(path));
}
