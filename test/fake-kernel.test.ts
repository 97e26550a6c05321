/**
 * The simulator's fake kernel at the system-call level: the ioctl rules of
 * kmod/mlproxy_main.c and docs/abi.md ("Conventions", "Errors") that IoctlDevice never
 * breaks and the conformance suite therefore cannot reach (other magic, number or
 * direction; sizes; __reserved; a short buffer), and read()'s rules (record packing,
 * EINVAL, EAGAIN, the read timeout in wall time, MLP_FILE_WAKE). The same requests
 * against the real module are the guest's security and fuzz suites (test/vm/).
 */
import test from 'ava';
import { constants as fsc } from 'node:fs';
import * as codec from '../src/abi/codec.js';
import {
  IOC_MAGIC,
  IOC_READ,
  IOC_WRITE,
  READ_TIMEOUT_NONE,
  SIZEOF_FEEDBACK_VER0,
  SIZEOF_VERSION_VER0,
  ioc,
} from '../src/abi/constants.js';
import { mlpClaim, mlpVersion, requestFor, IOCTLS } from '../src/abi/structs.js';
import { FakeKernel, SIM_DEVICE_PATH } from '../src/transport/sim/fake-kernel.js';
import { SimKernel } from '../src/transport/sim/kernel.js';

const errnoOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
};

function setup(opts: { privileged?: boolean } = {}) {
  const kernel = new SimKernel({ clock: 'manual', subsystems: ['synthetic'] });
  const sys = new FakeKernel(kernel, opts);
  const fd = sys.open(SIM_DEVICE_PATH, fsc.O_RDWR);
  const version = () => {
    const b = codec.encodeVersion();
    sys.ioctl(fd, IOCTLS.MLP_IOC_VERSION, b);
    return codec.decodeVersion(b);
  };
  return { kernel, sys, fd, version };
}

test('open: only the device path; a closed descriptor is EBADF', (t) => {
  const { sys, fd } = setup();
  t.is(
    errnoOf(() => sys.open('/dev/other', fsc.O_RDWR)),
    'ENOENT',
  );
  sys.close(fd);
  t.is(
    errnoOf(() => sys.ioctl(fd, IOCTLS.MLP_IOC_VERSION, codec.encodeVersion())),
    'EBADF',
  );
  t.is(
    errnoOf(() => sys.close(fd)),
    'EBADF',
  );
});

test('the request number: another magic, number or direction is ENOTTY', (t) => {
  const { sys, fd } = setup();
  const b = codec.encodeVersion();
  const size = mlpVersion.size;
  t.is(
    errnoOf(() => sys.ioctl(fd, ioc(IOC_READ | IOC_WRITE, 0x78, 0x00, size), b)),
    'ENOTTY',
  );
  t.is(
    errnoOf(() => sys.ioctl(fd, ioc(IOC_READ | IOC_WRITE, IOC_MAGIC, 0x0a, size), b)),
    'ENOTTY',
  );
  t.is(
    errnoOf(() => sys.ioctl(fd, ioc(IOC_WRITE, IOC_MAGIC, 0x00, size), b)),
    'ENOTTY',
    'VERSION is _IOWR',
  );
});

