/**
 * In the QEMU guest, on the real mlproxy.ko: a process without CAP_SYS_ADMIN may
 * read but gets EPERM on every control ioctl; a second open file cannot claim,
 * advise or heartbeat a subsystem another file controls (EBUSY); malformed
 * requests get EINVAL/ENOTTY. Run by scripts/vm/test-vm.sh.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  decodeState,
  decodeVersion,
  encodeClaim,
  encodeRecommendation,
  encodeStateQuery,
  encodeVersion,
  truncate,
} from '../../src/abi/codec.js';
import {
  IOC_MAGIC,
  IOC_READ,
  IOC_WRITE,
  MODE_EMERGENCY,
  SIZEOF_STATE_VER0,
  SIZEOF_VERSION_VER0,
  ioc,
} from '../../src/abi/constants.js';
import {
  IOCTLS,
  mlpMode,
  mlpRecommendation,
  mlpVersion,
  requestFor,
} from '../../src/abi/structs.js';
import {
  FAST_PARAMS,
  kernelMark,
  kernelProblems,
  loadModule,
  unloadModule,
} from './helpers/guest.js';
import { RawDevice, errnoOf, ioctl } from './helpers/rawdev.js';

let id: number;

before(() => {
  kernelMark('security suite');
  loadModule(FAST_PARAMS);
  const d = new RawDevice();
  id = d.subsystem('synthetic').id;
  d.close();
});

after(() => unloadModule());

test('without CAP_SYS_ADMIN: reads work, RECOMMEND/SET_MODE/CLAIM/HEARTBEAT are EPERM', () => {
  const child = fileURLToPath(new URL('./helpers/unprivileged-child.js', import.meta.url));
  const r = spawnSync(process.execPath, [child, String(id)], { encoding: 'utf8' });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const got = JSON.parse(r.stdout) as Record<string, string>;
  assert.deepEqual(got, {
    uid: '65534',
    VERSION: 'ok',
    SUBSYS_INFO: 'ok',
    GET_STATE: 'ok',
    GET_MODE: 'ok',
    GET_STATUS: 'ok',
    read: 'ok',
    RECOMMEND: 'EPERM',
    SET_MODE: 'EPERM',
    CLAIM: 'EPERM',
    RELEASE: 'EPERM',
    HEARTBEAT: 'EPERM',
    openRead: 'EACCES', // the node is 0600 root: records are a page-cache signal
    openWrite: 'EACCES',
  });
  const d = new RawDevice();
  try {
    const st = d.status(id);
    assert.equal(st.controlled, false, 'the refused calls took no control');
    assert.equal(st.mode, MODE_EMERGENCY);
    assert.equal(st.recs, 0);
  } finally {
    d.close();
  }
});

test('one controller per subsystem: a second writer gets EBUSY until the first releases', () => {
  const a = new RawDevice();
  const b = new RawDevice();
  try {
    a.claim(id);
    a.claim(id); // claiming again is a heartbeat
    const s = b.state(id);
    assert.equal(
      errnoOf(() => b.claim(id)),
      'EBUSY',
    );
    assert.equal(
      errnoOf(() => b.heartbeat(id)),
      'EBUSY',
    );
    assert.equal(
      errnoOf(() => b.release(id)),
      'EBUSY',
    );
    assert.equal(
      errnoOf(() =>
        b.recommend({ subsysId: id, epoch: s.epoch, modelVersion: 1, propensity: 1, knobs: [5] }),
      ),
      'EBUSY',
    );
    assert.equal(b.status(id).mine, false);
    assert.equal(a.status(id).mine, true);
    a.release(id);
    assert.equal(a.status(id).controlled, false);
    b.claim(id);
    assert.equal(
      errnoOf(() => a.claim(id)),
      'EBUSY',
    );
    assert.equal(b.status(id).mine, true);
  } finally {
    a.close();
    b.close();
  }
});

test('struct sizes: a 1.0 caller, a newer caller, and the limits (openat2/clone3 rules)', () => {
  const d = new RawDevice();
  try {
    // An ABI 1.0 caller: 64-byte VERSION, answered in 64 bytes.
    const old = truncate(encodeVersion(), SIZEOF_VERSION_VER0);
    ioctl(d.fd, requestFor('MLP_IOC_VERSION', old.length), old);
    assert.equal(old.readUInt32LE(0), SIZEOF_VERSION_VER0);
    assert.equal(decodeVersion(old).abiMinor, 1);
    // A newer caller: 128 bytes with a zero tail; the kernel fills its own 88 bytes.
    const big = Buffer.alloc(128);
    encodeVersion().copy(big);
    big.writeUInt32LE(128, 0);
    ioctl(d.fd, requestFor('MLP_IOC_VERSION', 128), big);
    assert.equal(big.readUInt32LE(0), mlpVersion.size, 'size = the bytes the kernel filled');
    assert.equal(decodeVersion(big.subarray(0, mlpVersion.size)).sizes.version, mlpVersion.size);
    // ... but a nonzero byte past the kernel's struct is something it cannot honour.
    const tail = Buffer.alloc(128);
    encodeVersion().copy(tail);
    tail.writeUInt32LE(128, 0);
    tail[100] = 1;
    assert.equal(
      errnoOf(() => ioctl(d.fd, requestFor('MLP_IOC_VERSION', 128), tail)),
      'E2BIG',
    );
    // Smaller than 1.0, or a size field that is not _IOC_SIZE: EINVAL.
    const small = Buffer.alloc(32);
    small.writeUInt32LE(32, 0);
    assert.equal(
      errnoOf(() => ioctl(d.fd, requestFor('MLP_IOC_VERSION', 32), small)),
      'EINVAL',
    );
    const liar = encodeVersion();
    liar.writeUInt32LE(SIZEOF_VERSION_VER0, 0);
    assert.equal(
      errnoOf(() => ioctl(d.fd, IOCTLS.MLP_IOC_VERSION, liar)),
      'EINVAL',
    );
    // The file speaks the minor its caller said (0 here), never more than the kernel's.
    const zero = mlpVersion.encode({ size: mlpVersion.size, abi_major: 1, abi_minor: 0 });
    ioctl(d.fd, IOCTLS.MLP_IOC_VERSION, zero);
    assert.equal(decodeVersion(zero).fileMinor, 0);
    const future = mlpVersion.encode({ size: mlpVersion.size, abi_major: 1, abi_minor: 9 });
    ioctl(d.fd, IOCTLS.MLP_IOC_VERSION, future);
    assert.equal(decodeVersion(future).fileMinor, 1);
    // A 1.0 GET_STATE (240 bytes) still works.
    const st = truncate(encodeStateQuery(id), SIZEOF_STATE_VER0);
    ioctl(d.fd, requestFor('MLP_IOC_GET_STATE', st.length), st);
    assert.equal(decodeState(st).subsysId, id);
  } finally {
    d.close();
  }
});

test('answers are built in zeroed memory: no byte of the caller is left where the kernel answers', () => {
  const d = new RawDevice();
  try {
    // Garbage in every output field of the caller's structs (inputs valid).
    const v = mlpVersion.encode({ size: mlpVersion.size, abi_major: 1, abi_minor: 1 });
    for (const f of ['compatible', 'nr_subsys', 'sizeof_claim', 'file_minor']) {
      v.writeUInt32LE(0xdeadbeef, mlpVersion.offsetOf(f));
    }
    ioctl(d.fd, IOCTLS.MLP_IOC_VERSION, v);
    assert.equal(decodeVersion(v).compatible, true);
    assert.equal(v.readUInt32LE(mlpVersion.offsetOf('__reserved')), 0);
    const reserved = mlpVersion.encode({ size: mlpVersion.size, abi_major: 1, __reserved: 1 });
    assert.equal(
      errnoOf(() => ioctl(d.fd, IOCTLS.MLP_IOC_VERSION, reserved)),
      'EINVAL',
    );
    d.claim(id);
    const r = encodeRecommendation({
      subsysId: id,
      epoch: d.state(id).epoch,
      modelVersion: 1,
      propensity: 1,
      knobs: [5],
    });
    const applied = mlpRecommendation.offsetOf('applied');
    r.fill(0xab, mlpRecommendation.offsetOf('rec_id')); // every output field
    ioctl(d.fd, IOCTLS.MLP_IOC_RECOMMEND, r);
    for (let k = 1; k < 8; k++) {
      assert.equal(r.readBigInt64LE(applied + 8 * k), 0n, `applied[${k}] past nr_knobs`);
    }
    assert.notEqual(r.readUInt32LE(mlpRecommendation.offsetOf('verdict')), 0xabababab);
    const m = mlpMode.encode({ size: mlpMode.size, subsys_id: id, mode: 0xaaaa, flags: 0xbbbb });
    ioctl(d.fd, IOCTLS.MLP_IOC_GET_MODE, m);
    assert.ok(m.readUInt32LE(mlpMode.offsetOf('mode')) < 4);
    assert.equal(m.readUInt32LE(mlpMode.offsetOf('flags')) & ~1, 0);
    d.release(id);
  } finally {
    d.close();
  }
});

test('control needs a file opened for writing (EBADF), even for root', () => {
  const r = new RawDevice({ readOnly: true });
  try {
    assert.equal(
      errnoOf(() => r.claim(id)),
      'EBADF',
    );
    const s = r.state(id);
    assert.equal(
      errnoOf(() =>
        r.recommend({ subsysId: id, epoch: s.epoch, modelVersion: 1, propensity: 1, knobs: [5] }),
      ),
      'EBADF',
    );
    assert.equal(r.status(id).controlled, false);
  } finally {
    r.close();
  }
});

test('malformed requests: wrong size field EINVAL, unknown command ENOTTY, reserved bits EINVAL', () => {
  const d = new RawDevice();
  try {
    const v = encodeVersion();
    v.writeUInt32LE(mlpVersion.size + 8, 0);
    assert.equal(
      errnoOf(() => ioctl(d.fd, IOCTLS.MLP_IOC_VERSION, v)),
      'EINVAL',
    );
    const unknown = ioc(IOC_READ | IOC_WRITE, IOC_MAGIC, 0x3f, mlpVersion.size);
    assert.equal(
      errnoOf(() => ioctl(d.fd, unknown, encodeVersion())),
      'ENOTTY',
    );
    const wrongDir = ioc(IOC_WRITE, IOC_MAGIC, 0x00, mlpVersion.size);
    assert.equal(
      errnoOf(() => ioctl(d.fd, wrongDir, encodeVersion())),
      'ENOTTY',
      'a known number with another direction is another command',
    );
    const claim = encodeClaim(id);
    claim.writeUInt32LE(1, 12); // __reserved
    assert.equal(
      errnoOf(() => ioctl(d.fd, IOCTLS.MLP_IOC_CLAIM, claim)),
      'EINVAL',
    );
    const flags = encodeClaim(id);
    flags.writeUInt32LE(0x80, 8); // unknown flag
    assert.equal(
      errnoOf(() => ioctl(d.fd, IOCTLS.MLP_IOC_CLAIM, flags)),
      'EINVAL',
    );
    assert.equal(
      errnoOf(() => ioctl(d.fd, IOCTLS.MLP_IOC_VERSION, 0)),
      'EFAULT',
      'NULL argument',
    );
  } finally {
    d.close();
  }
  assert.deepEqual(kernelProblems(), []);
});
