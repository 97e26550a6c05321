/**
 * In the QEMU guest, on the real mlproxy.ko: the readahead subsystem on a RAM disk
 * (brd, /dev/ram0), read through its block device file by mlp-reader
 * (demo/reader.c, MLP_READER). What docs/readahead.md promises:
 *  - the baseline is the administrator's exact read_ahead_kb, and the module never
 *    writes it; a change of it is adopted (EMERGENCY, MLP_TRANS_BASELINE, new def);
 *  - advice reaches the reads of a file opened before the advice began, through read(2)
 *    and the mmap read-around, and leaves a file's own hint (POSIX_FADV_SEQUENTIAL) alone;
 *  - the efficiency counts the bytes read(2) and mmap faults deliver, not O_DIRECT;
 *  - calls the probes miss make a window unreliable;
 *  - the module holds no open block device: rmmod brd works, and the subsystem goes.
 * Run by scripts/vm/test-vm.sh.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  MODE_EMERGENCY,
  MODE_LEARNING,
  MODE_RECOMMENDATION,
  REASON_IDLE,
  REASON_UNRELIABLE,
  TRANS_BASELINE,
} from '../../src/abi/constants.js';
import { IoctlDevice } from '../../src/transport/ioctl-device.js';
import type { Feedback, SubsystemInfo } from '../../src/transport/device.js';
import {
  DEVICE_PATH,
  kernelLog,
  kernelMark,
  kernelProblems,
  loadModule,
  moduleLoaded,
  unloadModule,
} from './helpers/guest.js';

const READER = process.env.MLP_READER ?? '';
const RAM = '/dev/ram0';
const SYSFS = '/sys/block/ram0/queue/read_ahead_kb';
const MiB = 1 << 20;
const WINDOW_MS = 100;
const ADMIN_KB = 384; // not a power of two: the baseline is exact, the knob's def nearest

const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const readKb = () => Number(readFileSync(SYSFS, 'utf8').trim());

function load(params: Record<string, number | string> = {}): void {
  loadModule({
    ra_dev: 'ram0',
    ra_window_ms: WINDOW_MS,
    ra_settle_ms: 0,
    check_period: 0,
    ...params,
  });
}

function readahead(dev: IoctlDevice): SubsystemInfo {
  const s = dev.listSubsystems().find((x) => x.name === 'readahead');
  assert.ok(s, 'the readahead subsystem is registered (see dmesg)');
  return s;
}

function feature(s: SubsystemInfo, values: number[], name: string): number {
  const i = s.features.findIndex((f) => f.name === name);
  assert.ok(i >= 0, `feature ${name}`);
  return values[i] / s.features[i].scale;
}

/** Runs mlp-reader without blocking the event loop; resolves with its JSON line. */
function reader(args: string[]): Promise<Record<string, number>> {
  return startReader(args).done;
}

/**
 * mlp-reader with its stdin a pipe: with `--wait-stdin` the probe opens its file, says
 * "ready" and waits until go() closes its stdin (a start barrier: starting dozens of
 * processes takes seconds under TCG, longer than any of them reads).
 */
function startReader(args: string[]): {
  ready: Promise<void>;
  go: () => void;
  done: Promise<Record<string, number>>;
} {
  const child = spawn(READER, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let readyNow: () => void = () => {};
  const ready = new Promise<void>((resolve) => (readyNow = resolve));
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (/^ready$/m.test(err)) readyNow();
  });
  const done = new Promise<Record<string, number>>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, number>)
        : reject(new Error(`mlp-reader ${args.join(' ')} exited ${code}: ${err}`)),
    );
  });
  if (!args.includes('--wait-stdin')) child.stdin.end();
  return { ready: Promise.race([ready, done.then(() => {})]), go: () => child.stdin.end(), done };
}

const evict = (file = RAM) => reader(['evict', file]);

/**
 * This file's records of subsystem s over `ms` of real time, or until `until` settles
 * (then the wait that is under way when it does is the last).
 */
async function collect(
  dev: IoctlDevice,
  s: SubsystemInfo,
  until: number | Promise<unknown>,
): Promise<Feedback[]> {
  const out: Feedback[] = [];
  let more: () => boolean;
  if (typeof until === 'number') {
    const end = Date.now() + until;
    more = () => Date.now() < end;
  } else {
    let settled = false;
    until.then(
      () => (settled = true),
      () => (settled = true),
    );
    more = () => !settled;
  }
  while (more()) {
    out.push(...(await dev.waitFeedback(WINDOW_MS * 2)).filter((f) => f.subsysId === s.id));
  }
  return out;
}

