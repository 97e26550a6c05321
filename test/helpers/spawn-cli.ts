/** Runs the built `mlproxy` binary (dist/cli/main.js) as a child process. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cli/main.js');
export const REPO = path.resolve(path.dirname(MAIN), '../..');

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the output matches, rejects when the process exits first. */
  waitFor: (re: RegExp) => Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    waiters.forEach((w) => w());
  });
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    waiters.forEach((w) => w());
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (re.test(out) || re.test(err)) {
          resolve();
          return true;
        }
        return false;
      };
      if (check()) return;
      waiters.push(check);
      void exit.then(() => {
        if (!check()) reject(new Error(`exited before ${re}:\n${out}\n${err}`));
      });
    });
  return { child, stdout: () => out, stderr: () => err, waitFor, exit };
}

export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = startCli(args, env);
  const { code } = await r.exit;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}
