/**
 * Writing the daemon's files so that nothing is lost silently: every byte or an error,
 * and every error names the file and the fix.
 *
 * write(2) may write fewer bytes than asked (a nearly full disk accepts part of a buffer
 * and fails the rest); writeAll() loops until the buffer is written or the kernel reports
 * the error. The file operations go through a FileIo so that tests can inject short
 * writes and ENOSPC deterministically.
 */
import fs from 'node:fs';
import nodePath from 'node:path';

/** The few file operations the writers use; tests inject faults through this. */
export interface FileIo {
  /** As fs.writeSync(fd, buffer, offset, length, position): bytes written. */
  writeSync(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
  ): number;
  fsyncSync(fd: number): void;
}

export const nodeIo: FileIo = {
  writeSync: (fd, buffer, offset, length, position) =>
    fs.writeSync(fd, buffer, offset, length, position),
  fsyncSync: (fd) => fs.fsyncSync(fd),
};

/** A failed write, read or rename of one of the daemon's files: names it and the fix. */
export class StorageError extends Error {
  override name = 'StorageError';
  constructor(
    message: string,
    readonly path: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const FIX: Record<string, (dir: string) => string> = {
  ENOSPC: (dir) =>
    `the filesystem of ${dir} is full: free space there (df -h ${dir}), or point the daemon's stateDir/logDir at a filesystem with room`,
  EDQUOT: (dir) =>
    `the disk quota of the daemon's user is used up on ${dir}: raise it or free space there`,
  EROFS: (dir) =>
    `${dir} is on a read-only filesystem: remount it read-write or point stateDir/logDir elsewhere`,
  EACCES: (dir) =>
    `the daemon's user may not write ${dir}: give it write access (chown/chmod) or use another directory`,
  EPERM: (dir) =>
    `the daemon's user may not write ${dir}: give it write access (chown/chmod) or use another directory`,
  EIO: () => 'the disk reported an I/O error: check the kernel log (dmesg) and the disk',
  ENOENT: (dir) => `${dir} or a file in it vanished while the daemon used it: recreate it`,
  ESHORT: (dir) =>
    `a write to ${dir} was cut short: the filesystem is probably full (df -h ${dir})`,
};

/** Wraps an fs error (or a short write) as a StorageError naming `what` and `file`. */
export function storageError(what: string, file: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? 'EUNKNOWN';
  const dir = nodePath.dirname(file);
  const fix = FIX[code]?.(dir) ?? 'check the file and its directory';
  // "ENOSPC: no space left on device, write '/x'": the file is named once, in front.
  const detail =
    e.message?.replace(/, (open|write|rename|fsync|ftruncate|close|mkdir|link)( '[^']*')?$/, '') ??
    code;
  return new StorageError(`cannot write the ${what} ${file}: ${detail}; ${fix}`, file, code);
}

/**
 * Writes all of `data` to fd (at `position`, or at the file offset / the end of an
 * O_APPEND file when null), looping over short writes. A write that makes no progress
 * is an error; so is any error of the kernel.
 */
export function writeAll(
  io: FileIo,
  fd: number,
  data: Uint8Array,
  position: number | null = null,
): void {
  let done = 0;
  while (done < data.length) {
    const n = io.writeSync(
      fd,
      data,
      done,
      data.length - done,
      position === null ? null : position + done,
    );
    if (!(n > 0)) {
      const err = new Error(
        `short write: ${done} of ${data.length} bytes written, then the write made no progress`,
      ) as NodeJS.ErrnoException;
      err.code = 'ESHORT';
      throw err;
    }
    done += n;
  }
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The temp file writeFileAtomic uses for `file` in this process. */
export function tempFileFor(file: string, pid = process.pid): string {
  return nodePath.join(nodePath.dirname(file), `.${nodePath.basename(file)}.tmp-${pid}`);
}

const TEMP = /^\..+\.tmp-(\d+)$/;

/** True when a process with this pid exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files in `dir` left by writeFileAtomic in processes that no longer
 * exist (a crash between open and rename). A live process's temp file is never touched,
 * so a reader of the directory cannot break a running writer. Returns what it removed.
 */
export function removeDeadTemps(dir: string): string[] {
  const removed: string[] = [];
  for (const n of fs.readdirSync(dir)) {
    const m = TEMP.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    fs.rmSync(nodePath.join(dir, n), { force: true });
    removed.push(n);
  }
  return removed;
}

export interface AtomicWriteOptions {
  /** fsync the file and its directory (default true); false: atomic for readers only. */
  durable?: boolean;
  io?: FileIo;
  /** What the file is, for error messages ("checkpoint", "status file"). */
  what?: string;
}

/**
 * Writes `data` to `file` atomically: this process's temp file in the same directory,
 * write every byte, fsync, check the size, rename, fsync the directory. Readers see the
 * old or the new content, never a mix. On any failure the temp file is removed, `file`
 * keeps its old content, and a StorageError names the file and the fix.
 */
export function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): void {
  const durable = options.durable ?? true;
  const io = options.io ?? nodeIo;
  const what = options.what ?? 'file';
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const dir = nodePath.dirname(file);
  const tmp = tempFileFor(file);
  try {
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      writeAll(io, fd, buf, 0);
      if (durable) io.fsyncSync(fd);
      const size = fs.fstatSync(fd).size;
      if (size !== buf.length) {
        const err = new Error(
          `the temp file holds ${size} of ${buf.length} bytes after writing`,
        ) as NodeJS.ErrnoException;
        err.code = 'ESHORT';
        throw err;
      }
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // our own temp file; the next start of a daemon removes it (removeDeadTemps)
    }
    throw storageError(what, file, err);
  }
  if (durable) {
    try {
      syncDir(dir);
    } catch (err) {
      throw storageError(what, file, err);
    }
  }
}
