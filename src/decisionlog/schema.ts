/**
 * JSON schema of one decision-log line (record.ts), checked with ajv by the reader.
 */
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { DECISION_LOG_VERSION } from './record.js';
import type { LogRecord } from './record.js';

const numberArray = { type: 'array', items: { type: 'number' } } as const;

const decisionSchema = {
  type: 'object',
  required: [
    'v',
    'type',
    'id',
    'time',
    'subsystem',
    'epoch',
    'context',
    'k',
    'arm',
    'knobs',
    'propensity',
    'policy',
    'policyVersion',
    'verdict',
  ],
  properties: {
    v: { const: DECISION_LOG_VERSION },
    type: { const: 'decision' },
    id: { type: 'string', minLength: 1 },
    time: { type: 'string' },
    subsystem: { type: 'string' },
    epoch: { type: 'integer', minimum: 0 },
    context: numberArray,
    k: { type: 'integer', minimum: 1 },
    arm: { type: 'integer', minimum: 0 },
    knobs: numberArray,
    propensity: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    distribution: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 } },
    legal: { type: 'array', items: { enum: [0, 1] } },
    policy: { type: 'string' },
    policyVersion: { type: 'integer', minimum: 0 },
    forced: { const: true },
    verdict: { type: 'string' },
  },
} as const;

const rewardSchema = {
  type: 'object',
  required: ['v', 'type', 'id', 'time', 'reward', 'applied', 'eff', 'baselineEff'],
  properties: {
    v: { const: DECISION_LOG_VERSION },
    type: { const: 'reward' },
    id: { type: 'string', minLength: 1 },
    time: { type: 'string' },
    reward: { type: 'number' },
    applied: { type: 'boolean' },
    eff: { type: 'number' },
    baselineEff: { type: 'number' },
    verdict: { type: 'string' },
    knobs: numberArray,
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });
const validateDecision = ajv.compile(decisionSchema);
const validateReward = ajv.compile(rewardSchema);

function describe(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'invalid record';
  const where = e.instancePath ? `field ${e.instancePath.slice(1).replace(/\//g, '.')}` : 'record';
  return `${where} ${e.message ?? 'is invalid'}`;
}

/** Checks a logged distribution against k, the arm, its propensity and the legal mask. */
function distributionProblem(
  dist: number[],
  k: number,
  arm: number,
  propensity: number,
  legal: number[] | undefined,
): string | undefined {
  if (dist.length !== k) return `has ${dist.length} entries, must have k = ${k}`;
  let sum = 0;
  for (let a = 0; a < k; a++) {
    if (legal !== undefined && legal[a] === 0 && dist[a] !== 0) {
      return `gives illegal arm ${a} probability ${dist[a]}`;
    }
    sum += dist[a];
  }
  if (Math.abs(sum - 1) > 1e-9) return `sums to ${sum}, must sum to 1`;
  if (Math.abs(dist[arm] - propensity) > 1e-12) {
    return `gives the chosen arm ${arm} probability ${dist[arm]}, but its propensity is ${propensity}`;
  }
  return undefined;
}

/** Returns the record, or a one-line description of what is wrong with it. */
export function checkLogRecord(value: unknown): { record: LogRecord } | { problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: 'a line must hold one JSON object' };
  }
  const type = (value as { type?: unknown }).type;
  if (type === 'decision') {
    if (validateDecision(value)) {
      const d = value as unknown as LogRecord & { type: 'decision' };
      if (d.arm >= d.k) return { problem: `field arm is ${d.arm}, must be below k = ${d.k}` };
      if (d.distribution !== undefined) {
        const problem = distributionProblem(d.distribution, d.k, d.arm, d.propensity, d.legal);
        if (problem) return { problem: `field distribution ${problem}` };
      }
      return { record: d };
    }
    return { problem: describe(validateDecision.errors) };
  }
  if (type === 'reward') {
    if (validateReward(value)) return { record: value as unknown as LogRecord };
    return { problem: describe(validateReward.errors) };
  }
  return { problem: `field type must be "decision" or "reward", got ${JSON.stringify(type)}` };
}
