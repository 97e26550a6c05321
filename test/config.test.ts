import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  applyOverrides,
  checkSubsystemsOnDevice,
  loadConfig,
  parseConfig,
  settingsFor,
} from '../src/config/load.js';
import { makeDaemon, simDevice, tempDir, testConfig } from './helpers/daemon-harness.js';

function problems(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const dirs = { stateDir: '/tmp/s', logDir: '/tmp/l' };

test('the example config in packaging/ is valid', (t) => {
  const cfg = loadConfig('packaging/mlproxy.example.yaml', dirs);
  t.is(cfg.device, '/dev/mlproxy');
  t.truthy(settingsFor(cfg, 'synthetic'));
});

test('unknown field: named with a guess and the known fields', (t) => {
  const [p] = problems('metrics:\n  prot: 9464\n');
  t.regex(
    p,
    /^config\.metrics\.prot: unknown field "prot"; did you mean "port"\? remove it or use one of: port$/,
  );
  t.regex(
    problems('colour: red\n')[0],
    /^config\.colour: unknown field "colour"; remove it or use one of: device, sim,/,
  );
});

test('wrong type: the field, what it must be, and what it got', (t) => {
  t.deepEqual(problems('seed: "abc"\n'), [
    'config.seed: must be integer, got "abc"; write a whole number',
  ]);
  t.regex(
    problems('subsystems:\n  - name: synthetic\n    maxArms: many\n')[0],
    /^config\.subsystems\[0\]\.maxArms: must be integer, got "many"/,
  );
  t.regex(
    problems('defaults:\n  conservative: yes\n')[0],
    /^config\.defaults\.conservative: must be false \(no budget\) or \{ alpha: <number in \[0, 1\)> \}, got "yes"/,
  );
});

test('unknown policy: the field and the known policies', (t) => {
  const [p] = problems('subsystems:\n  - name: synthetic\n    policy: "lnucb:alpha=1"\n');
  t.regex(
    p,
    /^config\.subsystems\[0\]\.policy: unknown policy 'lnucb'; did you mean "linucb"\? known policies: .*linucb/,
  );
  const [q] = problems('defaults:\n  policy: "linucb:alhpa=1"\n');
  t.regex(
    q,
    /^config\.defaults\.policy: policy "linucb" has no parameter "alhpa"; did you mean "alpha"\? it takes alpha, lambda/,
  );
});

test('bad port: the range', (t) => {
  t.deepEqual(problems('metrics:\n  port: 70000\n'), [
    'config.metrics.port: must be <= 65535, got 70000',
  ]);
  t.regex(problems('metrics:\n  port: -1\n')[0], /^config\.metrics\.port: must be >= 0, got -1/);
});

test('every problem is reported at once; duplicates and syntax errors too', (t) => {
  t.is(problems('seed: x\nlogLevel: loud\n').length, 2);
  t.regex(
    problems('logLevel: loud\n')[0],
    /config\.logLevel: must be one of "trace", .*; got "loud"/,
  );
  t.regex(
    problems('subsystems:\n  - name: a\n  - name: a\n')[0],
    /config\.subsystems\[1\]\.name: "a" is listed twice/,
  );
  t.regex(problems('seed: [1,\n')[0], /cannot parse it as YAML or JSON/);
  t.regex(
    problems('subsystems:\n  - policy: ucb1\n')[0],
    /config\.subsystems\[0\]: missing required field "name"; add it/,
  );
});

test('JSON works too; files merge onto defaults; flags override the file', (t) => {
  const dir = tempDir('mlp-cfg-');
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      stateDir: 'st',
      seed: 9,
      defaults: { safety: { maxStep: 1 } },
      subsystems: [
        { name: 'readahead', enabled: false },
        { name: 'synthetic', policy: 'ucb1' },
      ],
    }),
  );
  const cfg = loadConfig(file, dirs);
  t.is(cfg.stateDir, path.join(dir, 'st'), 'relative to the file');
  t.is(cfg.seed, 9);
  t.is(cfg.defaults.safety.collapseRatio, 0.7, 'untouched defaults stay');
  t.is(settingsFor(cfg, 'readahead'), undefined);
  t.is(settingsFor(cfg, 'synthetic')?.policy, 'ucb1');
  t.is(settingsFor(cfg, 'synthetic')?.safety.maxStep, 1);
  const over = applyOverrides(cfg, { seed: 3, policy: 'linucb:alpha=2', metricsPort: 0 });
  t.is(over.seed, 3);
  t.is(settingsFor(over, 'synthetic')?.policy, 'linucb:alpha=2');
  t.is(over.metrics.port, 0);
  t.is(cfg.seed, 9, 'the loaded config is not mutated');
});

