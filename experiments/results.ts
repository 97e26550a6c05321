/**
 * Aggregates cell results across seeds and writes them as JSON and CSV.
 *
 * Confidence bands and intervals across seeds are normal ones: mean ± 1.96 standard
 * errors (sample standard deviation / sqrt(seeds)); with one seed there is no interval.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CellResult } from './cell.js';

export const Z95 = 1.959963984540054;

export interface Band {
  mean: number[];
  lo: number[];
  hi: number[];
}

export interface Summary {
  policy: string;
  env: string;
  seeds: number;
  rounds: number;
  k: number;
  meanFinalRegret: number;
  /** Half width of the 95% interval of the mean final regret (null with one seed). */
  finalRegretCi: number | null;
  meanReward: number;
  meanVsBaseline: number;
  optimalShare: number;
  decisionsPerSec: number;
  checkpoints: number[];
  cumRegret: Band;
  cumVsBaseline: Band;
  /** Mean over seeds of each bucket's arm shares. */
  armShare: number[][];
}

export function meanAndHalfWidth(xs: number[]): { mean: number; half: number | null } {
  const n = xs.length;
  let mean = 0;
  for (const x of xs) mean += x / n;
  if (n < 2) return { mean, half: null };
  let ss = 0;
  for (const x of xs) ss += (x - mean) ** 2;
  return { mean, half: (Z95 * Math.sqrt(ss / (n - 1))) / Math.sqrt(n) };
}

function band(series: number[][]): Band {
  const len = series[0].length;
  const out: Band = { mean: [], lo: [], hi: [] };
  for (let i = 0; i < len; i++) {
    const { mean, half } = meanAndHalfWidth(series.map((s) => s[i]));
    out.mean.push(mean);
    out.lo.push(mean - (half ?? 0));
    out.hi.push(mean + (half ?? 0));
  }
  return out;
}

/** One summary per (policy, environment), in first-seen order. */
export function summarise(cells: CellResult[]): Summary[] {
  const groups = new Map<string, CellResult[]>();
  for (const c of cells) {
    const key = JSON.stringify([c.policy, c.env]);
    const g = groups.get(key);
    if (g) g.push(c);
    else groups.set(key, [c]);
  }
  return [...groups.values()].map((g) => {
    const first = g[0];
    const regret = meanAndHalfWidth(g.map((c) => c.finalRegret));
    const armShare = first.armShare.map((row, b) =>
      row.map((_, a) => g.reduce((s, c) => s + c.armShare[b][a], 0) / g.length),
    );
    return {
      policy: first.policy,
      env: first.env,
      seeds: g.length,
      rounds: first.rounds,
      k: first.k,
      meanFinalRegret: regret.mean,
      finalRegretCi: regret.half,
      meanReward: meanAndHalfWidth(g.map((c) => c.meanReward)).mean,
      meanVsBaseline: meanAndHalfWidth(g.map((c) => c.finalVsBaseline)).mean,
      optimalShare: meanAndHalfWidth(g.map((c) => c.optimalShare)).mean,
      decisionsPerSec: meanAndHalfWidth(g.map((c) => c.decisionsPerSec)).mean,
      checkpoints: first.checkpoints,
      cumRegret: band(g.map((c) => c.cumRegret)),
      cumVsBaseline: band(g.map((c) => c.cumVsBaseline)),
      armShare,
    };
  });
}

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

export interface WrittenFiles {
  json: string;
  cellsCsv: string;
  curvesCsv: string;
  summaryCsv: string;
}

/** Writes results.json, cells.csv, curves.csv and summary.csv into `outDir`. */
export function writeResults(
  outDir: string,
  meta: Record<string, unknown>,
  cells: CellResult[],
  summaries: Summary[],
): WrittenFiles {
  mkdirSync(outDir, { recursive: true });
  const files: WrittenFiles = {
    json: join(outDir, 'results.json'),
    cellsCsv: join(outDir, 'cells.csv'),
    curvesCsv: join(outDir, 'curves.csv'),
    summaryCsv: join(outDir, 'summary.csv'),
  };
  writeFileSync(files.json, JSON.stringify({ ...meta, summaries, cells }, null, 1) + '\n');
  writeFileSync(
    files.cellsCsv,
    toCsv(
      [
        'policy',
        'env',
        'seed',
        'rounds',
        'final_regret',
        'total_reward',
        'mean_reward',
        'final_vs_baseline',
        'optimal_share',
        'decisions_per_sec',
      ],
      cells.map((c) => [
        c.policy,
        c.env,
        c.seed,
        c.rounds,
        c.finalRegret,
        c.totalReward,
        c.meanReward,
        c.finalVsBaseline,
        c.optimalShare,
        c.decisionsPerSec,
      ]),
    ),
  );
  const curveRows: unknown[][] = [];
  for (const c of cells) {
    c.checkpoints.forEach((round, i) =>
      curveRows.push([c.policy, c.env, c.seed, round, c.cumRegret[i], c.cumVsBaseline[i]]),
    );
  }
  writeFileSync(
    files.curvesCsv,
    toCsv(['policy', 'env', 'seed', 'round', 'cum_regret', 'cum_vs_baseline'], curveRows),
  );
  writeFileSync(
    files.summaryCsv,
    toCsv(
      [
        'policy',
        'env',
        'seeds',
        'rounds',
        'mean_final_regret',
        'final_regret_ci95',
        'mean_reward',
        'mean_vs_baseline',
        'optimal_share',
        'decisions_per_sec',
      ],
      summaries.map((s) => [
        s.policy,
        s.env,
        s.seeds,
        s.rounds,
        s.meanFinalRegret,
        s.finalRegretCi,
        s.meanReward,
        s.meanVsBaseline,
        s.optimalShare,
        s.decisionsPerSec,
      ]),
    ),
  );
  return files;
}

/** The terminal summary table: policy, env, mean final regret ± CI, mean reward, decisions/s. */
export function summaryTable(summaries: Summary[]): string {
  const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
  const rows = summaries.map((s) => [
    s.policy,
    s.env,
    `${fmt(s.meanFinalRegret, 1)} ± ${s.finalRegretCi === null ? 'n/a' : fmt(s.finalRegretCi, 1)}`,
    fmt(s.meanReward, 4),
    fmt(s.meanVsBaseline, 1),
    s.decisionsPerSec >= 1e6
      ? `${fmt(s.decisionsPerSec / 1e6, 2)}M`
      : `${fmt(s.decisionsPerSec / 1e3, 1)}k`,
  ]);
  const header = [
    'policy',
    'env',
    'final regret (95% CI)',
    'mean reward',
    'vs baseline',
    'decisions/s',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