test('sizes: below the 1.0 size or unlike the size field EINVAL; a larger struct needs a zero tail (E2BIG); a short buffer EFAULT', (t) => {
  const { sys, fd } = setup();
  t.is(
    errnoOf(() => sys.ioctl(fd, requestFor('MLP_IOC_VERSION', 60), Buffer.alloc(60))),
    'EINVAL',
  );
  const b = codec.encodeVersion();
  b.writeUInt32LE(SIZEOF_VERSION_VER0, 0);
  t.is(
    errnoOf(() => sys.ioctl(fd, IOCTLS.MLP_IOC_VERSION, b)),
    'EINVAL',
    'size field != _IOC_SIZE',
  );
  // A caller from the future: 8 more bytes, zero or not.
  const big = Buffer.alloc(mlpVersion.size + 8);
  codec.encodeVersion().copy(big);
  big.writeUInt32LE(big.length, 0);
  const req = requestFor('MLP_IOC_VERSION', big.length);
  t.is(
    errnoOf(() => sys.ioctl(fd, req, big)),
    undefined,
  );
  t.is(big.readUInt32LE(0), mlpVersion.size, 'the answer says how much was filled');
  const tail = Buffer.alloc(mlpVersion.size + 8);
  codec.encodeVersion().copy(tail);
  tail.writeUInt32LE(tail.length, 0);
  tail[tail.length - 1] = 1;
  t.is(
    errnoOf(() => sys.ioctl(fd, req, tail)),
    'E2BIG',
  );
  t.is(
    errnoOf(() => sys.ioctl(fd, IOCTLS.MLP_IOC_VERSION, Buffer.alloc(10))),
    'EFAULT',
  );
  // A 1.0 caller gets the 1.0 part only.
  const old = codec.truncate(codec.encodeVersion(), SIZEOF_VERSION_VER0);
  sys.ioctl(fd, requestFor('MLP_IOC_VERSION', SIZEOF_VERSION_VER0), old);
  t.is(old.length, SIZEOF_VERSION_VER0);
  t.is(codec.decodeVersion(old).abiMajor, 1);
});

test('flags and __reserved: unknown bits or a nonzero reserved word are EINVAL', (t) => {
  const { sys, fd, version } = setup();
  const v = codec.encodeVersion();
  v.writeUInt32LE(1, mlpVersion.offsetOf('__reserved'));
  t.is(
    errnoOf(() => sys.ioctl(fd, IOCTLS.MLP_IOC_VERSION, v)),
    'EINVAL',
  );
  t.is(version().fileMinor, 1);
  const claim = codec.encodeClaim(1);
  claim.writeUInt32LE(2, mlpClaim.offsetOf('flags'));
  t.is(
    errnoOf(() => sys.ioctl(fd, IOCTLS.MLP_IOC_CLAIM, claim)),
    'EINVAL',
  );
  const beat = codec.encodeClaim(1, true); // RELEASE is not a heartbeat flag
  t.is(
    errnoOf(() => sys.ioctl(fd, IOCTLS.MLP_IOC_HEARTBEAT, beat)),
    'EINVAL',
  );
  const file = codec.encodeFileConfig({ recordSize: 100 });
  t.is(
    errnoOf(() => sys.ioctl(fd, IOCTLS.MLP_IOC_FILE, file)),
    'EINVAL',
    'record size below 136',
  );
});

test('control: EPERM without CAP_SYS_ADMIN, EBADF on a read-only file; reads are allowed', (t) => {
  const { kernel } = setup();
  const user = new FakeKernel(kernel, { privileged: false });
  const ufd = user.open(SIM_DEVICE_PATH, fsc.O_RDWR);
  t.is(
    errnoOf(() => user.ioctl(ufd, IOCTLS.MLP_IOC_CLAIM, codec.encodeClaim(1))),
    'EPERM',
  );
  t.is(
    errnoOf(() => user.ioctl(ufd, IOCTLS.MLP_IOC_GET_STATE, codec.encodeStateQuery(1))),
    undefined,
  );
  const root = new FakeKernel(kernel);
  const rfd = root.open(SIM_DEVICE_PATH, fsc.O_RDONLY);
  t.is(
    errnoOf(() => root.ioctl(rfd, IOCTLS.MLP_IOC_CLAIM, codec.encodeClaim(1))),
    'EBADF',
  );
  t.is(
    errnoOf(() => root.ioctl(rfd, IOCTLS.MLP_IOC_GET_STATE, codec.encodeStateQuery(99))),
    'ENOENT',
  );
});

