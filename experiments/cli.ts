/**
 * The `experiment`, `replay` and `evaluate` subcommands of mlproxy. src/cli/main.ts calls
 * registerExperimentCommands(program). Each command's work is a function that takes
 * its arguments and an output sink and returns the exit code, so tests call them
 * directly.
 *
 * Exit codes: 0 ok (for `evaluate --against`: promote), 1 do not promote (only
 * `evaluate --against`) or runtime failure, 2 usage error or bad input (spec, log,
 * policy, problem folder).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { runExperiment } from './experiment.js';
import { loadOpeData } from './ope/data.js';
import type { Estimate } from './ope/estimators.js';
import { evaluateCandidate, promotionGate } from './ope/evaluate.js';
import type { Evaluation } from './ope/evaluate.js';
import { replayProblem } from './replay.js';
import { summaryTable } from './results.js';
import { loadSpec } from './spec.js';

export const EXPERIMENT_EXIT = { ok: 0, promote: 0, noPromote: 1, failure: 1, usage: 2 } as const;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const stdio: Io = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
};

function parseSeed(value: string): number {
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`must be an integer >= 0, got "${value}"`);
  }
  return Number(value);
}

function parseJobs(value: string): number {
  const n = parseSeed(value);
  if (n < 1) throw new InvalidArgumentError(`must be an integer >= 1, got "${value}"`);
  return n;
}

export interface ReplayOptions {
  policy: string;
  seed?: number;
  json?: boolean;
  actions?: string;
}

export function replayCommand(dir: string, opts: ReplayOptions, io: Io = stdio): number {
  let r;
  try {
    r = replayProblem(dir, opts.policy, opts.seed ?? 0);
  } catch (e) {
    io.err(`mlproxy replay: ${(e as Error).message}`);
    return EXPERIMENT_EXIT.usage;
  }
  if (opts.actions) writeFileSync(opts.actions, JSON.stringify(r.actions) + '\n');
  const { policy, rounds, cumRegret, decisionsPerSec } = r;
  if (opts.json) io.out(JSON.stringify({ policy, rounds, cumRegret, decisionsPerSec }));
  else {
    io.out(
      `${policy}: ${rounds} rounds, cumulative regret ${cumRegret.toFixed(3)}, ` +
        `${Math.round(decisionsPerSec).toLocaleString('en-US')} decisions/s (select + update only)`,
    );
  }
  return EXPERIMENT_EXIT.ok;
}

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
      `${res.cells.length} runs on ${res.poolSize} worker(s); final regret ± 95% CI across seeds (mean ± 1.96 SE)`,
    );
    for (const [what, path] of Object.entries(res.files)) io.out(`${what.padEnd(9)} ${path}`);
    return EXPERIMENT_EXIT.ok;
  } catch (e) {
    io.err(`mlproxy experiment: ${(e as Error).message}`);
    return EXPERIMENT_EXIT.failure;
  }
}

export interface EvaluateCliOptions {
  policy: string;
  against?: string;
  seed?: number;
  json?: boolean;
  /** Commander's --no-learn sets learn = false. */
  learn?: boolean;
}

const fmt = (e: Estimate) =>
  `${e.value.toFixed(4)}  95% CI [${e.lo.toFixed(4)}, ${e.hi.toFixed(4)}]`;
const plain = (e: Estimate) => ({ value: e.value, lo: e.lo, hi: e.hi, se: e.se });
const evaluationJson = (ev: Evaluation) => ({
  policy: ev.policy,
  matchRate: ev.matchRate,
  ips: plain(ev.ips),
  snips: plain(ev.snips),
  dr: plain(ev.dr),
});

function describe(ev: Evaluation): string[] {
  return [
    `${ev.policy} (chose the logged arm in ${(100 * ev.matchRate).toFixed(1)}% of decisions)`,
    `  IPS    ${fmt(ev.ips)}`,
    `  SNIPS  ${fmt(ev.snips)}`,
    `  DR     ${fmt(ev.dr)}`,
  ];
}

