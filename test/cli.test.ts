import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointStore } from '../src/checkpoint/store.js';
import { readDecisionLog } from '../src/decisionlog/index.js';
import { tempDir } from './helpers/daemon-harness.js';
import { REPO, runCli, startCli } from './helpers/spawn-cli.js';

const version = (
  JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

/** `run --sim --virtual-time` on <dir>/state and <dir>/log (or these; logDir null: no --log-dir). */
function simArgs(
  dir: string,
  stateDir = path.join(dir, 'state'),
  logDir: string | null = path.join(dir, 'log'),
): string[] {
  const log = logDir === null ? [] : ['--log-dir', logDir];
  return ['run', '--sim', '--virtual-time', '--state-dir', stateDir, ...log, '--no-pretty'];
}

test('--help lists the commands and exit codes; --version prints package.json version', async (t) => {
  const help = await runCli(['--help']);
  t.is(help.code, 0);
  for (const word of ['run', 'status', 'Exit codes:', '3  device missing']) {
    t.true(help.stdout.includes(word), word);
  }
  const runHelp = await runCli(['run', '--help']);
  t.is(runHelp.code, 0);
  t.true(runHelp.stdout.includes('--decisions <n>'));
  const v = await runCli(['--version']);
  t.is(v.code, 0);
  t.is(v.stdout.trim(), version);
});

test('bad arguments exit 2 with a clear message', async (t) => {
  const unknown = await runCli(['run', '--bogus']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown option '--bogus'/);
  const badPort = await runCli(['run', '--sim', '--metrics-port', '70000']);
  t.is(badPort.code, 2);
  t.regex(badPort.stderr, /--metrics-port <port>.*must be an integer in \[0, 65535\], got "70000"/);
  const badPolicy = await runCli(['run', '--sim', '--policy', 'lnucb']);
  t.is(badPolicy.code, 2);
  t.regex(badPolicy.stderr, /unknown policy 'lnucb'; did you mean "linucb"\? known policies:/);
  const badCmd = await runCli(['frobnicate']);
  t.is(badCmd.code, 2);
  // Options of the simulated device need it.
  for (const flag of [['--virtual-time'], ['--sim-window-ms', '5']]) {
    const r = await runCli(['run', ...flag, '--state-dir', tempDir('mlp-cli-')]);
    t.is(r.code, 2, flag[0]);
    t.regex(
      r.stderr,
      new RegExp(
        `${flag[0]} applies only to the simulated device: add --sim \\(or sim\\.enabled: true in the config\\)`,
      ),
    );
  }
});

test('a bad config file exits 2 naming the field and the fix', async (t) => {
  const dir = tempDir('mlp-cli-');
  const file = path.join(dir, 'bad.yaml');
  fs.writeFileSync(file, 'metrics:\n  port: "high"\n');
  const r = await runCli([...simArgs(dir), '--config', file]);
  t.is(r.code, 2);
  t.regex(
    r.stderr,
    /config\.metrics\.port: must be integer or null, got "high"; write a whole number/,
  );
});

test('a config subsystem the device lacks exits 2 with did-you-mean', async (t) => {
  const dir = tempDir('mlp-cli-');
  const file = path.join(dir, 'mlproxy.yaml');
  fs.writeFileSync(file, 'subsystems:\n  - name: synthetc\n');
  const r = await runCli([...simArgs(dir), '--config', file, '--decisions', '5']);
  t.is(r.code, 2);
  t.regex(
    r.stderr,
    /config\.subsystems\[0\]\.name: the device .* has no subsystem "synthetc"; did you mean "synthetic"\?/,
  );
});

test('a missing device exits 3 with the fix', async (t) => {
  const dir = tempDir('mlp-cli-');
  const r = await runCli([
    'run',
    '--device',
    path.join(dir, 'no-such-device'),
    '--state-dir',
    dir,
    '--no-pretty',
  ]);
  t.is(r.code, 3);
  t.regex(r.stderr, /does not exist: the mlproxy kernel module is not loaded.*--sim/);
  const s = await runCli(['status', '--device', path.join(dir, 'no-such-device')]);
  t.is(s.code, 3);
});

test('status --sim shows the simulated daemon, not a fresh device; nothing there says so', async (t) => {
  const dir = tempDir('mlp-cli-');
  const none = await runCli(['status', '--sim', '--json', '--state-dir', dir]);
  t.is(none.code, 0, none.stderr);
  const empty = JSON.parse(none.stdout) as {
    subsystems: unknown[];
    daemon: unknown;
    deviceError: string;
  };
  t.deepEqual(empty.subsystems, []);
  t.is(empty.daemon, null);
  t.regex(empty.deviceError, /lives inside `mlproxy run --sim`/);
});

test('run --decisions stops by itself with a summary; status then shows the daemon and its simulated kernel', async (t) => {
  const dir = tempDir('mlp-cli-');
  const r = await runCli([...simArgs(dir), '--decisions', '300']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /the device is SIMULATED/);
  t.regex(r.stdout, /summary: 300 decisions/);
  t.is(readDecisionLog(path.join(dir, 'log', 'decisions.jsonl')).decisions.length, 300);
  const s = await runCli(['status', '--sim', '--json', '--state-dir', path.join(dir, 'state')]);
  t.is(s.code, 0, s.stderr);
  const report = JSON.parse(s.stdout) as {
    simulated: boolean;
    subsystems: { name: string; status: { windows: number } }[];
    daemon: {
      state: string;
      status: { running: boolean; runDecisions: number; stopReason: string };
    };
  };
  t.true(report.simulated);
  t.is(report.daemon.state, 'stopped');
  t.false(report.daemon.status.running);
  t.is(report.daemon.status.runDecisions, 300);
  t.is(report.daemon.status.stopReason, 'reached 300 decisions');
  // The counters of the daemon's own simulated kernel, not of a fresh one.
  t.deepEqual(
    report.subsystems.map((x) => x.name),
    ['synthetic', 'readahead'],
  );
  t.true(report.subsystems[0].status.windows > 0);
  const text = await runCli(['status', '--sim', '--state-dir', path.join(dir, 'state')]);
  t.regex(text.stdout, /SIMULATED/);
  t.regex(text.stdout, /synthetic: mode \w+/);
  t.regex(text.stdout, /daemon: stopped \(pid \d+, at .*: reached 300 decisions\)/);
});

test('status without /dev/mlproxy still shows the daemon (exit 3); after kill -9 it says the pid is gone', async (t) => {
  const dir = tempDir('mlp-cli-');
  const stateDir = path.join(dir, 'state');
  const run = startCli([...simArgs(dir), '--duration', '0']);
  await run.waitFor(/no checkpoint in .*: starting fresh/);
  const cfg = path.join(dir, 'mlproxy.yaml');
  fs.writeFileSync(cfg, `device: ${path.join(dir, 'no-such-device')}\nstateDir: ${stateDir}\n`);
  // The status file appears with the first checkpoint (after firstDecisions).
  while (!fs.existsSync(path.join(stateDir, 'status.json')))
    await new Promise((r) => setTimeout(r, 20));
  const live = await runCli(['status', '--config', cfg, '--json']);
  t.is(live.code, 3, 'the device is missing');
  t.regex(live.stderr, /does not exist: the mlproxy kernel module is not loaded/);
  const liveReport = JSON.parse(live.stdout) as {
    device: null;
    daemon: { state: string; holderPid: number };
  };
  t.is(liveReport.device, null);
  t.is(liveReport.daemon.state, 'running');
  t.is(liveReport.daemon.holderPid, run.child.pid!);
  run.child.kill('SIGKILL');
  await run.exit;
  const dead = await runCli(['status', '--config', cfg]);
  t.is(dead.code, 3);
  t.regex(
    dead.stdout,
    new RegExp(`daemon: NOT running: pid ${run.child.pid} is gone without a clean exit`),
  );
});

test('a second daemon on the same state directory exits 2 naming the holder; --state-dir alone moves the log', async (t) => {
  const dir = tempDir('mlp-cli-');
  const first = startCli([...simArgs(dir), '--duration', '0']);
  await first.waitFor(/no checkpoint in .*: starting fresh/);
  const second = await runCli([...simArgs(dir), '--decisions', '10']);
  t.is(second.code, 2, second.stdout);
  t.regex(
    second.stderr,
    new RegExp(
      `the state directory .* is in use by another mlproxy daemon \\(pid ${first.child.pid}\\); one daemon per directory`,
    ),
  );
  // Its own state directory, but the same log directory: refused too.
  const sharedLog = await runCli([...simArgs(dir, path.join(dir, 'other')), '--decisions', '10']);
  t.is(sharedLog.code, 2);
  t.regex(
    sharedLog.stderr,
    new RegExp(
      `the log directory .* is in use by another mlproxy daemon \\(pid ${first.child.pid}\\)`,
    ),
  );
  // --state-dir alone: the decision log goes with it, so the runs do not share one.
  const own = await runCli([...simArgs(dir, path.join(dir, 'own'), null), '--decisions', '10']);
  t.is(own.code, 0, own.stderr);
  t.is(readDecisionLog(path.join(dir, 'own', 'log', 'decisions.jsonl')).decisions.length, 10);
  first.child.kill('SIGTERM');
  t.is((await first.exit).code, 0);
});

test('SIGTERM finishes the step, writes a checkpoint and exits 0; SIGHUP reloads or keeps the config', async (t) => {
  const dir = tempDir('mlp-cli-');
  const file = path.join(dir, 'mlproxy.yaml');
  fs.writeFileSync(
    file,
    'checkpoint:\n  firstDecisions: 100000\n  everyDecisions: 100000\n  everySeconds: 3600\n',
  );
  const run = startCli([...simArgs(dir), '--config', file]);
  await run.waitFor(/no checkpoint in .*: starting fresh/);

  fs.writeFileSync(file, 'checkpoint:\n  everyDecisions: -1\n');
  run.child.kill('SIGHUP');
  await run.waitFor(
    /config reload failed, keeping the old config.*config\.checkpoint\.everyDecisions: must be >= 1/,
  );

  fs.writeFileSync(
    file,
    'defaults:\n  policy: "ucb1"\n  conservative: false\ncheckpoint:\n  firstDecisions: 100000\n  everyDecisions: 100000\n  everySeconds: 3600\n',
  );
  run.child.kill('SIGHUP');
  await run.waitFor(/config reloaded/);
  t.regex(run.stdout(), /policy changed from conservative:.* to ucb1: learning restarts/);

  run.child.kill('SIGTERM');
  const { code } = await run.exit;
  t.is(code, 0, run.stderr());
  t.regex(run.stdout(), /SIGTERM: finishing the current step/);
  t.regex(run.stdout(), /summary: \d+ decisions/);
  const store = new CheckpointStore(path.join(dir, 'state'));
  const latest = store.loadLatest<{ learners: { policyLabel: string }[] }>();
  t.truthy(latest, 'a checkpoint was written on the way out');
  t.is(latest?.payload.learners[0].policyLabel, 'ucb1');
  t.is(store.list().length, 1, 'only the exit checkpoint (the periodic ones were disabled)');
});
