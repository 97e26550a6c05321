/** Decision-log records for tests. */
import type { DecisionRecord } from '../../src/decisionlog/index.js';

/** A valid decision record, distinct per i. */
export function decision(i: number): DecisionRecord {
  return {
    v: 1,
    type: 'decision',
    id: `run1:synthetic:${i}`,
    time: new Date(1_700_000_000_000 + i).toISOString(),
    subsystem: 'synthetic',
    epoch: i,
    context: [0.5, 0.25, 1],
    k: 16,
    arm: i % 16,
    knobs: [i % 16],
    propensity: 0.5,
    legal: Array.from({ length: 16 }, () => 1),
    policy: 'linucb:alpha=1',
    policyVersion: 1,
    verdict: 'applied',
  };
}
