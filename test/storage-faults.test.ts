/**
 * Nothing lost: short writes, a full disk (injected ENOSPC, and a real tiny tmpfs where
 * this process may mount one), corrupt checkpoints set aside, temp files of others left
 * alone, the early checkpoint, one daemon per directory.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointStore } from '../src/checkpoint/store.js';
import { readDecisionLog } from '../src/decisionlog/index.js';
import { DecisionLogWriter } from '../src/decisionlog/writer.js';
import { DaemonMetrics } from '../src/metrics/metrics.js';
import { StorageError, nodeIo, tempFileFor, writeAll, writeFileAtomic } from '../src/storage/io.js';
import type { FileIo } from '../src/storage/io.js';
import { DirLockedError, lockHolder } from '../src/storage/lock.js';
import { SimKernel } from '../src/transport/sim/kernel.js';
import { simDevice as openSim } from '../src/transport/sim/fake-kernel.js';
import { decision } from './helpers/records.js';
import { makeDaemon, simDevice, tempDir, testConfig } from './helpers/daemon-harness.js';
import { runCli } from './helpers/spawn-cli.js';

/** Writes at most `chunk` bytes per call (a legal short write), like a busy filesystem. */
function choppyIo(chunk: number): FileIo {
  return {
    ...nodeIo,
    writeSync: (fd, buf, off, len, pos) =>
      nodeIo.writeSync(fd, buf, off, Math.min(len, chunk), pos),
  };
}

/**
 * A disk with `room` bytes left for writes that `applies` to (by fd's file name): the
 * write that crosses it writes what fits and returns the short count (as Linux does),
 * the next one fails with ENOSPC.
 */
function fullDiskIo(
  room: number,
  applies: (file: string) => boolean = () => true,
): FileIo & {
  left: () => number;
} {
  let left = room;
  const nameOf = (fd: number) => fs.readlinkSync(`/proc/self/fd/${fd}`);
  return {
    ...nodeIo,
    left: () => left,
    writeSync(fd, buf, off, len, pos) {
      if (!applies(nameOf(fd))) return nodeIo.writeSync(fd, buf, off, len, pos);
      if (left <= 0) {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
          code: 'ENOSPC',
          errno: -28,
          syscall: 'write',
        });
      }
      const n = nodeIo.writeSync(fd, buf, off, Math.min(len, left), pos);
      left -= n;
      return n;
    },
  };
}

test('writeAll continues short writes to the last byte, and fails a write that makes no progress', (t) => {
  const dir = tempDir('mlp-io-');
  const file = path.join(dir, 'f');
  const data = Buffer.from('x'.repeat(1000) + 'end');
  writeFileAtomic(file, data, { io: choppyIo(7) });
  t.deepEqual(fs.readFileSync(file), data);
  const stuck: FileIo = { ...nodeIo, writeSync: () => 0 };
  const fd = fs.openSync(path.join(dir, 'g'), 'w');
  const e = t.throws(() => writeAll(stuck, fd, data));
  fs.closeSync(fd);
  t.regex(e.message, /short write: 0 of 1003 bytes written/);
});

test('a short write of a checkpoint fails naming the file and the fix, prunes nothing and leaves no temp file', (t) => {
  const dir = tempDir('mlp-ckpt-');
  const good = new CheckpointStore(dir, 3);
  for (let i = 1; i <= 3; i++) good.save({ i, pad: 'p'.repeat(1000) });
  const before = good.list().map((c) => c.file);
  // 600 bytes of room: the next checkpoint (about 1.1 KB) is cut short.
  const store = new CheckpointStore(dir, 3, { io: fullDiskIo(600) });
  const e = t.throws(() => store.save({ i: 4, pad: 'p'.repeat(1000) }), {
    instanceOf: StorageError,
  });
  t.regex(
    e.message,
    /^cannot write the checkpoint .*checkpoint-0000000004\.json: ENOSPC: no space left on device; the filesystem of .* is full: free space there \(df -h .*\), or point the daemon's stateDir\/logDir at a filesystem with room$/,
  );
  t.deepEqual(
    store.list().map((c) => c.file),
    before,
    'the older checkpoints are all kept',
  );
  t.deepEqual(
    fs.readdirSync(dir).filter((n) => n.includes('.tmp-')),
    [],
  );
  t.is(new CheckpointStore(dir, 3).loadLatest<{ i: number }>()?.payload.i, 3);
});

