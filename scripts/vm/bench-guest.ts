/**
 * Guest side of scripts/vm/bench-vm.sh (a benchmark, not a test): on the real
 * mlproxy.ko, the cost of one decision against the no-op ioctl (MLP_IOC_VERSION on a
 * reused buffer, no encoding: the system call alone):
 *   as 1.0 did it  GET_STATE + RECOMMEND + read() of one feedback record;
 *   ABI 1.1        read() of one 352-byte record, which carries the state of the window
 *                  in progress, + RECOMMEND: one system call besides the read the
 *                  feedback needs anyway.
 * Both through the daemon's own transport (IoctlDevice, one record per read as in its
 * steady state of one record per window); the raw system calls (reused buffers, no
 * codec) and the test helper's decoding calls beside them show where the time goes.
 * Writes a markdown table to $MLP_VM_OUT/bench.md. Argument: decisions per path
 * (default 1000).
 */
import { readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIZEOF_FEEDBACK_VER0 } from '../../src/abi/constants.js';
import { FEEDBACK_SIZE, encodeRecommendation, encodeVersion } from '../../src/abi/codec.js';
import { IOCTLS } from '../../src/abi/structs.js';
import { IoctlDevice } from '../../src/transport/ioctl-device.js';
import { DEVICE_PATH, FAST_PARAMS, loadModule, unloadModule } from '../../test/vm/helpers/guest.js';
import { RawDevice, ioctl, sleepMs } from '../../test/vm/helpers/rawdev.js';

const trips = Number(process.argv[2] ?? 1000);
if (!Number.isInteger(trips) || trips < 10)
  throw new Error(`round trips must be an integer >= 10, got ${process.argv[2]}`);
const WINDOW_MS = 5;

function stats(ns: bigint[]): { mean: number; p50: number; p99: number } {
  const us = ns.map((x) => Number(x) / 1000).sort((a, b) => a - b);
  const at = (q: number) => us[Math.min(us.length - 1, Math.floor(q * us.length))];
  return { mean: us.reduce((a, b) => a + b, 0) / us.length, p50: at(0.5), p99: at(0.99) };
}

loadModule({ ...FAST_PARAMS, synth_window_ms: WINDOW_MS, ring_records: 65536 });
const v10 = new RawDevice({ nonblock: true }); // a 1.0 reader: 136-byte records
const v11 = new RawDevice({ nonblock: true }); // a 1.1 reader: whole records
const id = v10.subsystem('synthetic').id;
v11.configure({ recordSize: FEEDBACK_SIZE });
// The daemon's own transport, one record per read() as in its steady state (a record
// per window); IoctlDevice speaks 1.1: 352-byte records, read timeout 0 for readFeedback().
const d10 = new IoctlDevice(DEVICE_PATH, { maxRecords: 1 });
const d11 = new IoctlDevice(DEVICE_PATH, { maxRecords: 1 });
// Queue enough records that every read takes one without waiting.
const needed = 4 * trips + 1000;
while (v10.status(id).windows < needed) sleepMs(50);

const rec = (epoch: number) => ({
  subsysId: id,
  epoch,
  modelVersion: 1,
  propensity: 1,
  knobs: [10],
});
const one = (dev: RawDevice, size: number) => {
  const got = dev.readFeedback(1, size);
  if (got.length !== 1) throw new Error('no feedback record queued');
  return got[0];
};

// The operations take turns in 20 rounds, so that a slow phase of the emulator (the
// host is shared) falls on all of them alike; 200 calls of each warm the JIT first.
const recommendOnly = () => {
  const e = v10.state(id).epoch; // not timed: only the RECOMMEND is
  const t0 = process.hrtime.bigint();
  v10.recommend(rec(e));
  return process.hrtime.bigint() - t0;
};
const vbuf = encodeVersion();
const rbuf = Buffer.alloc(FEEDBACK_SIZE);
// Epoch 0: STALE once the first windows passed, through every check of the call.
const recbuf = encodeRecommendation(rec(0));
const ops: [string, number, () => bigint | void][] = [
  ['noop', 10, () => void ioctl(v10.fd, IOCTLS.MLP_IOC_VERSION, vbuf)],
  ['version', 1, () => void v10.version()],
  ['state', 1, () => void v10.state(id)],
  [
    'rawread',
    1,
    () => {
      if (readSync(v11.fd, rbuf, 0, FEEDBACK_SIZE, null) !== FEEDBACK_SIZE)
        throw new Error('no record');
    },
  ],
  ['read10', 1, () => void one(v10, SIZEOF_FEEDBACK_VER0)],
  ['read11', 1, () => void one(v11, FEEDBACK_SIZE)],
  ['rawrec', 1, () => void ioctl(v10.fd, IOCTLS.MLP_IOC_RECOMMEND, recbuf)],
  ['recommend', 1, recommendOnly],
  [
    'decide10',
    1,
    () => {
      const st = d10.getState(id);
      d10.recommend(rec(st.epoch));
      if (d10.readFeedback().length !== 1) throw new Error('no feedback record queued');
    },
  ],
  [
    'decide11',
    1,
    () => {
      const f = d11.readFeedback()[0];
      if (!f?.next) throw new Error('no 1.1 record with the next state queued');
      d11.recommend(rec(f.next.epoch));
    },
  ],
];
const samples = new Map<string, bigint[]>(ops.map(([k]) => [k, []]));
const ROUNDS = 20;
for (let round = -1; round < ROUNDS; round++) {
  for (const [name, weight, fn] of ops) {
    const n = round < 0 ? 200 : Math.ceil((weight * trips) / ROUNDS);
    // One file controls at a time: each decision's file takes over for its turn.
    const ctl = name === 'decide11' ? d11 : name === 'decide10' ? d10 : v10;
    ctl.claim(id);
    const got: bigint[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      const own = fn();
      got.push(typeof own === 'bigint' ? own : process.hrtime.bigint() - t0);
    }
    ctl.release(id);
    if (round >= 0) samples.get(name)?.push(...got);
  }
}
for (const d of [v10, v11, d10, d11]) d.close();
unloadModule();

const get = (k: string) => samples.get(k) ?? [];
const rows: [string, bigint[]][] = [
  ['MLP_IOC_VERSION, raw (the no-op ioctl)', get('noop')],
  ['MLP_IOC_VERSION through the codec', get('version')],
  ['MLP_IOC_GET_STATE through the codec', get('state')],
  ['read() of one 352-byte record, raw', get('rawread')],
  ['read() of one 136-byte record (ABI 1.0) + decode', get('read10')],
  ['read() of one 352-byte record (ABI 1.1, with the next state) + decode', get('read11')],
  ['MLP_IOC_RECOMMEND, raw', get('rawrec')],
  ['MLP_IOC_RECOMMEND through the codec', get('recommend')],
  ['decision as 1.0 did it (IoctlDevice): GET_STATE + RECOMMEND + read()', get('decide10')],
  ['decision, ABI 1.1 (IoctlDevice, the daemon): read() + RECOMMEND', get('decide11')],
];
const base = stats(get('noop'));
const lines = [
  '| operation | calls | mean µs | p50 µs | p99 µs | × VERSION (p50) | × VERSION (mean) |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map(([name, ns]) => {
    const s = stats(ns);
    return `| ${name} | ${ns.length} | ${s.mean.toFixed(1)} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${(s.p50 / base.p50).toFixed(1)} | ${(s.mean / base.mean).toFixed(1)} |`;
  }),
];
const md = lines.join('\n') + '\n';
process.stdout.write(md);
if (process.env.MLP_VM_OUT) writeFileSync(join(process.env.MLP_VM_OUT, 'bench.md'), md);
