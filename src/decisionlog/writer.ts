/**
 * Append-only JSON Lines writer of the decision log, rotated by size.
 *
 * Each record is one whole line written to an O_APPEND descriptor, every byte or an
 * error (short writes are continued), so a crash can tear at most the last line. A
 * failed append (ENOSPC, EIO) cuts the file back to where the line began, so no torn
 * line is ever left mid-file, and throws a StorageError naming the file and the fix;
 * the writer then refuses further appends. On open, a torn tail left by an earlier crash
 * is cut back to the last newline (with a warning).
 * Rotation: decisions.jsonl -> decisions.jsonl.1 -> ... -> decisions.jsonl.<keep>.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { nodeIo, storageError, writeAll } from '../storage/io.js';
import type { FileIo, StorageError } from '../storage/io.js';
import type { LogRecord } from './record.js';

export interface DecisionLogWriterOptions {
  /** Rotate before a line would make the file larger than this; default 64 MiB. */
  maxBytes?: number;
  /** Rotated files to keep (decisions.jsonl.1 .. .N); default 5. */
  keep?: number;
  onWarning?: (message: string) => void;
  /** File operations (tests inject short writes and ENOSPC here). */
  io?: FileIo;
}

export const DEFAULT_LOG_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_LOG_KEEP = 5;

/** The files of a rotated log, oldest first, that exist now. */
export function rotatedLogFiles(logPath: string): string[] {
  const dir = nodePath.dirname(logPath);
  const base = nodePath.basename(logPath);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const numbered = names
    .map((n) => (n.startsWith(base + '.') ? Number(n.slice(base.length + 1)) : NaN))
    .filter((i) => Number.isInteger(i) && i > 0)
    .sort((a, b) => b - a)
    .map((i) => `${logPath}.${i}`);
  return names.includes(base) ? [...numbered, logPath] : numbered;
}

export class DecisionLogWriter {
  private fd: number;
  private size: number;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly io: FileIo;
  /** Set by a failed append: the writer takes no more lines. */
  private failed: StorageError | null = null;

  constructor(
    readonly path: string,
    options: DecisionLogWriterOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
    this.keep = options.keep ?? DEFAULT_LOG_KEEP;
    this.io = options.io ?? nodeIo;
    if (!(this.maxBytes > 0)) throw new RangeError(`decision log maxBytes must be > 0`);
    if (!Number.isInteger(this.keep) || this.keep < 0) {
      throw new RangeError(`decision log keep must be an integer >= 0`);
    }
    fs.mkdirSync(nodePath.dirname(this.path), { recursive: true });
    // a+: O_APPEND | O_CREAT, readable so that a torn tail can be found.
    this.fd = fs.openSync(this.path, 'a+');
    this.size = cutTornTail(this.fd, this.path, options.onWarning);
  }

  /**
   * Appends one record as one line: every byte, or the file is cut back to where the
   * line began and a StorageError is thrown (and every later append throws it too).
   */
  append(record: LogRecord): void {
    if (this.failed) throw this.failed;
    const line = Buffer.from(JSON.stringify(record) + '\n');
    try {
      if (this.size > 0 && this.size + line.length > this.maxBytes) this.rotate();
      writeAll(this.io, this.fd, line);
      this.size += line.length;
    } catch (err) {
      this.failed = storageError('decision log', this.path, err);
      this.cutBack();
      throw this.failed;
    }
  }

  /** The error that stopped this writer, if any. */
  get failure(): StorageError | null {
    return this.failed;
  }

  /** After a failed append: no partial line may stay in the file. */
  private cutBack(): void {
    if (this.fd < 0) return;
    try {
      // Truncating frees blocks, so it works on a full disk too.
      fs.ftruncateSync(this.fd, this.size);
    } catch (err) {
      this.failed = storageError(
        'decision log',
        this.path,
        Object.assign(new Error(`${(err as Error).message}; a torn last line may remain`), {
          code: (err as NodeJS.ErrnoException).code,
        }),
      );
    }
  }

  /** Flushes the file to disk (used before checkpoints and on exit). */
  sync(): void {
    if (this.fd < 0) return;
    try {
      this.io.fsyncSync(this.fd);
    } catch (err) {
      throw storageError('decision log', this.path, err);
    }
  }

  close(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    this.fd = -1;
    if (this.keep === 0) {
      fs.rmSync(this.path, { force: true });
    } else {
      fs.rmSync(`${this.path}.${this.keep}`, { force: true });
      for (let i = this.keep - 1; i >= 1; i--) {
        const from = `${this.path}.${i}`;
        if (fs.existsSync(from)) fs.renameSync(from, `${this.path}.${i + 1}`);
      }
      fs.renameSync(this.path, `${this.path}.1`);
    }
    this.fd = fs.openSync(this.path, 'a');
    this.size = 0;
  }
}

/** Truncates a partial last line (no trailing newline); returns the resulting size. */
function cutTornTail(fd: number, file: string, onWarning?: (m: string) => void): number {
  const size = fs.fstatSync(fd).size;
  if (size === 0) return 0;
  const chunk = Buffer.alloc(Math.min(size, 1 << 16));
  let end = size;
  // Scan backwards for the last newline.
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const n = fs.readSync(fd, chunk, 0, end - start, start);
    if (end === size && chunk[n - 1] === 0x0a) return size;
    const nl = chunk.subarray(0, n).lastIndexOf(0x0a);
    if (nl >= 0) {
      end = start + nl + 1;
      break;
    }
    end = start;
  }
  fs.ftruncateSync(fd, end);
  onWarning?.(
    `${file}: removed a torn last line (${size - end} bytes without a newline) left by an earlier crash`,
  );
  return end;
}
