/**
 * Aggregates cell results across seeds and writes them as JSON and CSV.
 *
 * Confidence bands and intervals across seeds are normal ones: mean ± 1.96 standard
 * errors (sample standard deviation / sqrt(seeds)); with one seed there is no interval,
 * and neither is there when every seed gave the same final regret (identical replays,
 * e.g. a deterministic policy on a problem folder whose draws are fixed: the seeds are
 * then one observation, not a sample, and "± 0" would overstate). Decisions/s vary from
 * run to run with the machine's load: the summary gives their median and range.
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
  /** Half width of the 95% interval of the mean final regret (null with one seed or identical seeds). */
  finalRegretCi: number | null;
  /** True when two or more seeds all gave exactly the same final regret. */
  identicalSeeds: boolean;
  meanReward: number;
  meanVsBaseline: number;
  optimalShare: number;
  /** Median decisions/s over the seeds, and the range. */
  decisionsPerSec: number;
  decisionsPerSecMin: number;
  decisionsPerSecMax: number;
  checkpoints: number[];
  cumRegret: Band;
  cumVsBaseline: Band;
  /** Share of optimal choices per bucket, with the same band. */
  optimalCurve: Band;
  /** Mean over seeds of each bucket's arm shares. */
  armShare: number[][];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
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
    const identicalSeeds = g.length > 1 && g.every((c) => c.finalRegret === first.finalRegret);
    const rates = g.map((c) => c.decisionsPerSec);
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
      finalRegretCi: identicalSeeds ? null : regret.half,
      identicalSeeds,
      meanReward: meanAndHalfWidth(g.map((c) => c.meanReward)).mean,
      meanVsBaseline: meanAndHalfWidth(g.map((c) => c.finalVsBaseline)).mean,
      optimalShare: meanAndHalfWidth(g.map((c) => c.optimalShare)).mean,
      decisionsPerSec: median(rates),
      decisionsPerSecMin: Math.min(...rates),
      decisionsPerSecMax: Math.max(...rates),
      checkpoints: first.checkpoints,
      cumRegret: band(g.map((c) => c.cumRegret)),
      cumVsBaseline: band(g.map((c) => c.cumVsBaseline)),
      optimalCurve: band(g.map((c) => c.optimalCurve)),
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
        'identical_seeds',
        'mean_reward',
        'mean_vs_baseline',
        'optimal_share',
        'decisions_per_sec_median',
        'decisions_per_sec_min',
        'decisions_per_sec_max',
      ],
      summaries.map((s) => [
        s.policy,
        s.env,
        s.seeds,
        s.rounds,
        s.meanFinalRegret,
        s.finalRegretCi,
        s.identicalSeeds,
        s.meanReward,
        s.meanVsBaseline,
        s.optimalShare,
        s.decisionsPerSec,
        s.decisionsPerSecMin,
        s.decisionsPerSecMax,
      ]),
    ),
  );
  return files;
}

/** "± 1.2", or why there is no interval. */
export function regretSpread(s: Summary, digits = 1): string {
  if (s.identicalSeeds) return `(identical in all ${s.seeds} seeds)`;
  if (s.finalRegretCi === null) return '(one seed)';
  return `± ${s.finalRegretCi.toFixed(digits)}`;
}

/** 417k, 1.23M. */
export function rate(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(0)}k`;
}

/** The terminal summary table: policy, env, mean final regret ± CI, mean reward, decisions/s. */
export function summaryTable(summaries: Summary[]): string {
  const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
  const rows = summaries.map((s) => [
    s.policy,
    s.env,
    `${fmt(s.meanFinalRegret, 1)} ${regretSpread(s)}`,
    fmt(s.meanReward, 4),
    fmt(s.meanVsBaseline, 1),
    `${(100 * s.optimalShare).toFixed(1)}%`,
    `${rate(s.decisionsPerSec)} (${rate(s.decisionsPerSecMin)}–${rate(s.decisionsPerSecMax)})`,
  ]);
  const header = [
    'policy',
    'env',
    'final regret (95% CI)',
    'mean reward',
    'vs baseline',
    'optimal arm',
    'decisions/s median (range)',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
