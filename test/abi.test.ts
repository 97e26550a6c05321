import test from 'ava';
import * as codec from '../src/abi/codec.js';
import { EFF_SCALE, PROB_SCALE, ioc } from '../src/abi/constants.js';
import { StructLayout } from '../src/abi/layout.js';
import {
  IOCTLS,
  mlpFeedback,
  mlpFileConfig,
  mlpVersion,
  requestFor,
  mlpRecommendation,
  mlpState,
  mlpSubsysInfo,
} from '../src/abi/structs.js';
import type { Feedback, StateSnapshot, SubsystemInfo } from '../src/transport/device.js';

test('ioctl numbers are unsigned 32-bit (the _IOC sign-bit trap)', (t) => {
  for (const [name, n] of Object.entries(IOCTLS)) {
    t.true(Number.isInteger(n) && n > 0 && n <= 0xffffffff, name);
  }
  // _IOWR('x', 1, 8 bytes) computed by hand: 3<<30 | 8<<16 | 0x78<<8 | 1.
  t.is(ioc(3, 0x78, 1, 8), 0xc0087801);
  t.throws(() => ioc(3, 0x78, 1, 1 << 14), { message: /14 bits/ });
});

test('every encoder yields a Buffer of exactly the struct size with size set', (t) => {
  const bufs: [Buffer, number][] = [
    [codec.encodeVersion(), 88],
    [codec.encodeFileConfig({ recordSize: 352 }), 96],
    [codec.encodeSubsysInfoQuery(3), mlpSubsysInfo.size],
    [codec.encodeStateQuery(1), mlpState.size],
    [codec.encodeModeQuery(1), 16],
    [codec.encodeMode(1, 3, true), 16],
    [codec.encodeClaim(1, true), 16],
    [codec.encodeStatusQuery(1), 256],
    [
      codec.encodeRecommendation({
        subsysId: 1,
        epoch: 5,
        modelVersion: 2,
        propensity: 0.5,
        knobs: [7],
      }),
      mlpRecommendation.size,
    ],
  ];
  for (const [buf, size] of bufs) {
    t.is(buf.length, size);
    t.is(buf.readUInt32LE(0), size, 'first field is size = sizeof(struct)');
  }
});

test('subsystem info round-trips, strings NUL-padded and cut at the first NUL', (t) => {
  const info: SubsystemInfo = {
    id: 7,
    name: 'synthetic',
    windowMs: 50,
    features: [
      { name: 'load', unit: 'permille', scale: 1000 },
      { name: 'phase_hint', unit: 'permille', scale: 1000 },
    ],
    knobs: [{ name: 'level', unit: '', min: 0, max: 15, step: 1, def: 4, maxDelta: 8 }],
  };
  const buf = codec.encodeSubsysInfo(info, 0);
  t.is(buf.length, mlpSubsysInfo.size);
  const nameAt = mlpSubsysInfo.offsetOf('name');
  t.is(buf.subarray(nameAt, nameAt + 32).toString('latin1'), 'synthetic' + '\0'.repeat(23));
  t.deepEqual(codec.decodeSubsysInfo(buf), info);
  t.throws(() => codec.encodeSubsysInfo({ ...info, name: 'x'.repeat(32) }, 0), {
    message: /mlp_subsys_info.name.*longer than 31 bytes/,
  });
});

test('state and feedback round-trip; efficiencies are floats of EFF_SCALE', (t) => {
  const state: StateSnapshot = {
    subsysId: 1,
    epoch: 2 ** 40 + 3,
    timeNs: 123456789012345,
    mode: 2,
    nextAdvice: true,
    features: [1, -2, 3000],
    knobs: [9],
    baselineEff: 0.912345,
    windowStartNs: 123456000000000,
    nextWindowNs: 123456050000000,
  };
  t.deepEqual(codec.decodeState(codec.encodeState(state)), state);
  // A 1.0 module's 240-byte answer: the 1.1 tail reads as zero.
  t.deepEqual(codec.decodeState(codec.truncate(codec.encodeState(state), 240)), {
    ...state,
    windowStartNs: 0,
    nextWindowNs: 0,
  });
  const fb: Feedback = {
    subsysId: 1,
    recId: 17,
    epoch: 99,
    windowStartNs: 5e12,
    windowNs: 5e7,
    mode: 3,
    applied: true,
    verdict: 2,
    reasons: 0b101,
    baselineEff: 0.5,
    eff: -0.25,
    knobs: [12, 0, 0, 0, 0, 0, 0, 0],
  };
  const raw = codec.encodeFeedback(fb);
  t.is(raw.length, 136, 'a record without a next state is a 1.0 record');
  t.is(raw.readBigInt64LE(mlpFeedback.offsetOf('eff')), BigInt(-0.25 * EFF_SCALE));
  t.deepEqual(codec.decodeFeedbackRecords(Buffer.concat([raw, raw])), [fb, fb]);
  t.throws(() => codec.decodeFeedbackRecords(raw.subarray(1)), { message: /whole number/ });
  // 1.1: the record carries the state of window epoch + 1.
  const next: StateSnapshot = {
    subsysId: 1,
    epoch: 100,
    timeNs: 5e12 + 5e7,
    mode: 3,
    nextAdvice: true,
    features: [7, -8],
    knobs: [11],
    baselineEff: 0.5,
    windowStartNs: 5e12 + 5e7,
    nextWindowNs: 5e12 + 1e8,
  };
  const full = codec.encodeFeedback({ ...fb, next });
  t.is(full.length, mlpFeedback.size);
  t.deepEqual(codec.decodeFeedbackRecords(Buffer.concat([full, full])), [
    { ...fb, next },
    { ...fb, next },
  ]);
  t.deepEqual(codec.decodeFeedback(codec.truncate(full, 136)), fb, 'a 136-byte read of it');
  t.throws(() => codec.decodeFeedback(codec.truncate(full, 100)), { message: /ABI mismatch/ });
});

