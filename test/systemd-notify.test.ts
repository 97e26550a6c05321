/** The systemd notifier: nothing without NOTIFY_SOCKET; READY, rate-limited WATCHDOG, STOPPING. */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { systemdNotifier } from '../cli/systemd.js';
import { tempDir } from './helpers/daemon-harness.js';

/** A fake systemd-notify that appends its arguments to a file. */
function fakeNotify(dir: string): { command: string; calls: () => string[] } {
  const out = path.join(dir, 'calls');
  const command = path.join(dir, 'systemd-notify');
  fs.writeFileSync(command, `#!/bin/sh\necho "$*" >> '${out}'\n`, { mode: 0o755 });
  return {
    command,
    calls: () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n') : []),
  };
}

async function settle(calls: () => string[], n: number): Promise<void> {
  for (let i = 0; i < 500 && calls().length < n; i++) await new Promise((r) => setTimeout(r, 10));
}

test('without NOTIFY_SOCKET the notifier does nothing', async (t) => {
  const fake = fakeNotify(tempDir('mlp-notify-'));
  const n = systemdNotifier({ env: {}, command: fake.command });
  n.ready('x');
  n.alive();
  n.stopping();
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(fake.calls(), []);
});

test('READY=1, then WATCHDOG=1 at most every half WatchdogSec, then STOPPING=1', async (t) => {
  const fake = fakeNotify(tempDir('mlp-notify-'));
  let clock = 0;
  const n = systemdNotifier({
    env: {
      NOTIFY_SOCKET: '/run/systemd/notify',
      WATCHDOG_USEC: '10000000',
      WATCHDOG_PID: String(process.pid),
    },
    command: fake.command,
    now: () => clock,
  });
  n.ready('tuning sim');
  await settle(fake.calls, 1);
  for (clock = 0; clock <= 12000; clock += 1000) {
    n.alive();
    await settle(fake.calls, 1 + Math.floor(clock / 5000));
  }
  n.stopping();
  await settle(fake.calls, 4);
  t.deepEqual(fake.calls(), [
    '--ready --status=tuning sim',
    'WATCHDOG=1',
    'WATCHDOG=1',
    'STOPPING=1',
  ]);
});

test('a watchdog meant for another pid is not ours to feed', async (t) => {
  const fake = fakeNotify(tempDir('mlp-notify-'));
  const n = systemdNotifier({
    env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000', WATCHDOG_PID: '1' },
    command: fake.command,
  });
  n.alive();
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(fake.calls(), []);
});
