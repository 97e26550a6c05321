/**
 * `mlproxy experiment`: expands a spec into cells (policy × environment × seed), runs
 * them on a worker-thread pool with a progress bar, and writes results JSON/CSV and the
 * HTML report.
 */
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { CellResult, CellSpec } from './cell.js';
import { pairwiseComparisons } from './compare.js';
import type { Comparison } from './compare.js';
import { runCellsInPool } from './pool.js';
import { buildReport } from './report.js';
import { summarise, toCsv, writeResults } from './results.js';
import type { Summary, WrittenFiles } from './results.js';
import type { ExperimentSpec } from './spec.js';
import { policyEntries, seedList } from './spec.js';

export interface ExperimentOptions {
  outDir: string;
  /** Overrides spec.jobs; the pool is min(os.availableParallelism(), jobs). */
  jobs?: number;
  /** No progress bar. The bar is also off when stderr is not a TTY. */
  quiet?: boolean;
  specFile?: string;
  /** Skip the HTML report (JSON and CSV are always written). */
  noReport?: boolean;
}

export interface ExperimentOutput {
  cells: CellResult[];
  summaries: Summary[];
  comparisons: Comparison[];
  files: WrittenFiles & { pairwiseCsv: string; report?: string };
  poolSize: number;
}

/** Cells in a fixed order: policy, then environment, then seed. */
export function expandCells(spec: ExperimentSpec, outDir?: string): CellSpec[] {
  const cells: CellSpec[] = [];
  const policies = policyEntries(spec);
  policies.forEach((p, pi) => {
    for (const env of spec.environments) {
      if (p.envs && !p.envs.includes(env.name)) continue;
      for (const seed of seedList(spec)) {
        cells.push({
          policy: p.spec,
          envName: env.name,
          env: { kind: env.kind, params: env.params ?? {} },
          seed,
          horizon: spec.horizon,
          points: spec.points ?? 100,
          ...(spec.logDecisions && outDir
            ? {
                logPath: join(
                  outDir,
                  'logs',
                  `p${pi}-${env.name.replace(/[^\w.-]/g, '_')}-s${seed}.jsonl`,
                ),
              }
            : {}),
        });
      }
    }
  });
  return cells;
}

export async function runExperiment(
  spec: ExperimentSpec,
  opts: ExperimentOptions,
): Promise<ExperimentOutput> {
  const cells = expandCells(spec, opts.outDir);
  const jobs = opts.jobs ?? spec.jobs ?? 2;
  const poolSize = Math.max(1, Math.min(availableParallelism(), jobs));
  const showBar = !opts.quiet && Boolean(process.stderr.isTTY);
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          format: `${spec.name} [{bar}] {value}/{total} cells | {last}`,
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(cells.length, 0, { last: '' });
  let results: CellResult[];
  try {
    results = await runCellsInPool(cells, poolSize, (done, _total, r) =>
      bar?.update(done, { last: `${r.policy} on ${r.env} seed ${r.seed}` }),
    );
  } finally {
    bar?.stop();
  }
  const summaries = summarise(results);
  const comparisons = pairwiseComparisons(results);
  const seeds = seedList(spec);
  const meta = {
    name: spec.name,
    specFile: opts.specFile ?? null,
    horizon: spec.horizon,
    seeds,
    spec,
    comparisons,
  };
  const written = writeResults(opts.outDir, meta, results, summaries);
  const files: ExperimentOutput['files'] = {
    ...written,
    pairwiseCsv: join(opts.outDir, 'pairwise.csv'),
  };
  writeFileSync(files.pairwiseCsv, pairwiseCsv(comparisons));
  if (!opts.noReport) {
    const html = await buildReport(
      {
        name: spec.name,
        specFile: opts.specFile,
        seeds,
        horizon: spec.horizon,
        environments: spec.environments.map((e) => ({
          name: e.name,
          kind: e.kind,
          params: e.params ?? {},
        })),
      },
      summaries,
      comparisons,
    );
    files.report = join(opts.outDir, 'report.html');
    writeFileSync(files.report, html);
  }
  return { cells: results, summaries, comparisons, files, poolSize };
}

function pairwiseCsv(comparisons: Comparison[]): string {
  return toCsv(
    [
      'env',
      'policy_a',
      'policy_b',
      'seeds',
      'mean_regret_diff_a_minus_b',
      'ci95_lo',
      'ci95_hi',
      't',
      'p',
      'p_holm',
      'a_lower_in',
      'b_lower_in',
      'identical_replays',
      'better',
    ],
    comparisons.map((c) => [
      c.env,
      c.a,
      c.b,
      c.seeds.length,
      c.test.mean,
      c.test.lo,
      c.test.hi,
      c.test.t,
      c.test.p,
      c.pHolm,
      c.test.less,
      c.test.greater,
      c.deterministic,
      c.better ?? '',
    ]),
  );
}
