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
import { encodeClaim, encodeVersion } from '../../src/abi/codec.js';
import { IOC_MAGIC, IOC_READ, IOC_WRITE, MODE_EMERGENCY, ioc } from '../../src/abi/constants.js';
import { IOCTLS, mlpVersion } from '../../src/abi/structs.js';
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
    openRead: 'ok', // the node is 0644 root
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
    const otherSize = ioc(IOC_READ | IOC_WRITE, IOC_MAGIC, 0x00, mlpVersion.size + 8);
    assert.equal(
      errnoOf(() => ioctl(d.fd, otherSize, Buffer.alloc(mlpVersion.size + 8))),
      'ENOTTY',
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
