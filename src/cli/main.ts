#!/usr/bin/env node
/**
 * The `mlproxy` command (package.json "bin"): run, status, and the experiment commands
 * when experiments/cli.js is present. Usage errors exit 2 (see exit-codes.ts).
 */
import { Command, CommanderError } from 'commander';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { registerRunCommand } from './run.js';
import { registerStatusCommand } from './status.js';
import { packageVersion } from './version.js';

/**
 * The experiment commands (experiment, replay, evaluate; experiments/cli.ts), loaded only
 * when the command line may need them, so that `run` and `status` start fast.
 */
async function registerExperimentCommandsLazily(program: Command, argv: string[]): Promise<void> {
  const sub = argv[2];
  if (sub === 'run' || sub === 'status') return;
  const { registerExperimentCommands } = await import('../../experiments/cli.js');
  registerExperimentCommands(program);
  // The fleet's trainer and operator commands (docs/fleet.md).
  const { registerFleetCommands } = await import('./fleet.js');
  registerFleetCommands(program);
}

export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command()
    .name('mlproxy')
    .description(
      'User-space learning advisor for the in-kernel ML proxy (/dev/mlproxy): learns which knob values to recommend; the kernel stays in control.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride();
  registerRunCommand(program);
  registerStatusCommand(program);
  await registerExperimentCommandsLazily(program, argv);
  for (const cmd of program.commands) cmd.addHelpText('after', EXIT_CODES_HELP);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    process.stderr.write(`mlproxy: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = EXIT.failure;
  }
}

await main(process.argv);
// Timers of a stopped daemon or device must not hold the process open.
process.exit(process.exitCode ?? 0);
