/** `mlproxy experiment`: policies x environments x seeds from a spec file. */
import { join } from 'node:path';
import { runExperiment } from '../../experiments/experiment.js';
import { comparisonTable } from '../../experiments/compare.js';
import { summaryTable } from '../../experiments/results.js';
import { loadSpec } from '../../experiments/spec.js';
import { EXPERIMENT_EXIT, stdio } from './common.js';
import type { Io } from './common.js';

export interface ExperimentCliOptions {
  out?: string;
  jobs?: number;
  quiet?: boolean;
  report?: boolean;
}

export async function experimentCommand(
  specFile: string,
  opts: ExperimentCliOptions,
  io: Io = stdio,
): Promise<number> {
  let spec;
  try {
    spec = loadSpec(specFile);
  } catch (e) {
    io.err(`mlproxy experiment: ${(e as Error).message}`);
    return EXPERIMENT_EXIT.usage;
  }
  const outDir = opts.out ?? join('results', spec.name);
  try {
    const res = await runExperiment(spec, {
      outDir,
      jobs: opts.jobs,
      quiet: opts.quiet,
      specFile,
      noReport: opts.report === false,
    });
    io.out(summaryTable(res.summaries));
    io.out('');
    io.out(
      `${res.cells.length} runs on ${res.poolSize} worker(s); final regret ± 95% CI across seeds (mean ± 1.96 SE); decisions/s vary with the machine's load`,
    );
    const table = comparisonTable(res.comparisons);
    if (table) {
      io.out('');
      io.out(
        'Pairwise comparison (paired t-test of final regret across seeds, Holm-corrected per environment):',
      );
      io.out(table);
    }
    io.out('');
    for (const [what, path] of Object.entries(res.files)) io.out(`${what.padEnd(9)} ${path}`);
    return EXPERIMENT_EXIT.ok;
  } catch (e) {
    io.err(`mlproxy experiment: ${(e as Error).message}`);
    return EXPERIMENT_EXIT.failure;
  }
}