test('a missing config file names the path', (t) => {
  const err = t.throws(() => loadConfig('/nonexistent/mlproxy.yaml', dirs), {
    instanceOf: ConfigError,
  });
  t.regex(err?.message ?? '', /\/nonexistent\/mlproxy\.yaml.*ENOENT; check the --config path/s);
});

test('the decision log follows the state directory unless a log directory is given', (t) => {
  const dir = tempDir('mlp-cfg-');
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, 'stateDir: st\n');
  t.is(loadConfig(file, dirs).logDir, path.join(dir, 'st', 'log'), 'stateDir alone in the file');
  fs.writeFileSync(file, 'stateDir: st\nlogDir: lg\n');
  t.is(loadConfig(file, dirs).logDir, path.join(dir, 'lg'));
  const base = loadConfig(undefined, dirs);
  t.is(applyOverrides(base, { stateDir: '/srv/a' }).logDir, '/srv/a/log', '--state-dir alone');
  t.is(applyOverrides(base, { stateDir: '/srv/a', logDir: '/srv/l' }).logDir, '/srv/l');
  t.is(applyOverrides(base, {}).logDir, dirs.logDir);
});

test('--virtual-time and --sim-window-ms without the simulated device are errors', (t) => {
  const base = loadConfig(undefined, dirs);
  const e = t.throws(() => applyOverrides(base, { virtualTime: true, simWindowMs: 5 }), {
    instanceOf: ConfigError,
  });
  t.deepEqual(e.problems, [
    '--virtual-time applies only to the simulated device: add --sim (or sim.enabled: true in the config), or drop --virtual-time',
    '--sim-window-ms applies only to the simulated device: add --sim (or sim.enabled: true in the config), or drop --sim-window-ms',
  ]);
  t.is(applyOverrides(base, { sim: true, virtualTime: true }).sim.clock, 'auto');
  const simInFile = applyOverrides(base, { sim: true });
  t.is(applyOverrides(simInFile, { simWindowMs: 5 }).sim.windowMs, 5, 'sim.enabled from the file');
});

test('a config subsystem the device lacks is an error with did-you-mean, unless optional or disabled', async (t) => {
  const cfg = loadConfig(undefined, dirs);
  cfg.subsystems = [
    { name: 'synthetc' },
    { name: 'zfs-arc', optional: true },
    { name: 'x', enabled: false },
  ];
  const e = t.throws(
    () => checkSubsystemsOnDevice(cfg, ['synthetic', 'readahead'], '/dev/mlproxy'),
    {
      instanceOf: ConfigError,
    },
  );
  t.deepEqual(e.problems, [
    'config.subsystems[0].name: the device /dev/mlproxy has no subsystem "synthetc"; did you mean "synthetic"? it has: synthetic, readahead. Fix the name, or add "optional: true" to the entry if this machine may lack it',
  ]);
  cfg.subsystems.shift();
  t.deepEqual(checkSubsystemsOnDevice(cfg, ['synthetic'], 'd').skipped, ['zfs-arc']);
  // In the daemon: refused before anything runs; an optional one is skipped.
  const dir = tempDir('mlp-cfg-');
  const bad = testConfig(dir, (c) => {
    c.subsystems = [{ name: 'synthetc' }];
  });
  await t.throwsAsync(makeDaemon(bad, simDevice()).daemon.run(), {
    instanceOf: ConfigError,
    message: /no subsystem "synthetc"; did you mean "synthetic"\?/,
  });
  const ok = testConfig(tempDir('mlp-cfg-'), (c) => {
    c.subsystems = [{ name: 'zfs-arc', optional: true }];
  });
  const { daemon, lines } = makeDaemon(ok, simDevice(), { maxDecisions: 5 });
  await daemon.run();
  t.true(
    lines.some((l) =>
      /zfs-arc: not on this device \(optional in the config\): skipped/.test(String(l.msg)),
    ),
  );
});
