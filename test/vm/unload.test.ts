/**
 * In the QEMU guest, on the real mlproxy.ko: rmmod while /dev/mlproxy is open.
 * The file holds a reference on the module (fops.owner), so rmmod must refuse
 * ("in use") while any file is open, even a controlling one with a reader blocked
 * in read(), the open files keep working, and rmmod succeeds once they are closed.
 * Load/unload cycles leave the kernel log clean. Run by scripts/vm/test-vm.sh.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  DEVICE_PATH,
  FAST_PARAMS,
  kernelMark,
  kernelProblems,
  loadModule,
  moduleLoaded,
  tryUnload,
  unloadModule,
} from './helpers/guest.js';
import { RawDevice, sleepMs } from './helpers/rawdev.js';

before(() => kernelMark('unload suite'));
after(() => {
  if (moduleLoaded()) unloadModule();
});

test('rmmod refuses while a controlling file is open, succeeds after close', () => {
  loadModule(FAST_PARAMS);
  const dev = new RawDevice({ nonblock: true });
  const id = dev.subsystem('synthetic').id;
  dev.claim(id);
  const refused = tryUnload();
  assert.equal(refused.ok, false, 'rmmod must not unload a module with an open file');
  assert.match(refused.stderr, /in use/i);
  assert.ok(moduleLoaded());
  assert.ok(existsSync(DEVICE_PATH));
  const before = dev.state(id).epoch;
  sleepMs(FAST_PARAMS.synth_window_ms * 3);
  assert.ok(dev.state(id).epoch > before, 'the windows still run after the refused rmmod');
  assert.equal(dev.status(id).mine, true);
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
