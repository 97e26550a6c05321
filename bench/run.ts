/**
 * `npm run bench`: runs the benchmark modules and prints one table per module.
 *
 *   node dist/bench/run.js [filter] [--seconds 1] [--json results.json]
 *
 * filter: substring of "module/case" (e.g. "policies/linucb", "linucb-inverse"); empty = all.
 * To add a module, write bench/<name>.ts exporting a BenchModule and list it in MODULES.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { daemonBench } from './daemon.js';
import { gcFunction } from './gc.js';
import { linucbInverseBench } from './linucb-inverse.js';
import { policiesBench } from './policies.js';
import { replayBench } from './replay.js';
import type { BenchModule, Row } from './types.js';

const MODULES: BenchModule[] = [policiesBench, linucbInverseBench, daemonBench, replayBench];

function printTable(title: string, rows: Row[]): void {
  console.log(`\n## ${title}\n`);
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]);
  const fmt = (v: Row[string]) =>
    v === null ? '' : typeof v === 'number' ? v.toLocaleString('en-US') : String(v);
  const cells = rows.map((r) => cols.map((c) => fmt(r[c])));
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (vals: string[]) =>
    `| ${vals.map((v, i) => (i === 0 ? v.padEnd(width[i]) : v.padStart(width[i]))).join(' | ')} |`;
  console.log(line(cols));
  console.log(
    `|${width.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|')}|`,
  );
  for (const r of cells) console.log(line(r));
}

function main(argv: string[]): void {
  const program = new Command()
    .name('bench')
    .description('mlproxy benchmarks')
    .argument('[filter]', 'substring of "module/case" to run, e.g. policies/linucb', '')
    .option(
      '--seconds <s>',
      'seconds of timed work per case',
      (v) => {
        const n = Number(v);
        if (!(n > 0 && n <= 60)) throw new InvalidArgumentError('must be a number in (0, 60]');
        return n;
      },
      1,
    )
    .option('--json <file>', 'also write the results as JSON to this file')
    .parse(argv);
  const filter = program.args[0] ?? '';
  const { seconds, json } = program.opts<{ seconds: number; json?: string }>();
  const gc = gcFunction();
  const environment = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    command: `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
  };
  console.log(
    `mlproxy bench, ${environment.date}, node ${environment.node}, ${environment.cpus} x ${environment.cpu}, ` +
      `load average ${environment.loadAverageAtStart.join(' ')} (other processes slow every figure)`,
  );
  const results: Record<string, Row[]> = {};
  let ran = 0;
  for (const m of MODULES) {
    const cases = m.cases().filter((c) => `${m.name}/${c}`.includes(filter));
    if (cases.length === 0) continue;
    ran += cases.length;
    const rows = m.run(cases, { filter, seconds, gc });
    results[m.name] = rows;
    printTable(`${m.name}: ${m.description}`, rows);
  }
  if (ran === 0) {
    const all = MODULES.flatMap((m) => m.cases().map((c) => `${m.name}/${c}`));
    console.error(`no benchmark matches "${filter}"; known: ${all.join(', ')}`);
    process.exitCode = 2;
    return;
  }
  if (json) {
    writeFileSync(json, JSON.stringify({ environment, results }, null, 2) + '\n');
    console.log(`\nwrote ${json}`);
  }
}

main(process.argv);
