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

function simArgs(dir: string): string[] {
  return [
    'run',
    '--sim',
    '--virtual-time',
    '--state-dir',
    path.join(dir, 'state'),
    '--log-dir',
    path.join(dir, 'log'),
    '--no-pretty',
  ];
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
  t.regex(badPolicy.stderr, /unknown policy 'lnucb'; known policies:/);
  const badCmd = await runCli(['frobnicate']);
  t.is(badCmd.code, 2);
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

test('status on the simulated device lists subsystems, modes and counters', async (t) => {
  const dir = tempDir('mlp-cli-');
  const r = await runCli(['status', '--sim', '--json', '--state-dir', dir]);
  t.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as {
    simulated: boolean;
    subsystems: { name: string; status: { mode: number; windows: number } }[];
    daemon: unknown;
  };
  t.true(report.simulated);
  t.deepEqual(
    report.subsystems.map((s) => s.name),
    ['synthetic', 'readahead'],
  );
  t.is(report.subsystems[0].status.mode, 0);
  t.is(report.daemon, null);
  const text = await runCli(['status', '--sim', '--state-dir', dir]);
  t.regex(text.stdout, /SIMULATED/);
  t.regex(text.stdout, /synthetic \(id \d+, \d+ ms windows\): mode emergency/);
});

test('run --decisions stops by itself with a summary; status then shows the daemon', async (t) => {
  const dir = tempDir('mlp-cli-');
  const r = await runCli([...simArgs(dir), '--decisions', '300']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /the device is SIMULATED/);
  t.regex(r.stdout, /summary: 300 decisions/);
  t.is(readDecisionLog(path.join(dir, 'log', 'decisions.jsonl')).decisions.length, 300);
  const s = await runCli(['status', '--sim', '--json', '--state-dir', path.join(dir, 'state')]);
  const daemon = (JSON.parse(s.stdout) as { daemon: { running: boolean; runDecisions: number } })
    .daemon;
  t.false(daemon.running);
  t.is(daemon.runDecisions, 300);
});

test('SIGTERM finishes the step, writes a checkpoint and exits 0; SIGHUP reloads or keeps the config', async (t) => {
  const dir = tempDir('mlp-cli-');
  const file = path.join(dir, 'mlproxy.yaml');
  fs.writeFileSync(file, 'checkpoint:\n  everyDecisions: 100000\n  everySeconds: 3600\n');
  const run = startCli([...simArgs(dir), '--config', file]);
  await run.waitFor(/no checkpoint in .*: starting fresh/);

  fs.writeFileSync(file, 'checkpoint:\n  everyDecisions: -1\n');
  run.child.kill('SIGHUP');
  await run.waitFor(
    /config reload failed, keeping the old config.*config\.checkpoint\.everyDecisions: must be >= 1/,
  );

  fs.writeFileSync(
    file,
    'defaults:\n  policy: "ucb1"\n  conservative: false\ncheckpoint:\n  everyDecisions: 100000\n  everySeconds: 3600\n',
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
