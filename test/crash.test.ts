import test from 'ava';
import path from 'node:path';
import { Rng } from '../policies/rng.js';
import { CheckpointStore } from '../src/checkpoint/store.js';
import { readDecisionLog } from '../src/decisionlog/index.js';
import { tempDir } from './helpers/daemon-harness.js';
import { runCli, startCli } from './helpers/spawn-cli.js';

const KILLS = 20;

test('killed with SIGKILL at 20 random points, the daemon always restarts from a valid checkpoint and its log reads back', async (t) => {
  const dir = tempDir('mlp-crash-');
  const stateDir = path.join(dir, 'state');
  const logFile = path.join(dir, 'log', 'decisions.jsonl');
  const args = [
    'run',
    '--sim',
    '--virtual-time',
    '--state-dir',
    stateDir,
    '--log-dir',
    path.join(dir, 'log'),
    '--checkpoint-every',
    '40',
    '--no-pretty',
  ];
  const rng = new Rng(2026);
  let resumed = 0;
  let recordsBefore = 0;
  for (let i = 0; i < KILLS; i++) {
    // What a restart must find: the newest valid checkpoint (atomic writes: never a corrupt one).
    const expected = new CheckpointStore(stateDir).loadLatest((m) => t.fail(m));
    const run = startCli(args);
    await run.waitFor(/"msg":"(resumed from checkpoint|no checkpoint in)/);
    if (expected) {
      t.regex(
        run.stdout(),
        new RegExp(`"checkpoint":"${expected.file}".*"msg":"resumed from checkpoint`),
        `run ${i} resumes from ${expected.file}`,
      );
      resumed++;
    } else {
      t.regex(run.stdout(), /no checkpoint in/);
    }
    t.notRegex(run.stdout(), /unusable/, `run ${i}: no corrupt checkpoint`);
    if (i === 0) {
      // The first run must leave a checkpoint, so every later restart has one to resume from
      // however slow this machine is.
      for (let waited = 0; !new CheckpointStore(stateDir).loadLatest(() => {}); waited += 20) {
        if (waited > 30000) {
          t.fail('the first run wrote no checkpoint within 30 s');
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    // Let it run a seeded random while (0..250 ms of decisions, checkpoints, log writes).
    await new Promise((r) => setTimeout(r, Math.floor(rng.uniform() * 250)));
    run.child.kill('SIGKILL');
    const { signal } = await run.exit;
    t.is(signal, 'SIGKILL');

    const warnings: string[] = [];
    const log = readDecisionLog(logFile, { onWarning: (m) => warnings.push(m) });
    t.true(
      warnings.every((w) => /skipped a torn last line/.test(w)),
      `run ${i}: only a torn last line may be skipped: ${warnings.join('; ')}`,
    );
    t.true(log.records.length >= recordsBefore, `run ${i}: the log only grows`);
    recordsBefore = log.records.length;
  }
  t.true(resumed >= KILLS - 1, `resumed ${resumed} times`);

  // A last, clean run resumes and finishes normally.
  const last = await runCli([...args, '--decisions', '20']);
  t.is(last.code, 0, last.stderr);
  t.regex(last.stdout, /resumed from checkpoint/);
  const final = readDecisionLog(logFile, { onWarning: (m) => t.fail(m) });
  t.true(final.decisions.length >= 20);
  const ids = new Set(final.decisions.map((d) => d.id));
  t.is(ids.size, final.decisions.length, 'decision ids stay unique across restarts');
});
