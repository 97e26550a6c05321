/**
 * In the QEMU guest, on the real mlproxy.ko: the daemon (`mlproxy run`, default policy,
 * no --sim) tunes the synthetic subsystem and moves it out of emergency and up the mode
 * ladder; SIGTERM stops it cleanly with a checkpoint, and its decision log reads back.
 * Run by scripts/vm/test-vm.sh.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { MODE_COLLABORATION, MODE_EMERGENCY } from '../../src/abi/constants.js';
import { readDecisionLog } from '../../src/decisionlog/index.js';
import { IoctlDevice } from '../../src/transport/ioctl-device.js';
import type { Status } from '../../src/transport/device.js';
import {
  DEVICE_PATH,
  FAST_PARAMS,
  kernelMark,
  kernelProblems,
  loadModule,
  unloadModule,
} from './helpers/guest.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/**
 * Upper bound on the climb, not a speed target: under TCG it takes 10-30 s of 25 ms
 * windows, 3-4 times that on the debug kernel (npm run test:vm:debug).
 */
const CLIMB_LIMIT_MS = 300_000;

before(() => {
  kernelMark('daemon on the real module');
  loadModule(FAST_PARAMS);
});

after(() => {
  unloadModule();
  assert.deepEqual(kernelProblems(), []);
});

test('the daemon climbs the ladder on the real synthetic subsystem and stops cleanly', async () => {
  const dir = mkdtempSync('/tmp/mlp-daemon-');
  const daemon = spawn(
    process.execPath,
    [
      path.join(REPO, 'dist/cli/main.js'),
      'run',
      '--device',
      DEVICE_PATH,
      '--state-dir',
      dir,
      '--log-dir',
      dir,
      '--no-pretty',
      '--progress',
      '0',
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  daemon.stdout.on('data', (b: Buffer) => (out += b.toString()));
  daemon.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) =>
    daemon.on('exit', (code) => resolve(code)),
  );

  // A second, read-only view of the device watches the kernel's own verdict on the advice.
  const watcher = new IoctlDevice(DEVICE_PATH);
  let status: Status | undefined;
  let highest: number = MODE_EMERGENCY;
  try {
    const id = watcher.listSubsystems().find((s) => s.name === 'synthetic')?.id;
    assert.ok(id, 'the module registers the synthetic subsystem');
    const start = Date.now();
    while (Date.now() - start < CLIMB_LIMIT_MS && highest < MODE_COLLABORATION) {
      if (daemon.exitCode !== null) assert.fail(`the daemon exited early:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
      status = watcher.getStatus(id);
      highest = Math.max(highest, status.mode);
    }
  } finally {
    watcher.close();
    daemon.kill('SIGTERM');
  }
  const code = await exited;
  assert.ok(
    highest >= MODE_COLLABORATION,
    `highest mode ${highest}; status ${JSON.stringify(status)}\n${out}`,
  );
  assert.ok(status && status.promotions >= 1, 'the kernel counted a promotion');
  assert.ok(status && status.controlled, 'the daemon held the subsystem');
  assert.equal(code, 0, `SIGTERM exits 0:\n${out}`);
  assert.match(out, /checkpoint/);

  const log = readDecisionLog(path.join(dir, 'decisions.jsonl'), {
    onWarning: (m) => assert.match(m, /torn last line/),
  });
  assert.ok(log.decisions.length > 0, 'decisions were logged');
  assert.ok(
    log.decisions.some((d) => d.reward !== undefined),
    'kernel feedback turned into rewards',
  );
});
