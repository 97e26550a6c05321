import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DecisionLogError,
  DecisionLogWriter,
  iterateDecisionLog,
  readDecisionLog,
  rotatedLogFiles,
} from '../src/decisionlog/index.js';
import type { DecisionRecord, LogRecord, RewardRecord } from '../src/decisionlog/index.js';
import { decision } from './helpers/records.js';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-dlog-'));
}

function reward(i: number): RewardRecord {
  return {
    v: 1,
    type: 'reward',
    id: `run1:synthetic:${i}`,
    time: new Date(1_700_000_000_050 + i).toISOString(),
    reward: i / 100,
    applied: i % 3 !== 0,
    eff: 0.9,
    baselineEff: 0.8,
    verdict: 'applied',
    knobs: [i % 16],
  };
}

function writeSome(w: DecisionLogWriter, n: number): void {
  for (let i = 1; i <= n; i++) {
    w.append(decision(i));
    if (i > 1) w.append(reward(i - 1));
  }
}

test('written records read back and rewards join their decisions by id', (t) => {
  const file = path.join(tmpDir(), 'decisions.jsonl');
  const w = new DecisionLogWriter(file);
  writeSome(w, 10);
  w.close();
  const warnings: string[] = [];
  const log = readDecisionLog(file, { onWarning: (m) => warnings.push(m) });
  t.deepEqual(warnings, []);
  t.is(log.records.length, 19);
  t.is(log.decisions.length, 10);
  t.is(log.decisions[2].reward, 0.03);
  t.is(log.decisions[2].applied, false);
  t.is(log.decisions[3].applied, true);
  t.deepEqual(log.decisions[3].ranKnobs, [4]);
  t.is(log.decisions[9].reward, undefined, 'the last decision has no reward yet');
});

test('a torn last line is skipped with a warning naming the line', async (t) => {
  const file = path.join(tmpDir(), 'decisions.jsonl');
  const w = new DecisionLogWriter(file);
  writeSome(w, 3);
  w.close();
  fs.appendFileSync(file, JSON.stringify(decision(4)).slice(0, 40));
  const warnings: string[] = [];
  const log = readDecisionLog(file, { onWarning: (m) => warnings.push(m) });
  t.is(log.decisions.length, 3);
  t.is(warnings.length, 1);
  t.regex(warnings[0], /decisions\.jsonl:6: skipped a torn last line \(not valid JSON/);

  const streamed: LogRecord[] = [];
  const streamWarnings: string[] = [];
  for await (const r of iterateDecisionLog(file, { onWarning: (m) => streamWarnings.push(m) })) {
    streamed.push(r);
  }
  t.deepEqual(streamed, log.records);
  t.deepEqual(streamWarnings, warnings);
});

test('a bad line in the middle is an error naming file, line and problem', async (t) => {
  const file = path.join(tmpDir(), 'decisions.jsonl');
  const lines = [decision(1), { ...decision(2), propensity: 0 }, decision(3)];
  fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const err = t.throws(() => readDecisionLog(file), { instanceOf: DecisionLogError });
  t.is(err?.line, 2);
  t.regex(err?.message ?? '', /decisions\.jsonl:2: field propensity must be > 0/);
  await t.throwsAsync(
    async () => {
      for await (const _ of iterateDecisionLog(file)) void _;
    },
    { message: /:2: field propensity/ },
  );

  const warnings: string[] = [];
  const log = readDecisionLog(file, { skipBadLines: true, onWarning: (m) => warnings.push(m) });
  t.is(log.decisions.length, 2);
  t.regex(warnings[0], /:2: field propensity must be > 0; line skipped/);
});

test('unknown record types and missing fields are named', (t) => {
  const file = path.join(tmpDir(), 'decisions.jsonl');
  const noArm: Partial<DecisionRecord> = decision(1);
  delete noArm.arm;
  fs.writeFileSync(
    file,
    [JSON.stringify({ type: 'note' }), JSON.stringify(noArm), JSON.stringify(decision(2))].join(
      '\n',
    ) + '\n',
  );
  const warnings: string[] = [];
  readDecisionLog(file, { skipBadLines: true, onWarning: (m) => warnings.push(m) });
  t.regex(warnings[0], /:1: field type must be "decision" or "reward", got "note"/);
  t.regex(warnings[1], /:2: record must have required property 'arm'/);
});

test('the log rotates by size, keeps N parts, and reads back oldest first', (t) => {
  const file = path.join(tmpDir(), 'decisions.jsonl');
  const w = new DecisionLogWriter(file, { maxBytes: 2000, keep: 3 });
  for (let i = 1; i <= 60; i++) w.append(decision(i));
  w.close();
  const files = rotatedLogFiles(file);
  t.deepEqual(
    files.map((f) => path.basename(f)),
    ['decisions.jsonl.3', 'decisions.jsonl.2', 'decisions.jsonl.1', 'decisions.jsonl'],
  );
  for (const f of files) t.true(fs.statSync(f).size <= 2000);
  const log = readDecisionLog(file);
  const epochs = log.decisions.map((d) => d.epoch);
  t.deepEqual(
    epochs,
    Array.from({ length: epochs.length }, (_, i) => 61 - epochs.length + i),
    'contiguous, oldest first, ending with the newest',
  );
  t.is(epochs[epochs.length - 1], 60);
  t.is(readDecisionLog(file, { includeRotated: false }).decisions.at(-1)?.epoch, 60);
});

test('reopening after a crash cuts the torn tail so it never lands mid-file', (t) => {
  const file = path.join(tmpDir(), 'decisions.jsonl');
  const w1 = new DecisionLogWriter(file);
  writeSome(w1, 3);
  w1.close();
  fs.appendFileSync(file, '{"v":1,"type":"decis');
  const warnings: string[] = [];
  const w2 = new DecisionLogWriter(file, { onWarning: (m) => warnings.push(m) });
  w2.append(decision(7));
  w2.close();
  t.regex(warnings[0], /removed a torn last line \(20 bytes/);
  const log = readDecisionLog(file, { onWarning: (m) => t.fail(m) });
  t.deepEqual(
    log.decisions.map((d) => d.epoch),
    [1, 2, 3, 7],
  );
});

test('a missing log is a clear error', (t) => {
  t.throws(() => readDecisionLog(path.join(tmpDir(), 'nope.jsonl')), {
    message: /no such decision log/,
  });
});