test('constructing or loading a store never removes another process temp file (a live write in flight)', (t) => {
  const dir = tempDir('mlp-ckpt-');
  new CheckpointStore(dir).save({ i: 1 });
  // A live process (the parent of this test worker) writing its checkpoint right now.
  const inFlight = tempFileFor(path.join(dir, 'checkpoint-0000000002.json'), process.ppid);
  fs.writeFileSync(inFlight, 'half a checkpoint');
  const reader = new CheckpointStore(dir);
  reader.loadLatest(() => {}, { setAside: false });
  t.true(fs.existsSync(inFlight));
});

test('a corrupt checkpoint is set aside as *.corrupt, not counted in keep, and pruned once keep newer ones exist', (t) => {
  const dir = tempDir('mlp-ckpt-');
  const store = new CheckpointStore(dir, 2);
  store.save({ i: 1 });
  store.save({ i: 2 });
  const newest = store.save({ i: 3 });
  fs.writeFileSync(newest, fs.readFileSync(newest, 'utf8').replace('"i":3', '"i":9'));
  const warnings: string[] = [];
  const daemonView = new CheckpointStore(dir, 2);
  const loaded = daemonView.loadLatest<{ i: number }>((m) => warnings.push(m), { setAside: true });
  t.is(loaded?.payload.i, 2);
  t.regex(
    warnings[0],
    /checkpoint-0000000003\.json is unusable \(sha256 checksum mismatch.*set aside as checkpoint-0000000003\.json\.corrupt/,
  );
  t.deepEqual(
    daemonView.list().map((c) => c.seq),
    [2],
    'only the checkpoint set aside has left the count',
  );
  t.deepEqual(
    daemonView.listCorrupt().map((c) => c.seq),
    [3],
  );
  // New checkpoints number on past the one set aside; keep counts good ones only.
  t.regex(daemonView.save({ i: 4 }), /checkpoint-0000000004\.json$/);
  t.deepEqual(
    daemonView.list().map((c) => c.seq),
    [4, 2],
  );
  t.is(daemonView.listCorrupt().length, 1, 'kept while it is newer than a kept checkpoint');
  daemonView.save({ i: 5 });
  t.deepEqual(
    daemonView.list().map((c) => c.seq),
    [5, 4],
  );
  t.is(daemonView.listCorrupt().length, 0, 'pruned once keep newer checkpoints exist');
});

test('when every checkpoint is corrupt, a warning says the learning is lost', (t) => {
  const dir = tempDir('mlp-ckpt-');
  const store = new CheckpointStore(dir, 3);
  for (const f of [store.save({ i: 1 }), store.save({ i: 2 })]) fs.writeFileSync(f, 'garbage');
  const warnings: string[] = [];
  t.is(
    new CheckpointStore(dir).loadLatest((m) => warnings.push(m), { setAside: true }),
    undefined,
  );
  t.is(warnings.length, 3);
  t.regex(
    warnings[2],
    /^every checkpoint in .* is unusable \(2 files, set aside as \*\.corrupt\): starting without them, so the learning they held is lost$/,
  );
});

test('a failed decision-log append cuts the file back: no torn line mid-file, and no more appends', (t) => {
  const dir = tempDir('mlp-log-');
  const file = path.join(dir, 'decisions.jsonl');
  const first = new DecisionLogWriter(file);
  for (let i = 0; i < 3; i++) first.append(decision(i));
  first.close();
  const size = fs.statSync(file).size;
  const io = fullDiskIo(100);
  const w = new DecisionLogWriter(file, { io });
  const e = t.throws(() => w.append(decision(3)), { instanceOf: StorageError });
  t.regex(e.message, /^cannot write the decision log .*decisions\.jsonl: ENOSPC.*is full/);
  t.is(fs.statSync(file).size, size, 'cut back to where the line began');
  t.throws(() => w.append(decision(4)), { is: e });
  w.close();
  const warnings: string[] = [];
  t.is(readDecisionLog(file, { onWarning: (m) => warnings.push(m) }).decisions.length, 3);
  t.deepEqual(warnings, []);
  // Short writes that do go through leave whole lines.
  const choppy = new DecisionLogWriter(file, { io: choppyIo(5) });
  choppy.append(decision(5));
  choppy.close();
  t.is(readDecisionLog(file).decisions.length, 4);
});

test('a full disk under the decision log stops the daemon: the file and fix named, the device closed, status stopped, the log whole', async (t) => {
  const dir = tempDir();
  const cfg = testConfig(dir, (c) => {
    c.checkpoint.firstDecisions = 20;
  });
  const kernel = new SimKernel({ clock: 'auto' });
  const io = fullDiskIo(30000, (f) => f.endsWith('decisions.jsonl'));
  const metrics = new DaemonMetrics();
  const { daemon, lines } = makeDaemon(cfg, openSim({ kernel }), { io, metrics });
  const e = await t.throwsAsync(daemon.run(), { instanceOf: StorageError });
  t.regex(e.message, /cannot write the decision log .*decisions\.jsonl: ENOSPC.*free space there/);
  t.true(lines.some((l) => l.level === 50 && /decisions\.jsonl.*stopping/.test(String(l.msg))));
  // The kernel runs its baseline: nobody controls the subsystems any more.
  const probe = openSim({ kernel });
  for (const s of probe.listSubsystems()) t.false(probe.getStatus(s.id).controlled, s.name);
  probe.close();
  const status = JSON.parse(fs.readFileSync(path.join(cfg.stateDir, 'status.json'), 'utf8')) as {
    running: boolean;
    error: string;
  };
  t.false(status.running);
  t.regex(status.error, /ENOSPC/);
  const warnings: string[] = [];
  const log = readDecisionLog(path.join(cfg.logDir, 'decisions.jsonl'), {
    onWarning: (m) => warnings.push(m),
  });
  t.deepEqual(warnings, [], 'no torn line');
  t.true(log.records.length > 0);
  // The learning is saved: the final checkpoint went to the (not full) state directory.
  const latest = new CheckpointStore(cfg.stateDir).loadLatest();
  t.truthy(latest);
  t.is(
    (await metrics.registry.getSingleMetricAsString('mlproxy_decision_log_write_failures_total'))
      .split('\n')
      .at(-1),
    'mlproxy_decision_log_write_failures_total 1',
  );
});

test('failing checkpoints keep the older ones, are retried on the cadence, and stop the daemon after 3 in a row', async (t) => {
  const dir = tempDir();
  const cfg = testConfig(dir, (c) => {
    c.checkpoint.firstDecisions = 10;
    c.checkpoint.everyDecisions = 30;
    c.checkpoint.everySeconds = 3600;
  });
  const seed = await makeDaemon(cfg, simDevice(), { maxDecisions: 10 }).daemon.run();
  const good = new CheckpointStore(cfg.stateDir).list().map((c) => c.file);
  const io = fullDiskIo(0, (f) => /checkpoint-\d+\.json\.tmp-/.test(f));
  const metrics = new DaemonMetrics();
  const { daemon, lines } = makeDaemon(cfg, simDevice(), { io, metrics, maxDecisions: 100000 });
  const e = await t.throwsAsync(daemon.run(), { instanceOf: StorageError });
  t.regex(
    e.message,
    /3 checkpoints failed in a row \(the last good checkpoint checkpoint-\d+\.json is kept\)/,
  );
  const errors = lines.filter((l) => l.level === 50).map((l) => String(l.msg));
  t.regex(
    errors[0],
    /checkpoint failed: cannot write the checkpoint .*ENOSPC.*retrying on the cadence \(1 of 3/,
  );
  t.deepEqual(
    new CheckpointStore(cfg.stateDir).list().map((c) => c.file),
    good,
  );
  t.is(seed.lastCheckpoint, good[0]);
  t.regex(
    await metrics.registry.getSingleMetricAsString('mlproxy_checkpoint_failures_total'),
    /mlproxy_checkpoint_failures_total 3$/,
  );
  // Retried on the cadence, not on every turn: about 10 + 2 * 30 decisions were made.
  const summary = daemon.summary();
  t.true(summary.decisions >= 70 && summary.decisions < 200, `${summary.decisions} decisions`);
});

test('the first checkpoint comes early in a run, then the cadence applies', async (t) => {
  const dir = tempDir();
  const cfg = testConfig(dir, (c) => {
    c.checkpoint.everyDecisions = 500;
    c.checkpoint.everySeconds = 3600;
  });
  t.is(cfg.checkpoint.firstDecisions, 32, 'the default');
  await makeDaemon(cfg, simDevice(), { maxDecisions: 100 }).daemon.run();
  const store = new CheckpointStore(cfg.stateDir);
  const seqs = store.list().map((c) => c.seq);
  t.deepEqual(seqs, [2, 1], 'the early one and the final one');
  const early = fs.readFileSync(store.list()[1].file, 'utf8').split('\n')[1];
  const learners = (JSON.parse(early) as { learners: { stats: { decisions: number } }[] }).learners;
  const decisions = learners.reduce((a, l) => a + l.stats.decisions, 0);
  t.true(decisions >= 32 && decisions < 40, `early checkpoint after ${decisions} decisions`);
});

test('two daemons on one state directory: the second is refused naming the holder, before touching anything', async (t) => {
  const dir = tempDir();
  const cfg = testConfig(dir);
  const first = makeDaemon(cfg, simDevice(), { durationMs: 60000 });
  const running = first.daemon.run();
  // Wait until the first one holds the lock (it answers with its pid), however slow the machine.
  while ((await lockHolder(cfg.stateDir, 1000))?.pid !== process.pid) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const second = makeDaemon(cfg, simDevice(), { maxDecisions: 5 });
  const e = await t.throwsAsync(second.daemon.run(), { instanceOf: DirLockedError });
  t.is(e.holderPid, process.pid);
  t.regex(e.message, /the state directory .* is in use by another mlproxy daemon \(pid \d+\)/);
  first.daemon.requestStop('test');
  await running;
  // Released: a next daemon gets it.
  await t.notThrowsAsync(makeDaemon(cfg, simDevice(), { maxDecisions: 5 }).daemon.run());
});

test('temp files of dead processes are removed at start under the lock; a live process keeps its own', async (t) => {
  const dir = tempDir();
  const cfg = testConfig(dir);
  fs.mkdirSync(cfg.stateDir, { recursive: true });
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const sleeper = spawn('sleep', ['30']);
  const deadTemp = tempFileFor(path.join(cfg.stateDir, 'checkpoint-0000000001.json'), dead);
  const liveTemp = tempFileFor(path.join(cfg.stateDir, 'checkpoint-0000000001.json'), sleeper.pid!);
  fs.writeFileSync(deadTemp, 'x');
  fs.writeFileSync(liveTemp, 'x');
  const { daemon, lines } = makeDaemon(cfg, simDevice(), { maxDecisions: 5 });
  await daemon.run();
  sleeper.kill();
  t.false(fs.existsSync(deadTemp));
  t.true(fs.existsSync(liveTemp));
  t.true(lines.some((l) => /removed temp files of crashed runs/.test(String(l.msg))));
});

/** A tiny tmpfs, when this process may mount one (root); undefined otherwise. */
function tinyTmpfs(kib: number): { dir: string; unmount: () => void } | undefined {
  const dir = tempDir('mlp-tmpfs-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir]);
  if (r.status !== 0) return undefined;
  return { dir, unmount: () => spawnSync('umount', ['-l', dir]) };
}

test('a real full disk (a 96 KiB tmpfs): exit 1 naming the path and the fix; the valid checkpoints survive', async (t) => {
  const fsys = tinyTmpfs(96);
  if (!fsys) {
    t.log('cannot mount a tmpfs here (not root?): the injected ENOSPC tests above cover this');
    t.pass();
    return;
  }
  t.teardown(fsys.unmount);
  const stateDir = path.join(fsys.dir, 'state');
  const r = await runCli([
    'run',
    '--sim',
    '--virtual-time',
    '--state-dir',
    stateDir,
    '--checkpoint-every',
    '50',
    '--decisions',
    '100000000',
    '--no-pretty',
  ]);
  t.is(r.code, 1, r.stdout.slice(-2000));
  t.regex(
    r.stderr,
    /cannot write the (decision log|checkpoint) .*: ENOSPC.*the filesystem of .* is full/,
  );
  const latest = new CheckpointStore(stateDir).loadLatest((m) => t.fail(m));
  t.truthy(latest, 'a valid checkpoint survives');
  const warnings: string[] = [];
  readDecisionLog(path.join(stateDir, 'log', 'decisions.jsonl'), {
    onWarning: (m) => warnings.push(m),
  });
  t.true(
    warnings.every((w) => /torn last line/.test(w)),
    warnings.join('; '),
  );
  const status = JSON.parse(fs.readFileSync(path.join(stateDir, 'status.json'), 'utf8')) as {
    running: boolean;
  };
  t.false(status.running, 'status.json says stopped');
});
