/**
 * Guest side of scripts/vm/bench-vm.sh (a benchmark, not a test): on the real
 * mlproxy.ko, the time of the daemon's round trip (GET_STATE + RECOMMEND + read()
 * of one feedback record) against MLP_IOC_VERSION, a near no-op ioctl. Writes a
 * markdown table to $MLP_VM_OUT/bench.md. Argument: round trips (default 1000).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
const dev = new RawDevice({ nonblock: true });
const id = dev.subsystem('synthetic').id;
dev.claim(id);
// Queue enough feedback records that every round trip reads one without waiting.
const needed = 2 * trips + 100;
while (dev.status(id).windows < needed) sleepMs(50);

time(200, () => dev.version()); // warm-up
const version = time(10 * trips, () => dev.version());
const state = time(trips, () => dev.state(id));
const trip = time(trips, () => {
  const s = dev.state(id);
  dev.recommend({ subsysId: id, epoch: s.epoch, modelVersion: 1, propensity: 1, knobs: [10] });
  if (dev.readFeedback(1).length !== 1) throw new Error('no feedback record queued');
});
const read = time(trips - 100, () => {
  if (dev.readFeedback(1).length !== 1) throw new Error('no feedback record queued');
});
dev.close();
unloadModule();

const rows: [string, number, bigint[]][] = [
  ['MLP_IOC_VERSION (no-op baseline)', 10 * trips, version],
  ['MLP_IOC_GET_STATE', trips, state],
  ['read() of one feedback record', trips - 100, read],
  ['round trip: GET_STATE + RECOMMEND + read() one record', trips, trip],
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
