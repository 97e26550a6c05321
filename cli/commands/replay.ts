/** `mlproxy replay`: one policy over one replayable problem folder. */
import fs from 'node:fs';
import nodePath from 'node:path';
import { replayProblem } from '../../experiments/replay.js';
import { REPLAY_EXIT, stdio } from './common.js';
import type { Io } from './common.js';

export interface ReplayOptions {
  policy: string;
  seed?: number;
  json?: boolean;
  actions?: string;
}

/**
 * Why `file` cannot be written, or undefined when it can (checked before any work, so a
 * bad path fails in a second rather than after the whole replay).
 */
export function unwritableReason(file: string): string | undefined {
  const dir = nodePath.dirname(nodePath.resolve(file));
  try {
    if (fs.statSync(file).isDirectory()) return 'it is a directory';
    fs.accessSync(file, fs.constants.W_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return `it cannot be written (${code ?? (e as Error).message})`;
  }
  try {
    if (!fs.statSync(dir).isDirectory()) return `${dir} is not a directory`;
    fs.accessSync(dir, fs.constants.W_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? `its directory ${dir} does not exist; create it first`
      : `its directory ${dir} cannot be written (${code ?? (e as Error).message})`;
  }
}

export function replayCommand(dir: string, opts: ReplayOptions, io: Io = stdio): number {
  if (opts.actions !== undefined) {
    const why = unwritableReason(opts.actions);
    if (why) {
      io.err(`mlproxy replay: --actions ${opts.actions}: ${why}`);
      return REPLAY_EXIT.usage;
    }
  }
  let r;
  try {
    r = replayProblem(dir, opts.policy, opts.seed ?? 0);
  } catch (e) {
    io.err(`mlproxy replay: ${(e as Error).message}`);
    return REPLAY_EXIT.usage;
  }
  if (opts.actions) {
    try {
      fs.writeFileSync(opts.actions, JSON.stringify(r.actions) + '\n');
    } catch (e) {
      io.err(`mlproxy replay: cannot write --actions ${opts.actions}: ${(e as Error).message}`);
      return REPLAY_EXIT.failure;
    }
  }
  const { policy, rounds, cumRegret, decisionsPerSec } = r;
  if (opts.json) io.out(JSON.stringify({ policy, rounds, cumRegret, decisionsPerSec }));
  else {
    io.out(
      `${policy}: ${rounds} rounds, cumulative regret ${cumRegret.toFixed(3)}, ` +
        `${Math.round(decisionsPerSec).toLocaleString('en-US')} decisions/s (the whole replay loop, loading excluded)`,
    );
  }
  return REPLAY_EXIT.ok;
}
