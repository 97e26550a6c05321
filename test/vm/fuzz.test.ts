/**
 * In the QEMU guest, on the real mlproxy.ko: a seeded, reproducible ioctl and
 * read() fuzzer (MLP_FUZZ_SEED, MLP_FUZZ_COUNT; default 100,000 calls) over two
 * open files while the windows run every 5 ms. Every call must end in an expected
 * errno; afterwards the kernel log has no Oops/BUG/WARN line and the module unloads
 * cleanly. Run by scripts/vm/test-vm.sh.
 */
import assert from 'node:assert/strict';
import { readSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { IOC_MAGIC, ioc } from '../../src/abi/constants.js';
import {
  IOCTLS,
  mlpClaim,
  mlpFileConfig,
  mlpMode,
  mlpRecommendation,
  mlpSubsysInfo,
  mlpVersion,
  type IoctlName,
} from '../../src/abi/structs.js';
import { Rng } from '../../policies/rng.js';
import {
  FAST_PARAMS,
  kernelMark,
  kernelProblems,
  loadModule,
  moduleLoaded,
  unloadModule,
} from './helpers/guest.js';
import { RawDevice, errnoOf, ioctl } from './helpers/rawdev.js';

const SEED = Number(process.env.MLP_FUZZ_SEED ?? 20260226);
const COUNT = Number(process.env.MLP_FUZZ_COUNT ?? 100_000);
/**
 * What a well-behaved module may answer to garbage (EAGAIN: read() on an empty ring;
 * E2BIG: a struct larger than the kernel's with a nonzero tail).
 */
const ALLOWED = new Set(['ok', 'EINVAL', 'ENOTTY', 'ENOENT', 'EBUSY', 'EFAULT', 'EAGAIN', 'E2BIG']);

const NAMES = Object.keys(IOCTLS) as IoctlName[];
const mlpSubsysInfoFlags = mlpSubsysInfo.offsetOf('flags');
const SIZES: Record<IoctlName, number> = Object.fromEntries(
  NAMES.map((n) => [n, (IOCTLS[n] >>> 16) & 0x3fff]),
) as Record<IoctlName, number>;

let id: number;

before(() => {
  kernelMark(`fuzz suite seed ${SEED} count ${COUNT}`);
  loadModule({ ...FAST_PARAMS, synth_window_ms: 5, ring_records: 8 });
  const d = new RawDevice();
  id = d.subsystem('synthetic').id;
  d.close();
});

after(() => {
  if (moduleLoaded()) unloadModule();
});

test(`ioctl fuzzer: ${COUNT} seeded calls (seed ${SEED}), then a clean kernel log and unload`, () => {
  const rng = new Rng(SEED);
  const u32 = () => rng.nextU32();
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  // Random bytes to copy from (generating 1.6 KB per call would dominate the run).
  const pool = Buffer.alloc(1 << 16);
  for (let i = 0; i < pool.length; i += 4) pool.writeUInt32LE(u32(), i);
  // Every buffer handed to the kernel is a view into this arena, at least 16 KiB
  // (the largest _IOC size) before its end: a kernel that trusted a random size
  // could only touch memory this process owns.
  const arena = Buffer.alloc(1 << 16);
  const view = (len: number) => {
    const off = rng.int(arena.length - (1 << 14) - len);
    pool.copy(arena, off, rng.int(pool.length - len), undefined);
    return arena.subarray(off, off + len);
  };
  const files = [new RawDevice({ nonblock: true }), new RawDevice({ nonblock: true })];
  const counts = new Map<string, number>();
  const subsysIds = [id, id, id, 0, id + 1, 0xffffffff];
  let epoch = 0;

  for (let i = 0; i < COUNT; i++) {
    const f = rng.int(2);
    const fd = files[f].fd;
    const r = rng.uniform();
    let what: string;
    let err: string | undefined;
    if (r < 0.45) {
      // A valid command: correct size field, random or plausible contents.
      const name = pick(NAMES);
      const b = view(SIZES[name]);
      b.writeUInt32LE(SIZES[name], 0);
      if (rng.uniform() < 0.8) b.writeUInt32LE(pick(subsysIds), 4);
      if (name === 'MLP_IOC_RECOMMEND' && rng.uniform() < 0.7) {
        if (rng.int(16) === 0) epoch = files[f].state(id).epoch;
        b.writeBigUInt64LE(
          BigInt(Math.max(0, epoch + rng.int(5) - 2)),
          mlpRecommendation.offsetOf('epoch'),
        );
        b.writeUInt32LE(rng.int(1_100_000_000), mlpRecommendation.offsetOf('propensity'));
        b.writeUInt32LE(rng.int(3), mlpRecommendation.offsetOf('nr_knobs'));
        b.writeUInt32LE(rng.int(70_000), mlpRecommendation.offsetOf('ttl_ms'));
        b.writeUInt32LE(rng.int(4), mlpRecommendation.offsetOf('flags'));
        for (let k = 0; k < 8; k++) {
          b.writeBigInt64LE(BigInt(rng.int(40) - 12), mlpRecommendation.offsetOf('knobs') + 8 * k);
        }
      } else if (
        (name === 'MLP_IOC_SET_MODE' || name === 'MLP_IOC_GET_MODE') &&
        rng.uniform() < 0.7
      ) {
        b.writeUInt32LE(rng.int(6), mlpMode.offsetOf('mode'));
        b.writeUInt32LE(rng.int(4), mlpMode.offsetOf('flags'));
      } else if (
        (name === 'MLP_IOC_CLAIM' || name === 'MLP_IOC_HEARTBEAT') &&
        rng.uniform() < 0.7
      ) {
        b.writeUInt32LE(rng.int(3), mlpClaim.offsetOf('flags'));
        b.writeUInt32LE(rng.int(8) === 0 ? u32() : 0, mlpClaim.offsetOf('__reserved'));
      } else if (name === 'MLP_IOC_VERSION' && rng.uniform() < 0.8) {
        b.writeUInt32LE(rng.int(8) === 0 ? u32() : 0, mlpVersion.offsetOf('__reserved'));
      } else if (name === 'MLP_IOC_SUBSYS_INFO') {
        b.writeUInt32LE(rng.int(20), 4);
        if (rng.uniform() < 0.5) {
          b.writeUInt32LE(rng.int(3), mlpSubsysInfoFlags);
          b.writeUInt32LE(rng.int(8) === 0 ? u32() : 0, mlpSubsysInfoFlags + 4);
        }
      } else if (name === 'MLP_IOC_FILE' && rng.uniform() < 0.8) {
        // Plausible options: record sizes around the legal range, short timeouts (the
        // files are non-blocking anyway), subscriptions to real and unknown ids.
        b.writeUInt32LE(rng.int(32), mlpFileConfig.offsetOf('flags'));
        b.writeUInt32LE(
          pick([0, 100, 136, 200, 352, 353, 4096]),
          mlpFileConfig.offsetOf('record_size'),
        );
        b.writeUInt32LE(
          pick([0, 1, 50, 0xffffffff, 3600001]),
          mlpFileConfig.offsetOf('read_timeout_ms'),
        );
        b.writeUInt32LE(rng.int(18), mlpFileConfig.offsetOf('nr_subscribed'));
        for (let k = 0; k < 16; k++) {
          b.writeUInt32LE(pick(subsysIds), mlpFileConfig.offsetOf('subscribed') + 4 * k);
        }
      }
      what = name;
      err = errnoOf(() => ioctl(fd, IOCTLS[name], b));
    } else if (r < 0.6) {
      // A valid command with a random size field.
      const name = pick(NAMES);
      const b = view(SIZES[name]);
      b.writeUInt32LE(rng.uniform() < 0.5 ? u32() : (SIZES[name] + rng.int(64) - 32) >>> 0, 0);
      what = `${name}/size`;
      err = errnoOf(() => ioctl(fd, IOCTLS[name], b));
    } else if (r < 0.75) {
      // Our magic with random direction, number and size bits.
      const size = rng.int(1 << 14);
      const cmd = ioc(rng.int(4), IOC_MAGIC, rng.int(rng.uniform() < 0.7 ? 16 : 256), size);
      what = 'magic/random';
      err = errnoOf(() => ioctl(fd, cmd, view(Math.min(size, 4096))));
    } else if (r < 0.85) {
      // A random command number altogether, avoiding the generic file ioctls of
      // the VFS ('f', 'T' and 0x00 types: FIOCLEX, FIONBIO, FS_IOC_* ...).
      let cmd = u32();
      while ([0x66, 0x54, 0x00, 0x58, 0x94].includes((cmd >>> 8) & 0xff)) cmd = u32();
      what = 'cmd/random';
      err = errnoOf(() => ioctl(fd, cmd, view(64)));
    } else if (r < 0.92) {
      // A valid command with a bad pointer: NULL page, or a kernel address (a
      // negative int32 is sign-extended by the ioctl package).
      const name = pick(NAMES);
      const ptr = rng.uniform() < 0.5 ? rng.int(65536) : -1 - rng.int(1 << 30);
      what = `${name}/pointer`;
      err = errnoOf(() => ioctl(fd, IOCTLS[name], ptr));
    } else if (r < 0.99) {
      // read() of a random size.
      const len = rng.int(4096);
      what = `read/${len}`;
      err = errnoOf(() => readSync(fd, view(len), 0, len, null));
    } else {
      // Close and reopen a file (it may have been the controller).
      files[f].close();
      files[f] = new RawDevice({ nonblock: true });
      what = 'reopen';
      err = undefined;
    }
    const outcome = err ?? 'ok';
    if (!ALLOWED.has(outcome)) {
      assert.fail(`call ${i} (${what}) answered ${outcome}; reproduce with MLP_FUZZ_SEED=${SEED}`);
    }
    const key = `${what.split('/')[0]} ${outcome}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  files.forEach((f) => f.close());

  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  assert.equal(total, COUNT);
  console.log(`fuzzer: ${COUNT} calls, seed ${SEED}:`);
  for (const [k, n] of [...counts].sort()) console.log(`  ${k}: ${n}`);
  for (const name of NAMES) assert.ok(counts.get(`${name} ok`), `${name} never succeeded`);
  assert.deepEqual(kernelProblems(), [], 'the kernel log after fuzzing');
  unloadModule();
  assert.deepEqual(kernelProblems(), [], 'the kernel log after unloading');
});