test('version: a 1.0 reply (64 bytes) decodes with the 1.1 fields zero', (t) => {
  const reply = mlpVersion.encode({
    size: 88,
    abi_major: 1,
    abi_minor: 1,
    compatible: 1,
    sizeof_feedback: 352,
    sizeof_version: 88,
    generation: 5,
    file_minor: 1,
  });
  const v = codec.decodeVersion(reply);
  t.is(v.generation, 5);
  t.is(v.fileMinor, 1);
  t.is(v.sizes.version, 88);
  const old = codec.decodeVersion(codec.truncate(reply, 64));
  t.is(old.generation, 0);
  t.is(old.fileMinor, 0);
  t.is(old.sizes.version, 64, 'a 1.0 module: its VERSION is the 64 bytes it answered');
  t.is(old.sizes.feedback, 352);
});

test('file config: flags say what changes; the answer decodes', (t) => {
  const b = codec.encodeFileConfig({ recordSize: 352, readTimeoutMs: 40, subscribe: [3, 9] });
  t.is(b.readUInt32LE(mlpFileConfig.offsetOf('flags')), 0b111);
  t.is(codec.encodeFileConfig({ wake: true }).readUInt32LE(4), 0b1000);
  t.deepEqual(codec.decodeFileConfig(b), {
    recordSize: 352,
    readTimeoutMs: 40,
    queued: 0,
    subscribed: [3, 9],
    dropped: 0,
  });
  t.throws(
    () => codec.encodeFileConfig({ subscribe: Array.from({ length: 17 }, (_, i) => i + 1) }),
    {
      message: /at most 16/,
    },
  );
});

test('requests for other struct sizes: _IOC_SIZE is the size sent', (t) => {
  t.is(requestFor('MLP_IOC_VERSION', 88), IOCTLS.MLP_IOC_VERSION);
  t.is((requestFor('MLP_IOC_VERSION', 64) >>> 16) & 0x3fff, 64);
  t.is(requestFor('MLP_IOC_SET_MODE', 16) >>> 30, 1, '_IOW');
  t.is(codec.truncate(codec.encodeVersion(), 64).readUInt32LE(0), 64);
});

test('recommendation: propensity fixed point and validation', (t) => {
  const rec = { subsysId: 2, epoch: 10, modelVersion: 4, propensity: 0.25, knobs: [3, 4] };
  const buf = codec.encodeRecommendation(rec);
  t.is(buf.readUInt32LE(mlpRecommendation.offsetOf('propensity')), PROB_SCALE / 4);
  t.deepEqual(codec.decodeRecommendation(buf), { ...rec, ttlMs: 0, strict: false });
  t.is(codec.propensityToRaw(1), PROB_SCALE);
  for (const p of [0, -0.1, 1.01, NaN]) {
    t.throws(() => codec.encodeRecommendation({ ...rec, propensity: p }), {
      message: /propensity must be a probability in \(0, 1\]/,
    });
  }
  t.throws(() => codec.encodeRecommendation({ ...rec, knobs: [] }), { message: /1\.\.8 knobs/ });
  t.throws(() => codec.encodeRecommendation({ ...rec, ttlMs: 60001 }), { message: /ttlMs/ });
  t.throws(() => codec.encodeRecommendation({ ...rec, knobs: [1.5] }), {
    message: /knobs\[0\]: expected an integer/,
  });
});

test('u64 beyond 2^53 - 1 is refused clearly, both ways', (t) => {
  const s = new StructLayout('t', [
    { name: 'a', type: 'u64' },
    { name: 'b', type: 's64' },
  ]);
  const buf = Buffer.alloc(16);
  buf.writeBigUInt64LE(2n ** 53n, 0);
  t.throws(() => s.decode(buf), { message: /t\.a: 9007199254740992 does not fit/ });
  t.throws(() => s.encode({ a: 2 ** 53 }), { message: /t\.a.*outside/ });
  t.throws(() => s.encode({ c: 1 }), { message: /no field "c"/ });
  t.throws(() => s.decode(Buffer.alloc(15)), { message: /expected 16 bytes, got 15/ });
  buf.writeBigUInt64LE(2n ** 53n - 1n, 0);
  buf.writeBigInt64LE(-5n, 8);
  t.deepEqual(s.decode(buf), { a: Number.MAX_SAFE_INTEGER, b: -5 });
});

test('mode and status decode flags', (t) => {
  t.deepEqual(codec.decodeMode(codec.encodeMode(4, 3, true)), { mode: 3, pinned: true });
  t.throws(() => codec.encodeMode(4, 4, false), { message: /mode must be an integer in 0\.\.3/ });
});
