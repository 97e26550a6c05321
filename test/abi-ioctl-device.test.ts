/**
 * IoctlDevice without the kernel: a FIFO stands in for /dev/mlproxy's read() side
 * (non-blocking, EAGAIN when empty) and a small model of an ABI 1.0 module answers
 * the ioctls through the injectable system calls (nodeSyscalls({ ioctl })), checking each
 * request number and buffer size: the daemon must fall back to the 1.0 struct sizes and
 * polled reads. (The 1.1 path, the kernel read timeout included, runs under every
 * simulated test through the fake kernel, and on the real module in the guest suite.)
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsc, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as codec from '../src/abi/codec.js';
import {
  ABI_MAJOR,
  SIZEOF_RECOMMENDATION_VER0,
  SIZEOF_STATE_VER0,
  SIZEOF_SUBSYS_INFO_VER0,
  SIZEOF_VERSION_VER0,
} from '../src/abi/constants.js';
import { mlpVersion, requestFor } from '../src/abi/structs.js';
import { DeviceError, type Feedback, type SubsystemInfo } from '../src/transport/device.js';
import { IoctlDevice } from '../src/transport/ioctl-device.js';
import { nodeSyscalls, type IoctlFn } from '../src/transport/syscalls.js';

const info: SubsystemInfo = {
  id: 1,
  name: 'synthetic',
  windowMs: 10,
  features: [{ name: 'load', unit: 'permille', scale: 1000 }],
  knobs: [{ name: 'level', unit: '', min: 0, max: 15, step: 1, def: 4, maxDelta: 8 }],
};

const errno = (code: string) => Object.assign(new Error(code), { code });

/** An ABI 1.0 module: it knows only the 1.0 sizes (ENOTTY for any other). */
const fakeKernel: IoctlFn = (_fd, req, data) => {
  if (!(data instanceof Buffer)) throw errno('EFAULT');
  if (!(Number.isInteger(req) && req > 0 && req <= 0xffffffff)) throw errno('ENOTTY');
  if (data.length !== (req >>> 16) % (1 << 14)) throw errno('EINVAL'); // exact struct size
  let reply: Buffer;
  switch (req) {
    case requestFor('MLP_IOC_VERSION', SIZEOF_VERSION_VER0):
      reply = codec.truncate(
        mlpVersion.encode({
          size: mlpVersion.size,
          abi_major: ABI_MAJOR,
          compatible: 1,
          nr_subsys: 1,
          max_subsys: 16,
          max_features: 16,
          max_knobs: 8,
          ring_records: 256,
          sizeof_subsys_info: SIZEOF_SUBSYS_INFO_VER0,
          sizeof_state: SIZEOF_STATE_VER0,
          sizeof_recommendation: SIZEOF_RECOMMENDATION_VER0,
          sizeof_mode: 16,
          sizeof_status: 224,
          sizeof_feedback: 136,
          sizeof_claim: 16,
        }),
        SIZEOF_VERSION_VER0,
      );
      break;
    case requestFor('MLP_IOC_SUBSYS_INFO', SIZEOF_SUBSYS_INFO_VER0):
      if (data.readUInt32LE(4) !== 0) throw errno('ENOENT');
      reply = codec.truncate(codec.encodeSubsysInfo(info, 0), SIZEOF_SUBSYS_INFO_VER0);
      break;
    case requestFor('MLP_IOC_GET_STATE', SIZEOF_STATE_VER0):
      throw errno('ENOENT');
    case requestFor('MLP_IOC_RECOMMEND', SIZEOF_RECOMMENDATION_VER0):
      throw errno('EPERM');
    default:
      throw errno('ENOTTY');
  }
  reply.copy(data);
  return 0;
};

const record = (epoch: number): Feedback => ({
  subsysId: 1,
  recId: 0,
  epoch,
  windowStartNs: epoch * 1e7,
  windowNs: 1e7,
  mode: 0,
  applied: false,
  verdict: 0,
  reasons: 0,
  baselineEff: 0.5,
  eff: 0.5,
  knobs: [4, 0, 0, 0, 0, 0, 0, 0],
});

function withFifo(fn: (dev: IoctlDevice, write: (...r: Feedback[]) => void) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlp-dev-'));
    const path = join(dir, 'mlproxy');
    execFileSync('mkfifo', [path]);
    const dev = new IoctlDevice(path, { syscalls: nodeSyscalls({ ioctl: fakeKernel }) });
    const wfd = openSync(path, fsc.O_WRONLY | fsc.O_NONBLOCK);
    try {
      await fn(dev, (...rs) =>
        writeSync(wfd, Buffer.concat(rs.map((r) => codec.encodeFeedback(r)))),
      );
    } finally {
      closeSync(wfd);
      dev.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('a 1.0 module: 1.0 sizes, listing, and whole records read without blocking', async (t) => {
  await withFifo(async (dev, write) => {
    t.is(dev.version().abiMajor, ABI_MAJOR);
    t.is(dev.version().generation, 0, 'a 1.0 module has no generation');
    t.deepEqual(dev.listSubsystems(), [info]);
    t.deepEqual(dev.readFeedback(), [], 'EAGAIN reads as no records');
    write(record(0), record(1));
    const got = dev.readFeedback();
    t.deepEqual(
      got.map((f) => [f.epoch, f.knobs]),
      [
        [0, [4]],
        [1, [4]],
      ],
      'knobs trimmed to the subsystem',
    );
  })();
});

test('waitFeedback: times out empty, wakes on a record, and close() releases it', async (t) => {
  await withFifo(async (dev, write) => {
    t.deepEqual(await dev.waitFeedback(25), []);
    setTimeout(() => write(record(7)), 20);
    const got = await dev.waitFeedback(10000);
    t.is(got.length, 1);
    t.is(got[0].epoch, 7);
    const pending = dev.waitFeedback(60000);
    dev.close();
    t.deepEqual(await pending, []);
  })();
});

test('errno becomes a DeviceError naming the ioctl, the errno and the fix', async (t) => {
  await withFifo(async (dev) => {
    const e1 = t.throws(() => dev.getState(999), { instanceOf: DeviceError });
    t.is(e1?.code, 'ENOENT');
    t.regex(e1?.message ?? '', /^MLP_IOC_GET_STATE: ENOENT \(subsystem id 999: no such subsystem/);
    const e2 = t.throws(
      () => dev.recommend({ subsysId: 1, epoch: 0, modelVersion: 1, propensity: 1, knobs: [5] }),
      { instanceOf: DeviceError },
    );
    t.is(e2?.message, 'MLP_IOC_RECOMMEND: EPERM (needs CAP_SYS_ADMIN: run the daemon as root)');
  })();
});

test('a missing device names modprobe and --sim', (t) => {
  t.throws(
    () =>
      new IoctlDevice('/nonexistent/mlproxy', { syscalls: nodeSyscalls({ ioctl: fakeKernel }) }),
    {
      message: /modprobe mlproxy.*--sim/,
    },
  );
});
