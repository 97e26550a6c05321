/**
 * The `experiment`, `replay` and `evaluate` subcommands of mlproxy. cli/main.ts calls
 * registerExperimentCommands(program). Registering loads nothing heavy: each command's
 * implementation (cli/commands/*.ts) is imported when it runs, so `replay` never
 * loads vega, the worker pool or the decision-log schema. Each command's work is a
 * function that takes its arguments and an output sink and returns the exit code, so tests
 * call them directly. Every command lists its own exit codes in its --help.
 */
import type { Command } from 'commander';
import {
  EVALUATE_EXIT_HELP,
  EXPERIMENT_EXIT_HELP,
  REPLAY_EXIT_HELP,
  parseJobs,
  parseNonNegative,
  parseRange,
  parseSeed,
  parseShare,
} from './commands/common.js';
import type { EvaluateCliOptions } from './commands/evaluate.js';
import { DEFAULT_REWARD_RANGE, GATE_DEFAULTS } from '../src/ope/defaults.js';
import type { ExperimentCliOptions } from './commands/experiment.js';
import type { ReplayOptions } from './commands/replay.js';

export type { Io } from './commands/common.js';

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
    .addHelpText('after', EXPERIMENT_EXIT_HELP)
    .action(async (spec: string, opts: ExperimentCliOptions) => {
      const { experimentCommand } = await import('./commands/experiment.js');
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
    .option('--actions <file>', 'write the chosen arms as a JSON array (checked before the run)')
    .addHelpText('after', REPLAY_EXIT_HELP)
    .action(async (dir: string, opts: ReplayOptions) => {
      const { replayCommand } = await import('./commands/replay.js');
      process.exitCode = replayCommand(dir, opts);
    });
  program
    .command('evaluate')
    .description(
      'off-policy evaluation of a policy on a decision log (IPS, SNIPS, DR); with --against or --current-checkpoint, the promotion gate',
    )
    .argument('<log>', 'decision log file (JSON Lines; rotated parts are read too)')
    .requiredOption('-p, --policy <spec>', 'candidate policy spec')
    .option(
      '--against <spec>',
      'current policy, trained on the log like the candidate: promote only if the candidate is better with 95% confidence',
    )
    .option(
      '--current-checkpoint <file>',
      "current policy = the deployed one, restored from a daemon checkpoint (state dir's checkpoint-*.json); evaluated on the decisions logged after it",
    )
    .option(
      '--subsystem <name>',
      'evaluate this subsystem of a daemon log (required when the log holds several)',
    )
    .option('--seed <n>', "seed of the policies' random draws", parseSeed, 0)
    .option(
      '--no-learn',
      'evaluate the policies as fixed snapshots (no updates from the log; a spec is then untrained)',
    )
    .option(
      '--min-ess <n>',
      `gate: refuse when a policy's effective sample size is below n (default ${GATE_DEFAULTS.minEss})`,
      parseNonNegative,
    )
    .option(
      '--min-support <share>',
      `gate: refuse when a smaller share of a policy's choices had a positive logging probability (default ${GATE_DEFAULTS.minSupport})`,
      parseShare,
    )
    .option(
      '--reward-range <lo,hi>',
      `bounds of the logged rewards (default ${DEFAULT_REWARD_RANGE.join(',')}, the daemon's); a reward outside is an error`,
      parseRange,
    )
    .option('--skip-bad-lines', 'skip corrupt lines in the middle of the log with a warning')
    .option('--json', 'print one JSON object')
    .addHelpText('after', EVALUATE_EXIT_HELP)
    .action(async (log: string, opts: EvaluateCliOptions) => {
      const { evaluateCommand } = await import('./commands/evaluate.js');
      process.exitCode = evaluateCommand(log, opts);
    });
}
