/**
 * In the QEMU guest, on the real mlproxy.ko: rmmod while /dev/mlproxy is open.
 * The file holds a reference on the module (fops.owner), so rmmod must refuse
 * ("in use") while any file is open, even a controlling one with a reader blocked
 * in read(), the open files keep working, and rmmod succeeds once they are closed.
 * mlproxy_synthetic.ko pins mlproxy.ko by its symbols too, so each check takes it
 * out first (its subsystem may go while files are open: they get a GONE record).
 * Load/unload cycles leave the kernel log clean. Run by scripts/vm/test-vm.sh.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { REASON_GONE } from '../../src/abi/constants.js';
import {
  DEVICE_PATH,
  FAST_PARAMS,
  insmod,
  kernelMark,
  kernelProblems,
  loadModule,
  moduleLoaded,
  rmmod,
  tryUnload,
  unloadModule,
} from './helpers/guest.js';
import { RawDevice, sleepMs } from './helpers/rawdev.js';

before(() => kernelMark('unload suite'));
after(() => {
  if (moduleLoaded()) unloadModule();
});

const synthParams = {
  seed: 42,
  period: FAST_PARAMS.synth_period,
  window_ms: FAST_PARAMS.synth_window_ms,
};
const refcnt = () => Number(readFileSync('/sys/module/mlproxy/refcnt', 'utf8'));

test('rmmod refuses while a controlling file is open, succeeds after close', () => {
  loadModule(FAST_PARAMS);
  const dev = new RawDevice({ nonblock: true });
  const id = dev.subsystem('synthetic').id;
  dev.claim(id);
  // The test module may go while the file is open; its subsystem's last record says so.
  rmmod('mlproxy_synthetic');
  assert.ok(
    dev.drainFeedback().some((f) => f.subsysId === id && f.reasons & REASON_GONE),
    'a GONE record for the synthetic subsystem',
  );
  assert.equal(refcnt(), 1, 'only the open file holds mlproxy now');
  const refused = tryUnload();
  assert.equal(refused.ok, false, 'rmmod must not unload a module with an open file');
  assert.match(refused.stderr, /in use/i);
  assert.ok(moduleLoaded());
  assert.ok(existsSync(DEVICE_PATH));
  insmod('mlproxy_synthetic', synthParams);
  const id2 = dev.subsystem('synthetic').id;
  const before = dev.state(id2).epoch;
  // Windows run: the epoch moves (within 10 s however slow the guest).
  for (let waited = 0; dev.state(id2).epoch <= before && waited < 10_000; waited += 5) sleepMs(5);
  assert.ok(dev.state(id2).epoch > before, 'the windows still run after the refused rmmod');
  dev.claim(id2);
  assert.equal(dev.status(id2).mine, true);
  dev.close();
  unloadModule();
  assert.deepEqual(kernelProblems(), []);
});

test('rmmod refuses while another process is blocked in read(); succeeds once it exits', async () => {
  loadModule(FAST_PARAMS);
  // A reader that blocks in read() for one record, then waits to be killed.
  const script =
    "const fs=require('fs');const fd=fs.openSync('/dev/mlproxy','r');" +
    "const b=Buffer.alloc(4096);for(;;){fs.readSync(fd,b,0,b.length,null);process.stdout.write('r');}";
  const reader = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => reader.stdout.once('data', () => resolve()));
  rmmod('mlproxy_synthetic'); // the reader now waits for records that never come
  assert.equal(refcnt(), 1, 'only the reader holds mlproxy now');
  const refused = tryUnload();
  assert.equal(refused.ok, false);
  assert.match(refused.stderr, /in use/i);
  const exited = new Promise<void>((resolve) => reader.once('exit', () => resolve()));
  reader.kill('SIGKILL');
  await exited;
  unloadModule();
  assert.deepEqual(kernelProblems(), []);
});

test('ten load / open / claim / close / unload cycles leave the kernel healthy', () => {
  for (let i = 0; i < 10; i++) {
    loadModule({ ...FAST_PARAMS, synth_window_ms: 5 });
    const dev = new RawDevice({ nonblock: true });
    const id = dev.subsystem('synthetic').id;
    dev.claim(id);
    sleepMs(10);
    dev.readFeedback();
    dev.close();
    unloadModule();
  }
  assert.equal(existsSync(DEVICE_PATH), false);
  assert.deepEqual(kernelProblems(), []);
});