/** Bytes delivered over the records: eff is MiB/s, times each window's length. */
const deliveredMiB = (fbs: Feedback[]) =>
  fbs.filter((f) => !(f.reasons & REASON_IDLE)).reduce((a, f) => a + (f.eff * f.windowNs) / 1e9, 0);

/**
 * Controls the subsystem in pinned RECOMMENDATION (no check windows: check_period 0)
 * and recommends `k` for every window until stopped.
 */
function holdAdvice(dev: IoctlDevice, s: SubsystemInfo, k: number): () => Promise<Feedback[]> {
  dev.claim(s.id);
  dev.setMode(s.id, MODE_RECOMMENDATION, true);
  let stopped = false;
  const seen: Feedback[] = [];
  const loop = (async () => {
    while (!stopped) {
      const st = dev.getState(s.id);
      try {
        dev.recommend({
          subsysId: s.id,
          epoch: st.epoch,
          modelVersion: 1,
          propensity: 1,
          knobs: [k],
        });
      } catch {
        /* a rejected or raced call: the next window retries */
      }
      seen.push(...(await dev.waitFeedback(WINDOW_MS * 2)).filter((f) => f.subsysId === s.id));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return seen;
  };
}

before(() => {
  kernelMark('readahead suite');
  assert.ok(
    READER && existsSync(READER),
    `MLP_READER (${READER}) is mlp-reader: run npm run test:vm`,
  );
  if (readFileSync('/proc/modules', 'utf8').includes('brd ')) run('rmmod', ['brd']);
  run('modprobe', ['brd', 'rd_nr=1', 'rd_size=65536', 'max_part=0']); // 64 MiB of zeros
  writeFileSync(SYSFS, String(ADMIN_KB));
});

after(() => {
  if (moduleLoaded()) unloadModule();
  spawnSync('dmsetup', ['remove', 'mlp-slow'], { env: { ...process.env, DM_DISABLE_UDEV: '1' } });
  spawnSync('rmmod', ['brd']);
  assert.deepEqual(kernelProblems(), [], 'no kernel warnings or oopses');
});

test('the baseline is the administrator’s exact read_ahead_kb, and the module never writes it', async () => {
  load();
  const dev = new IoctlDevice(DEVICE_PATH);
  try {
    const s = readahead(dev);
    assert.equal(s.knobs[0].def, 9, '384 KiB: the grid value nearest on a log scale is 2^9');
    await collect(dev, s, WINDOW_MS * 5);
    assert.equal(readKb(), ADMIN_KB);
    const st = dev.getState(s.id);
    assert.equal(st.mode, MODE_EMERGENCY);
    assert.equal(feature(s, st.features, 'baseline_ra_kb'), ADMIN_KB);
    assert.equal(feature(s, st.features, 'ra_kb'), ADMIN_KB, 'a baseline window runs it as is');
  } finally {
    dev.close();
  }
  unloadModule();
  assert.equal(readKb(), ADMIN_KB, 'unload leaves it alone too');
});

test('advice reaches a file opened before it began, through read(2) and the mmap read-around', async () => {
  load();
  const dev = new IoctlDevice(DEVICE_PATH);
  try {
    const s = readahead(dev);
    const at = String(32 * MiB);
    // The baseline first: 384 KiB around a fault, and ahead of a 2 MiB sequential read.
    await evict();
    const baseFault = await reader(['probe', '--fault', '--at', at, RAM]);
    await evict();
    const baseRead = await reader(['probe', '--at', at, '--length', String(2 * MiB), RAM]);
    // The reader opens the disk while the baseline runs and reads 1 s later, under advice.
    await evict();
    const opened = reader(['probe', '--fault', '--at', at, '--delay-ms', '1000', RAM]);
    await sleep(300);
    const stop = holdAdvice(dev, s, 12); // 4 MiB
    const fault = await opened;
    await evict();
    const read = await reader(['probe', '--at', at, '--length', String(2 * MiB), RAM]);
    await evict();
    const hinted = await reader([
      'probe',
      '--seq-hint',
      '--at',
      at,
      '--length',
      String(2 * MiB),
      RAM,
    ]);
    const seen = await stop();
    assert.ok(
      seen.some((f) => f.applied && f.knobs[0] === 12),
      'advice ran',
    );
    const kib = (x: Record<string, number>) => `${(x.resident_bytes / 1024).toFixed(0)} KiB`;
    assert.ok(baseFault.resident_bytes <= MiB, `baseline read-around ${kib(baseFault)}`);
    assert.ok(fault.resident_bytes >= 3 * MiB, `advised read-around ${kib(fault)}`);
    assert.ok(baseRead.resident_bytes <= MiB, `baseline read-ahead ${kib(baseRead)}`);
    assert.ok(read.resident_bytes >= 4 * MiB, `advised read-ahead ${kib(read)}`);
    assert.ok(
      hinted.resident_bytes <= 2 * MiB,
      `a POSIX_FADV_SEQUENTIAL file keeps its own 2 x 384 KiB: ${kib(hinted)}`,
    );
    assert.equal(readKb(), ADMIN_KB, 'the device setting never changed');
  } finally {
    dev.close();
  }
  unloadModule();
});

test('the efficiency counts what read(2) and mmap faults deliver, not O_DIRECT', async () => {
  load();
  const dev = new IoctlDevice(DEVICE_PATH);
  try {
    const s = readahead(dev);
    await collect(dev, s, WINDOW_MS * 3);
    const idle = await collect(dev, s, WINDOW_MS * 3);
    assert.ok(idle.length >= 1 && idle.every((f) => f.reasons & REASON_IDLE), 'no reads: idle');
    await evict();
    const readDone = reader(['probe', '--at', '0', '--length', String(8 * MiB), RAM]);
    const during = collect(dev, s, WINDOW_MS * 4);
    await readDone;
    const read = [...(await during), ...(await collect(dev, s, WINDOW_MS * 3))];
    const mib = deliveredMiB(read);
    assert.ok(Math.abs(mib - 8) < 0.2, `read(2) of 8 MiB counted as ${mib.toFixed(3)} MiB`);
    await evict();
    const directDone = reader(['probe', '--direct', '--at', '0', '--length', String(8 * MiB), RAM]);
    const directRecs = collect(dev, s, WINDOW_MS * 4);
    await directDone;
    const direct = [...(await directRecs), ...(await collect(dev, s, WINDOW_MS * 3))];
    assert.ok(deliveredMiB(direct) < 0.01, `O_DIRECT counted as ${deliveredMiB(direct)} MiB`);
    await evict();
    const faultDone = reader(['probe', '--fault', '--at', String(MiB), RAM]);
    const faultRecs = collect(dev, s, WINDOW_MS * 4);
    await faultDone;
    const faults = [...(await faultRecs), ...(await collect(dev, s, WINDOW_MS * 3))];
    const bytes = deliveredMiB(faults) * MiB;
    assert.ok(Math.abs(bytes - 4096) < 64, `one mmap fault counted as ${bytes.toFixed(0)} bytes`);
  } finally {
    dev.close();
  }
  unloadModule();
});

test('an administrator’s change is adopted as the baseline: EMERGENCY (baseline), logged once, never undone', async () => {
  load();
  const dev = new IoctlDevice(DEVICE_PATH);
  try {
    let s = readahead(dev);
    dev.claim(s.id);
    dev.setMode(s.id, MODE_LEARNING, false);
    const logged = () =>
      kernelLog().filter((l) => /read_ahead_kb of ram0 changed from 384 to 0/.test(l)).length;
    const before = logged();
    writeFileSync(SYSFS, '0');
    for (let i = 0; i < 5; i++) {
      dev.heartbeat(s.id);
      await collect(dev, s, WINDOW_MS);
    }
    const st = dev.getStatus(s.id);
    assert.equal(st.mode, MODE_EMERGENCY);
    assert.equal(st.lastTransition, TRANS_BASELINE);
    s = readahead(dev);
    assert.equal(s.knobs[0].def, 4, 'read_ahead_kb 0: the grid value nearest is its minimum');
    assert.equal(feature(s, dev.getState(s.id).features, 'baseline_ra_kb'), 0);
    assert.equal(readKb(), 0, 'still the administrator’s 0');
    assert.equal(logged() - before, 1, 'logged once');
    // With a baseline of 0, advice still reaches the read-around: 0 is the file's default.
    await evict();
    const baseFault = await reader(['probe', '--fault', '--at', String(16 * MiB), RAM]);
    const stop = holdAdvice(dev, s, 12);
    await collect(dev, s, WINDOW_MS * 3);
    await evict();
    const fault = await reader(['probe', '--fault', '--at', String(16 * MiB), RAM]);
    await stop();
    assert.ok(
      baseFault.resident_bytes <= 64 * 1024,
      `read-around off: ${baseFault.resident_bytes}`,
    );
    assert.ok(fault.resident_bytes >= 3 * MiB, `advised read-around: ${fault.resident_bytes}`);
    assert.equal(readKb(), 0);
  } finally {
    dev.close();
    writeFileSync(SYSFS, String(ADMIN_KB));
  }
  unloadModule();
});

test('calls the probes miss make the window unreliable', async () => {
  // Reads through dm-delay (30 ms per bio) from 48 processes at once (each opens the disk,
  // says it is ready and waits on its stdin until all have started: starting 48 processes
  // takes seconds under TCG), with room for 2 calls per probe: the others are missed and
  // counted.
  const env = { ...process.env, DM_DISABLE_UDEV: '1' };
  run('modprobe', ['dm_delay']);
  const sectors = run('blockdev', ['--getsz', RAM]).trim();
  execFileSync('dmsetup', ['create', 'mlp-slow', '--noudevsync'], {
    input: `0 ${sectors} delay ${RAM} 0 30\n`,
    env,
  });
  spawnSync('dmsetup', ['mknodes', 'mlp-slow'], { env });
  const majmin = run('dmsetup', [
    'info',
    '-c',
    '--noheadings',
    '-o',
    'major,minor',
    'mlp-slow',
  ]).trim();
  const kname = readlinkSync(`/sys/dev/block/${majmin.replace(/\s/g, '')}`)
    .split('/')
    .pop()!;
  try {
    loadModule({ ra_dev: kname, ra_window_ms: WINDOW_MS, check_period: 0, ra_maxactive: 2 });
    const dev = new IoctlDevice(DEVICE_PATH);
    try {
      const s = readahead(dev);
      await evict('/dev/mapper/mlp-slow');
      const readers = Array.from({ length: 48 }, (_, i) =>
        startReader([
          'probe',
          '--at',
          String(i * MiB),
          '--length',
          String(256 * 1024),
          '--wait-stdin',
          '/dev/mapper/mlp-slow',
        ]),
      );
      // Read the ring all along: the start-up lasts longer than a ring of records.
      const all = Promise.all(readers.map((r) => r.done));
      const recs = collect(dev, s, all);
      await Promise.all(readers.map((r) => r.ready));
      for (const r of readers) r.go();
      await all;
      const got = [...(await recs), ...(await collect(dev, s, WINDOW_MS * 3))];
      const bad = got.filter((f) => f.reasons & REASON_UNRELIABLE);
      assert.ok(bad.length >= 1, `an unreliable window among ${got.length}`);
      assert.ok(bad.every((f) => !(f.reasons & REASON_IDLE)));
    } finally {
      dev.close();
    }
    unloadModule();
    assert.ok(
      kernelLog().some((l) => /the probes missed \d+ calls/.test(l)),
      'the misses are reported at unload',
    );
  } finally {
    spawnSync('dmsetup', ['remove', 'mlp-slow'], { env });
  }
});

test('the module holds no open block device: rmmod brd works and the subsystem unregisters', async () => {
  load();
  const dev = new IoctlDevice(DEVICE_PATH);
  try {
    const s = readahead(dev);
    await collect(dev, s, WINDOW_MS * 2);
    const r = spawnSync('rmmod', ['brd'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `rmmod brd: ${r.stderr}`);
    let names = dev.listSubsystems().map((x) => x.name);
    for (let i = 0; i < 20 && names.includes('readahead'); i++) {
      await collect(dev, s, WINDOW_MS);
      names = dev.listSubsystems().map((x) => x.name);
    }
    assert.ok(!names.includes('readahead'), `subsystems now: ${names.join(', ')}`);
    assert.ok(kernelLog().some((l) => /readahead: ram0 was removed/.test(l)));
  } finally {
    dev.close();
  }
  unloadModule();
  run('modprobe', ['brd', 'rd_nr=1', 'rd_size=65536', 'max_part=0']);
});
