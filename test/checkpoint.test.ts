import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointStore, readCheckpoint } from '../src/checkpoint/store.js';
import { makeDaemon, simDevice, tempDir, testConfig } from './helpers/daemon-harness.js';

test('checkpoints round-trip, keep the last N, and leave no temp files', (t) => {
  const dir = tempDir('mlp-ckpt-');
  const store = new CheckpointStore(dir, 3);
  for (let i = 1; i <= 5; i++) store.save({ i, data: [i, i * 2] });
  const files = store.list();
  t.deepEqual(
    files.map((f) => f.seq),
    [5, 4, 3],
  );
  t.deepEqual(store.loadLatest()?.payload, { i: 5, data: [5, 10] });
  t.deepEqual(
    fs.readdirSync(dir).filter((n) => n.includes('.tmp-')),
    [],
  );
  // A new store continues the numbering.
  t.regex(new CheckpointStore(dir, 3).save({ i: 6 }), /checkpoint-0000000006\.json$/);
});

test('a corrupt checkpoint is reported by name and reason, and the previous one is used', (t) => {
  const dir = tempDir('mlp-ckpt-');
  const store = new CheckpointStore(dir, 3);
  store.save({ i: 1 });
  const second = store.save({ i: 2 });
  const third = store.save({ i: 3 });
  // Flip one payload byte of the newest; truncate the one before it.
  const text = fs.readFileSync(third, 'utf8');
  fs.writeFileSync(third, text.replace('"i":3', '"i":4'));
  fs.writeFileSync(second, fs.readFileSync(second, 'utf8').slice(0, 20));
  const warnings: string[] = [];
  const loaded = store.loadLatest<{ i: number }>((m) => warnings.push(m));
  t.is(loaded?.payload.i, 1);
  t.is(warnings.length, 2);
  t.true(warnings[0].includes(third));
  t.regex(warnings[0], /sha256 checksum mismatch/);
  t.true(warnings[1].includes(second));
  t.regex(warnings[1], /no header line|truncated/);
  t.regex(JSON.stringify(readCheckpoint(path.join(dir, 'missing.json'))), /cannot read it/);
});

test('the daemon resumes from the previous checkpoint when the latest is corrupt', async (t) => {
  const dir = tempDir();
  const cfg = testConfig(dir, (c) => {
    c.checkpoint.everyDecisions = 50;
  });
  const first = await makeDaemon(cfg, simDevice(), { maxDecisions: 120 }).daemon.run();
  const latest = first.lastCheckpoint!;
  const store = new CheckpointStore(cfg.stateDir, cfg.checkpoint.keep);
  const previous = store.list()[1].file;
  fs.appendFileSync(latest, 'garbage');
  const second = makeDaemon(cfg, simDevice(), { maxDecisions: 5 });
  const summary = await second.daemon.run();
  t.is(summary.resumedFrom, previous);
  const warning = second.lines.find((l) => String(l.msg).includes(latest));
  t.truthy(warning, 'the corrupt file is named');
  t.regex(String(warning?.msg), /unusable \(payload is \d+ bytes, header says \d+/);
});
