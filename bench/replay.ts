/**
 * `mlproxy replay` as a user runs it: the built CLI in a fresh Node process on a held-out
 * linear problem (d = 10, K = 10, T = 20,000, generated once per run by
 * experiments/bench-problem.ts writeLinearProblem, seed 2027), several times in a row.
 * Reported per policy: the decisions/s that replay prints (rounds / the whole replay loop,
 * JIT warm-up included, loading excluded) as median, min and max over the runs, the median
 * wall time of the whole process, and the load average before and after (the machine is
 * shared; a busy one slows every figure).
 *
 *   node dist/bench/run.js replay
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeLinearProblem } from '../experiments/bench-problem.js';
import type { BenchModule, BenchOptions, Row } from './types.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli/main.js');

const CASES: Record<string, string> = {
  'linucb-d10-k10-t20000': 'linucb:alpha=1,lambda=1',
  'ucb1-k10-t20000': 'ucb1',
};

const PROBLEM = { T: 20000, K: 10, d: 10, noiseSd: 0.1, seed: 2027 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function runCase(dir: string, spec: string, runs: number): Row {
  const loadBefore = load();
  const rates: number[] = [];
  const walls: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const res = spawnSync(process.execPath, [MAIN, 'replay', dir, '--policy', spec, '--json'], {
      encoding: 'utf8',
    });
    walls.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (res.status !== 0) throw new Error(`replay failed: ${res.stderr}`);
    rates.push((JSON.parse(res.stdout) as { decisionsPerSec: number }).decisionsPerSec);
  }
  return {
    policy: spec,
    runs,
    'decisions/s median': Math.round(median(rates)),
    'decisions/s min': Math.round(Math.min(...rates)),
    'decisions/s max': Math.round(Math.max(...rates)),
    'process wall ms median': Math.round(median(walls)),
    'load before': loadBefore,
    'load after': load(),
  };
}

export const replayBench: BenchModule = {
  name: 'replay',
  description: `mlproxy replay CLI on a linear problem d=${PROBLEM.d}, K=${PROBLEM.K}, T=${PROBLEM.T} (fresh process per run)`,
  cases: () => Object.keys(CASES),
  run(cases: string[], opts: BenchOptions): Row[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-replay-bench-'));
    try {
      writeLinearProblem(dir, PROBLEM);
      // About one run per 0.2 s of --seconds, at least 5.
      const runs = Math.max(5, Math.round(opts.seconds * 5));
      return cases.map((c) => runCase(dir, CASES[c], runs));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
