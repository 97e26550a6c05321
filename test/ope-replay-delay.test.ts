/**
 * Off-policy replays follow the logging loop's feedback delay (the logged policy versions):
 * a deterministic policy restored from a checkpoint of the logging run repeats every logged
 * choice, though its rewards arrived one decision late, as in the daemon.
 */
import test from 'ava';
import { checkOpeData } from '../src/ope/data.js';
import type { LoggedDecision } from '../src/ope/data.js';
import { evaluateCandidate, learnedBefore, updateSchedule } from '../src/ope/evaluate.js';
import { createPolicy, restorePolicy } from '../policies/registry.js';
import type { PolicySnapshot } from '../policies/types.js';
import { Rng } from '../policies/rng.js';

const K = 4;
const D = 3;

/** LinUCB logging with rewards one decision late; a snapshot after `snapAt` updates. */
function laggedLog(
  n: number,
  snapAt: number,
): { decisions: LoggedDecision[]; snap: PolicySnapshot } {
  const rng = new Rng(3);
  const theta = Array.from({ length: K }, () => Array.from({ length: D }, () => rng.normal()));
  const logger = createPolicy('linucb:alpha=0.5', { k: K, d: D, seed: 1 });
  const decisions: LoggedDecision[] = [];
  let updates = 0;
  let snap: PolicySnapshot | undefined;
  let pending: LoggedDecision | undefined;
  for (let i = 0; i < n; i++) {
    const context = Array.from({ length: D }, () => rng.normal() / Math.sqrt(D));
    const { arm } = logger.select(context);
    const mean = context.reduce((s, x, j) => s + x * theta[arm][j], 0);
    const reward = Math.min(1, Math.max(0, 0.5 + 0.3 * mean + 0.05 * rng.normal()));
    decisions.push({ context, arm, propensity: 1, reward, policyVersion: updates });
    // The previous decision's reward arrives now, after this decision was made.
    if (pending) {
      logger.update(pending.arm, pending.reward, pending.context);
      updates++;
      if (updates === snapAt) snap = logger.snapshot();
    }
    pending = decisions[i];
  }
  return { decisions, snap: snap! };
}

test('updateSchedule reads the delay from the policy versions; constant versions mean none', (t) => {
  const { decisions } = laggedLog(50, 20);
  const due = updateSchedule(decisions)!;
  t.is(due(0), 0);
  t.is(due(10), 9, 'at decision 10 the logging policy had learned from 9 decisions');
  t.is(updateSchedule(decisions.map((d) => ({ ...d, policyVersion: 1 }))), undefined);
  const reset = decisions.map((d, i) => ({ ...d, policyVersion: i < 25 ? i : i - 25 }));
  t.is(updateSchedule(reset), undefined, 'a policy change resets the versions');
});

test('a checkpointed policy replayed with the delay repeats every logged choice', (t) => {
  const n = 600;
  const snapAt = 300;
  const { decisions, snap } = laggedLog(n, snapAt);
  const data = checkOpeData(decisions, 'lagged');
  const start = decisions.findIndex((d) => d.policyVersion! >= snapAt);
  const restored = evaluateCandidate(
    data,
    { name: 'deployed', make: () => restorePolicy(snap) },
    { start, learnedUpTo: learnedBefore(data, snapAt, start) },
  );
  t.is(restored.matchRate, 1);
  // A fresh copy trained on the log from the start also repeats it, delay included.
  const fresh = evaluateCandidate(data, 'linucb:alpha=0.5', { seed: 1 });
  t.is(fresh.matchRate, 1);
  // Negative control: without the versions, updates follow each decision at once.
  const unversioned = checkOpeData(
    decisions.map(({ policyVersion: _v, ...d }) => d),
    'unversioned',
  );
  t.true(evaluateCandidate(unversioned, 'linucb:alpha=0.5').matchRate < 1);
});