export function evaluateCommand(logPath: string, opts: EvaluateCliOptions, io: Io = stdio): number {
  const warnings: string[] = [];
  let data;
  try {
    data = loadOpeData(logPath, (w) => warnings.push(w));
  } catch (e) {
    io.err(`mlproxy evaluate: ${(e as Error).message}`);
    return EXPERIMENT_EXIT.usage;
  }
  for (const w of warnings) io.err(`warning: ${w}`);
  const evalOpts = { seed: opts.seed ?? 0, learn: opts.learn ?? true };
  const head = {
    log: logPath,
    n: data.decisions.length,
    k: data.k,
    d: data.d,
    learn: evalOpts.learn,
  };
  try {
    if (!opts.against) {
      const ev = evaluateCandidate(data, opts.policy, evalOpts);
      if (opts.json)
        io.out(
          JSON.stringify({ ...head, logged: plain(ev.logged), candidate: evaluationJson(ev) }),
        );
      else {
        io.out(
          `${logPath}: ${head.n} decisions, k = ${head.k}, d = ${head.d}; logged mean reward ${fmt(ev.logged)}`,
        );
        for (const line of describe(ev)) io.out(line);
      }
      return EXPERIMENT_EXIT.ok;
    }
    const g = promotionGate(data, opts.policy, opts.against, evalOpts);
    const verdict = g.promote ? 'promote' : 'keep current';
    if (opts.json) {
      io.out(
        JSON.stringify({
          ...head,
          logged: plain(g.candidate.logged),
          candidate: evaluationJson(g.candidate),
          current: evaluationJson(g.current),
          difference: plain(g.difference),
          promote: g.promote,
          verdict,
        }),
      );
    } else {
      io.out(`${logPath}: ${head.n} decisions, k = ${head.k}, d = ${head.d}`);
      io.out('candidate: ' + describe(g.candidate).join('\n'));
      io.out('current:   ' + describe(g.current).join('\n'));
      io.out(`DR difference (candidate − current, paired): ${fmt(g.difference)}`);
      io.out(
        g.promote
          ? `verdict: PROMOTE — the candidate beats the current policy with 95% confidence (lower bound ${g.difference.lo.toFixed(4)} > 0)`
          : `verdict: KEEP CURRENT — no evidence at 95% that the candidate is better (lower bound ${g.difference.lo.toFixed(4)} <= 0)`,
      );
    }
    return g.promote ? EXPERIMENT_EXIT.promote : EXPERIMENT_EXIT.noPromote;
  } catch (e) {
    io.err(`mlproxy evaluate: ${(e as Error).message}`);
    return EXPERIMENT_EXIT.usage;
  }
}

export function registerExperimentCommands(program: Command): void {
  program
    .command('experiment')
    .description(
      'run policies × environments × seeds from a spec file; write JSON, CSV and an HTML report',
    )
    .argument('<spec>', 'experiment spec (.yaml, .yml or .json); examples in experiments/specs/')
    .option('-o, --out <dir>', 'output directory (default results/<spec name>)')
    .option(
      '-j, --jobs <n>',
      'worker threads (default: spec jobs or 2; capped by the CPU count)',
      parseJobs,
    )
    .option('-q, --quiet', 'no progress bar')
    .option('--no-report', 'skip the HTML report')
    .action(async (spec: string, opts: ExperimentCliOptions) => {
      process.exitCode = await experimentCommand(spec, opts);
    });
  program
    .command('replay')
    .description('run one policy over one replayable problem folder (see experiments/problems/)')
    .argument('<dir>', 'problem folder with meta.json')
    .requiredOption(
      '-p, --policy <spec>',
      'policy, e.g. "linucb:alpha=1,lambda=1", "ucb1", "egreedy:epsilon=0.1"',
    )
    .option('--seed <n>', "seed of the policy's random draws", parseSeed, 0)
    .option('--json', 'print one JSON object {policy, rounds, cumRegret, decisionsPerSec}')
    .option('--actions <file>', 'write the chosen arms as a JSON array')
    .action((dir: string, opts: ReplayOptions) => {
      process.exitCode = replayCommand(dir, opts);
    });
  program
    .command('evaluate')
    .description(
      'off-policy evaluation of a policy on a decision log (IPS, SNIPS, DR); with --against, the promotion gate',
    )
    .argument('<log>', 'decision log (JSON Lines; rotated parts are read too)')
    .requiredOption('-p, --policy <spec>', 'candidate policy spec')
    .option(
      '--against <spec>',
      'current policy: promote only if the candidate is better with 95% confidence (exit 0 = promote, 1 = keep)',
    )
    .option('--seed <n>', "seed of the policies' random draws", parseSeed, 0)
    .option('--no-learn', 'evaluate the policies as fixed snapshots (no updates from the log)')
    .option('--json', 'print one JSON object')
    .action((log: string, opts: EvaluateCliOptions) => {
      process.exitCode = evaluateCommand(log, opts);
    });
}
