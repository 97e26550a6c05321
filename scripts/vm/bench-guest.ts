/**
 * Guest side of scripts/vm/bench-vm.sh (a benchmark, not a test): on the real
 * mlproxy.ko, the cost of one decision against MLP_IOC_VERSION, a near no-op ioctl:
 *   ABI 1.0  GET_STATE + RECOMMEND + read() of one 136-byte feedback record;
 *   ABI 1.1  read() of one 352-byte record, which carries the state of the window in
 *            progress, + RECOMMEND: one system call besides the read the feedback
 *            needs anyway.
 * Both through the codec the daemon uses (src/abi/codec.ts). Writes a markdown table
 * to $MLP_VM_OUT/bench.md. Argument: decisions per path (default 1000).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIZEOF_FEEDBACK_VER0 } from '../../src/abi/constants.js';
import { FEEDBACK_SIZE } from '../../src/abi/codec.js';
import { FAST_PARAMS, loadModule, unloadModule } from '../../test/vm/helpers/guest.js';
import { RawDevice, sleepMs } from '../../test/vm/helpers/rawdev.js';

const trips = Number(process.argv[2] ?? 1000);
if (!Number.isInteger(trips) || trips < 10)
  throw new Error(`round trips must be an integer >= 10, got ${process.argv[2]}`);
const WINDOW_MS = 5;

function stats(ns: bigint[]): { mean: number; p50: number; p99: number } {
  const us = ns.map((x) => Number(x) / 1000).sort((a, b) => a - b);
  const at = (q: number) => us[Math.min(us.length - 1, Math.floor(q * us.length))];
  return { mean: us.reduce((a, b) => a + b, 0) / us.length, p50: at(0.5), p99: at(0.99) };
}

function time(n: number, fn: () => void): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(process.hrtime.bigint() - t0);
  }
  return out;
}

loadModule({ ...FAST_PARAMS, synth_window_ms: WINDOW_MS, ring_records: 65536 });
const v10 = new RawDevice({ nonblock: true }); // a 1.0 reader: 136-byte records
const v11 = new RawDevice({ nonblock: true }); // a 1.1 reader: whole records
const id = v10.subsystem('synthetic').id;
v11.configure({ recordSize: FEEDBACK_SIZE });
v10.claim(id);
// Queue enough records that every decision reads one without waiting.
const needed = 4 * trips + 200;
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

time(200, () => v10.version()); // warm-up
const version = time(10 * trips, () => v10.version());
const state = time(trips, () => v10.state(id));
const read10 = time(trips, () => one(v10, SIZEOF_FEEDBACK_VER0));
const read11 = time(trips, () => one(v11, FEEDBACK_SIZE));
const recommend: bigint[] = [];
for (let i = 0; i < trips; i++) {
  const e = v10.state(id).epoch; // not timed: only the RECOMMEND is
  const t0 = process.hrtime.bigint();
  v10.recommend(rec(e));
  recommend.push(process.hrtime.bigint() - t0);
}
const decide10 = time(trips, () => {
  const s = v10.state(id);
  v10.recommend(rec(s.epoch));
  one(v10, SIZEOF_FEEDBACK_VER0);
});
v10.release(id);
v11.claim(id);
const decide11 = time(trips, () => {
  const f = one(v11, FEEDBACK_SIZE);
  if (!f.next) throw new Error('a 1.1 record without the next state');
  v11.recommend(rec(f.next.epoch));
});
v10.close();
v11.close();
unloadModule();

const rows: [string, number, bigint[]][] = [
  ['MLP_IOC_VERSION (no-op baseline)', 10 * trips, version],
  ['MLP_IOC_GET_STATE', trips, state],
  ['read() of one 136-byte record (ABI 1.0)', trips, read10],
  ['read() of one 352-byte record (ABI 1.1, with the next state)', trips, read11],
  ['MLP_IOC_RECOMMEND', trips, recommend],
  ['decision, ABI 1.0: GET_STATE + RECOMMEND + read()', trips, decide10],
  ['decision, ABI 1.1: read() + RECOMMEND', trips, decide11],
];
const base = stats(version).mean;
const lines = [
  '| operation | calls | mean µs | p50 µs | p99 µs | × VERSION |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map(([name, n, ns]) => {
    const s = stats(ns);
    return `| ${name} | ${n} | ${s.mean.toFixed(1)} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${(s.mean / base).toFixed(1)} |`;
  }),
];
const md = lines.join('\n') + '\n';
process.stdout.write(md);
if (process.env.MLP_VM_OUT) writeFileSync(join(process.env.MLP_VM_OUT, 'bench.md'), md);