test('max_open: an unprivileged user gets EAGAIN beyond it; closing frees a slot', (t) => {
  const kernel = new SimKernel({ clock: 'manual', subsystems: ['synthetic'] });
  const user = new FakeKernel(kernel, { privileged: false, maxOpen: 2 });
  const a = user.open(SIM_DEVICE_PATH, fsc.O_RDWR);
  user.open(SIM_DEVICE_PATH, fsc.O_RDWR);
  t.is(
    errnoOf(() => user.open(SIM_DEVICE_PATH, fsc.O_RDWR)),
    'EAGAIN',
  );
  user.close(a);
  t.notThrows(() => user.open(SIM_DEVICE_PATH, fsc.O_RDWR));
  const root = new FakeKernel(kernel, { maxOpen: 1 });
  root.open(SIM_DEVICE_PATH, fsc.O_RDWR);
  t.notThrows(() => root.open(SIM_DEVICE_PATH, fsc.O_RDWR), 'root is never counted');
});

test('read: whole records of the file record size; EINVAL below one; EAGAIN non-blocking; 0 at timeout 0', (t) => {
  const { kernel, sys, fd } = setup();
  const buf = Buffer.alloc(4096);
  t.is(
    errnoOf(() => sys.readSync(fd, buf, 0, SIZEOF_FEEDBACK_VER0 - 1)),
    'EINVAL',
  );
  const cfg = (req: codec.FileConfigRequest) => {
    const b = codec.encodeFileConfig(req);
    sys.ioctl(fd, IOCTLS.MLP_IOC_FILE, b);
    return codec.decodeFileConfig(b);
  };
  t.is(cfg({}).readTimeoutMs, READ_TIMEOUT_NONE, 'a file starts without a read timeout');
  t.is(cfg({ readTimeoutMs: 0 }).readTimeoutMs, 0);
  t.is(sys.readSync(fd, buf, 0, buf.length), 0, 'nothing queued: 0 bytes');
  kernel.advance(3);
  t.is(cfg({}).queued, 3);
  t.is(sys.readSync(fd, buf, 0, 2 * SIZEOF_FEEDBACK_VER0 + 100), 2 * SIZEOF_FEEDBACK_VER0);
  t.deepEqual(
    codec.decodeFeedbackRecords(buf.subarray(0, 2 * SIZEOF_FEEDBACK_VER0)).map((f) => f.epoch),
    [0, 1],
  );
  cfg({ recordSize: codec.FEEDBACK_SIZE });
  const n = sys.readSync(fd, buf, 0, buf.length);
  t.is(n, codec.FEEDBACK_SIZE);
  const [f] = codec.decodeFeedbackRecords(buf.subarray(0, n));
  t.is(f.epoch, 2);
  t.is(f.next?.epoch, 3, 'a 1.1 record carries the next window');
  const nb = sys.open(SIM_DEVICE_PATH, fsc.O_RDWR | fsc.O_NONBLOCK);
  t.is(
    errnoOf(() => sys.readSync(nb, buf, 0, buf.length)),
    'EAGAIN',
  );
});

test('read: the timeout passes in wall time on a manual clock (0 bytes); a window end or MLP_FILE_WAKE returns it early', async (t) => {
  const { kernel, sys, fd } = setup();
  const buf = Buffer.alloc(4096);
  const read = () =>
    new Promise<number>((resolve, reject) =>
      sys.read(fd, buf, 0, buf.length, (err, n) => (err ? reject(err) : resolve(n))),
    );
  const cfg = (req: codec.FileConfigRequest) =>
    sys.ioctl(fd, IOCTLS.MLP_IOC_FILE, codec.encodeFileConfig(req));
  cfg({ readTimeoutMs: 30 });
  const t0 = Date.now();
  t.is(await read(), 0);
  t.true(Date.now() - t0 >= 25, 'waited for the timeout');
  cfg({ readTimeoutMs: READ_TIMEOUT_NONE });
  const pending = read();
  kernel.advance(1);
  t.is(await pending, SIZEOF_FEEDBACK_VER0);
  const woken = read();
  cfg({ wake: true });
  t.is(await woken, 0);
  t.throws(() => sys.readSync(fd, buf, 0, buf.length), {
    message: /would block the event loop/,
  });
});
