/**
 * One daemon per directory: an exclusive lock that the kernel releases when its holder
 * dies, however it dies (kill -9 included), so there is never a stale lock to clean up.
 *
 * Node has no flock(2), so the lock is a Linux abstract unix socket: bind() of an
 * abstract name is atomic and exclusive, and the name disappears with the last process
 * that holds the socket. The name is derived from the directory's device and inode and
 * a random token kept in `<dir>/.lock` (created once, mode 0600), so only a process that
 * can read the directory can know the name (nobody else can squat it), and two paths to
 * the same directory (a symlink, a bind mount) meet on the same lock. The holder answers
 * a connection with its pid, which is how a second daemon names it. Limit: abstract
 * names live in a network namespace, so two daemons in different network namespaces on
 * one shared directory do not see each other.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import nodePath from 'node:path';
import { storageError, tempFileFor } from './io.js';

export const LOCK_FILE_NAME = '.lock';

/** The directory is locked by another process (or another daemon in this one). */
export class DirLockedError extends Error {
  override name = 'DirLockedError';
  constructor(
    readonly dir: string,
    readonly what: string,
    /** The holder's pid, when it answered. */
    readonly holderPid: number | null,
  ) {
    super(
      `the ${what} ${dir} is in use by another mlproxy daemon (${holderPid === null ? 'it did not say its pid' : `pid ${holderPid}`}); ` +
        `one daemon per directory: stop that one first, or give this one its own --state-dir (and --log-dir)`,
    );
  }
}

export interface DirLock {
  readonly dir: string;
  release(): Promise<void>;
}

/** The lock token of `dir`, created once (atomically: a complete file or none). */
function lockToken(dir: string): string {
  const file = nodePath.join(dir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const text = fs.readFileSync(file, 'utf8').trim();
      if (/^[0-9a-f]{32}$/.test(text)) return text;
      // A damaged token file (not written by us): replace it.
      fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw storageError('lock file', file, err);
    }
    const tmp = tempFileFor(file);
    try {
      fs.writeFileSync(tmp, randomBytes(16).toString('hex') + '\n', { mode: 0o600 });
      fs.linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw storageError('lock file', file, err);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  throw new Error(`cannot create the lock file ${file}: it keeps changing under this process`);
}

/** The abstract socket name of the lock of `dir` with this token. */
function lockName(dir: string, token: string): string {
  const st = fs.statSync(dir);
  return `\0mlproxy-lock:${st.dev}:${st.ino}:${token}`;
}

function listen(server: net.Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Asks the holder of the lock named `name` for its pid: null when nobody holds it,
 * {pid: null} when the holder did not answer within timeoutMs.
 */
function askHolder(name: string, timeoutMs: number): Promise<{ pid: number | null } | null> {
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const done = (v: { pid: number | null } | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const sock = net.connect({ path: name });
    const timer = setTimeout(() => done({ pid: null }), timeoutMs);
    sock.on('data', (b: Buffer) => {
      text += b.toString();
    });
    sock.on('end', () => {
      try {
        const pid = (JSON.parse(text) as { pid?: unknown }).pid;
        done({ pid: Number.isInteger(pid) ? (pid as number) : null });
      } catch {
        done({ pid: null });
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? null : { pid: null });
    });
  });
}

/**
 * Takes the lock of `dir` (which must exist) or throws DirLockedError naming the
 * holder's pid. `what` names the directory in messages ("state directory").
 */
export async function lockDirectory(dir: string, what: string): Promise<DirLock> {
  const name = lockName(dir, lockToken(dir));
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.end(JSON.stringify({ pid: process.pid }) + '\n');
  });
  // The lock must never keep a finished process alive.
  server.unref();
  try {
    await listen(server, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const holder = await askHolder(name, 3000);
    throw new DirLockedError(dir, what, holder?.pid ?? null);
  }
  let released = false;
  return {
    dir,
    release: () =>
      new Promise<void>((resolve) => {
        if (released) return resolve();
        released = true;
        server.close(() => resolve());
      }),
  };
}

/**
 * Who holds the lock of `dir`: {pid} of a live daemon, {pid: null} when it holds the
 * lock but did not answer, or null when no daemon holds it (also when dir or its lock
 * file does not exist, or cannot be read).
 */
export async function lockHolder(
  dir: string,
  timeoutMs = 3000,
): Promise<{ pid: number | null } | null> {
  let name: string;
  try {
    name = lockName(dir, fs.readFileSync(nodePath.join(dir, LOCK_FILE_NAME), 'utf8').trim());
  } catch {
    return null;
  }
  return askHolder(name, timeoutMs);
}
