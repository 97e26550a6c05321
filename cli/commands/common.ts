/**
 * What the experiment commands share: output sinks, exit codes and argument parsers. It
 * imports nothing heavy, so that registering the commands (cli/experiments.ts) costs
 * nothing; each command's implementation is loaded only when it runs.
 */
import { InvalidArgumentError } from 'commander';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const stdio: Io = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
};

export const EXPERIMENT_EXIT = { ok: 0, failure: 1, usage: 2 } as const;
export const REPLAY_EXIT = { ok: 0, failure: 1, usage: 2 } as const;
export const EVALUATE_EXIT = { ok: 0, promote: 0, keep: 1, usage: 2, refused: 3 } as const;

export const EXPERIMENT_EXIT_HELP = `
Exit codes:
  0  ok: every run finished, results written
  1  a run failed, or the results could not be written
  2  usage error or bad spec (the message names the field)`;

export const REPLAY_EXIT_HELP = `
Exit codes:
  0  ok
  1  runtime failure
  2  usage error or bad input: problem folder, policy spec, an --actions file that cannot be written`;

export const EVALUATE_EXIT_HELP = `
Exit codes:
  0  evaluated; with --against or --current-checkpoint: PROMOTE (the candidate is better with 95% confidence)
  1  keep the current policy (no evidence at 95% that the candidate is better)
  2  usage error, bad log, policy or checkpoint, or a failure while replaying (a broken gate never promotes)
  3  refused: the log does not support the comparison (deterministic logging, too small an
     effective sample size, or choices the log never tried); nothing can be promoted on it`;

export function parseSeed(value: string): number {
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`must be an integer >= 0, got "${value}"`);
  }
  return Number(value);
}

export function parseJobs(value: string): number {
  const n = parseSeed(value);
  if (n < 1) throw new InvalidArgumentError(`must be an integer >= 1, got "${value}"`);
  return n;
}

export function parseNonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`must be a number >= 0, got "${value}"`);
  }
  return n;
}

export function parseShare(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) {
    throw new InvalidArgumentError(`must be a share in [0, 1], e.g. 0.95, got "${value}"`);
  }
  return n;
}

/** "LO,HI" -> [LO, HI] with LO < HI. */
export function parseRange(value: string): [number, number] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (
    parts.length !== 2 ||
    value.split(',').some((s) => s.trim() === '') ||
    !parts.every(Number.isFinite) ||
    !(parts[0] < parts[1])
  ) {
    throw new InvalidArgumentError(`must be LO,HI with LO < HI, e.g. 0,1 or -5,5, got "${value}"`);
  }
  return [parts[0], parts[1]];
}
