/**
 * Prints the windows of a read-ahead demo run compactly, to see what the daemon and the
 * kernel did: per window its mode (E, L, C, R), the setting (a number when advice ran, "."
 * for the baseline), flags (i idle, u unreliable) and the kernel's efficiency; then the
 * transitions and the readers' MiB/s per second.
 *
 *   node dist/demo/trace.js <results.json> [--kind daemon] [--workload phase]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { TRANSITION_NAMES } from '../src/abi/names.js';
import type { Results, RunRecord } from './records.js';

const MODES = 'ELCR';

export function traceRun(r: RunRecord): string {
  const head =
    `== ${r.kind} ${r.workload} ${r.policy ?? (r.setting === null ? '' : `2^${r.setting} KiB`)} #${r.repeat}: ` +
    `steady ${(r.steadyKiBs / 1024).toFixed(2)} MiB/s, whole ${(r.throughputKiBs / 1024).toFixed(2)}`;
  const windows = r.windows
    .map(
      (w) =>
        `${MODES[w.mode]}${w.applied ? w.knob : '.'}${w.idle ? 'i' : ''}${w.unreliable ? 'u' : ''}:${w.eff.toFixed(w.eff < 1 ? 2 : 1)}`,
    )
    .join(' ');
  const trans = r.transitions
    .map(
      (t) =>
        `${(t.tMs / 1000).toFixed(1)}s ${MODES[t.from]}->${MODES[t.to]} ${TRANSITION_NAMES[t.reason] ?? t.reason}`,
    )
    .join(', ');
  const cycles = r.cycles.length
    ? `\ncycles: ${r.cycles.map((c) => c.steps.map((s) => `${s.kind} ${s.seconds.toFixed(1)}s`).join(' + ')).join(' | ')}`
    : '';
  return `${head}\ntransitions: ${trans || 'none'}\nwindows: ${windows}\nMiB/s per second: ${r.perSecondMiBs.map((x) => x.toFixed(1)).join(' ')}${cycles}`;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { kind: { type: 'string' }, workload: { type: 'string' } },
  });
  if (positionals.length !== 1)
    throw new Error('usage: trace.js <results.json> [--kind K] [--workload W]');
  const res = JSON.parse(fs.readFileSync(positionals[0], 'utf8')) as Results;
  for (const r of res.runs) {
    if (values.kind && r.kind !== values.kind) continue;
    if (values.workload && r.workload !== values.workload) continue;
    process.stdout.write(`${traceRun(r)}\n`);
  }
}

if (process.argv[1]?.endsWith('trace.js')) main();
