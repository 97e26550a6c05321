#!/usr/bin/env node
/**
 * The `mlproxy` command (package.json "bin"): run, status, and the experiment commands
 * when cli/experiments.js is present. Usage errors exit 2 (see exit-codes.ts).
 */
import { Command, CommanderError } from 'commander';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { packageVersion } from './version.js';

const DAEMON_COMMANDS = new Set(['run', 'status']);
const EXPERIMENT_COMMANDS = new Set(['experiment', 'replay', 'evaluate']);
const FLEET_COMMANDS = new Set(['train', 'fleet']);
const GROUPS = [DAEMON_COMMANDS, EXPERIMENT_COMMANDS, FLEET_COMMANDS];

/**
 * The daemon commands (run, status: the daemon, pino, prom-client, the config schema), the
 * experiment commands (experiment, replay, evaluate; cli/experiments.ts) and the fleet's
 * (train, fleet) are each loaded only when the command line may need them, so that `run`
 * and `status` start without the experiment code and `replay` without the daemon's.
 */
async function registerCommandsLazily(program: Command, argv: string[]): Promise<void> {
  const sub = argv[2];
  const other = (group: Set<string>): boolean => GROUPS.some((g) => g !== group && g.has(sub));
  if (!other(DAEMON_COMMANDS)) {
    const [{ registerRunCommand }, { registerStatusCommand }] = await Promise.all([
      import('./run.js'),
      import('./status.js'),
    ]);
    registerRunCommand(program);
    registerStatusCommand(program);
    // run and status share the daemon's exit codes; the other commands list their own.
    for (const cmd of program.commands) cmd.addHelpText('after', EXIT_CODES_HELP);
  }
  if (!other(EXPERIMENT_COMMANDS)) {
    const { registerExperimentCommands } = await import('./experiments.js');
    registerExperimentCommands(program);
  }
  if (!other(FLEET_COMMANDS)) {
    // The fleet's trainer and operator commands (docs/fleet.md).
    const { registerFleetCommands } = await import('./fleet.js');
    registerFleetCommands(program);
  }
}

export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command()
    .name('mlproxy')
    .description(
      'User-space learning advisor for the in-kernel ML proxy (/dev/mlproxy): learns which knob values to recommend; the kernel stays in control.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `${EXIT_CODES_HELP}\n  (those of run and status; experiment, replay and evaluate list theirs in their --help)`,
    )
    .exitOverride();
  await registerCommandsLazily(program, argv);
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
