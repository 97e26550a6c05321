/**
 * Checkpoints: atomic, checksummed, numbered files in the state directory.
 *
 * File checkpoint-<seq, 10 digits>.json holds two lines: a header
 *   {"format":"mlproxy-checkpoint","version":1,"seq":12,"time":"...","bytes":N,"sha256":"..."}
 * and the payload JSON, whose exact bytes the sha256 covers. Writing (writeFileAtomic):
 * this process's temp file in the same directory, every byte written, fsync, size check,
 * rename over the final name, fsync the directory, then the new file is read back and
 * verified. Only after a verified write are old checkpoints pruned to the last `keep`;
 * a failed write prunes nothing and throws a StorageError naming the file and the fix.
 * Loading verifies every checkpoint from the newest back and reports each corrupt one
 * (name and reason); with setAside (the daemon, which holds the directory lock) a corrupt
 * file is renamed checkpoint-<seq>.json.corrupt: kept for a post-mortem, not counted in
 * `keep`, and pruned once `keep` newer checkpoints exist. Constructing a store or loading
 * never removes a file, so a reader cannot break a live daemon's write in flight.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import nodePath from 'node:path';
import { StorageError, writeFileAtomic } from '../storage/io.js';
import type { FileIo } from '../storage/io.js';

export { writeFileAtomic } from '../storage/io.js';

export const CHECKPOINT_FORMAT = 'mlproxy-checkpoint';
export const CHECKPOINT_VERSION = 1;
const NAME = /^checkpoint-(\d{10})\.json$/;
const CORRUPT = /^checkpoint-(\d{10})\.json\.corrupt$/;
export const CORRUPT_SUFFIX = '.corrupt';

export interface LoadedCheckpoint<T> {
  file: string;
  seq: number;
  time: string;
  payload: T;
}

export interface CheckpointStoreOptions {
  /** File operations (tests inject short writes and ENOSPC here). */
  io?: FileIo;
}

export interface LoadOptions {
  /** Rename corrupt checkpoints to *.corrupt (only the directory's lock holder may). */
  setAside?: boolean;
}

function numbered(dir: string, re: RegExp): { file: string; seq: number }[] {
  return fs
    .readdirSync(dir)
    .map((n) => ({ n, m: re.exec(n) }))
    .filter((x) => x.m !== null)
    .map((x) => ({ file: nodePath.join(dir, x.n), seq: Number(x.m![1]) }))
    .sort((a, b) => b.seq - a.seq);
}

export class CheckpointStore {
  private seq: number;
  private readonly io?: FileIo;

  constructor(
    readonly dir: string,
    readonly keep = 3,
    options: CheckpointStoreOptions = {},
  ) {
    if (!Number.isInteger(keep) || keep < 1) {
      throw new RangeError(`checkpoint keep must be an integer >= 1, got ${String(keep)}`);
    }
    this.io = options.io;
    fs.mkdirSync(dir, { recursive: true });
    const seqs = [...this.list(), ...this.listCorrupt()].map((c) => c.seq);
    this.seq = seqs.length ? Math.max(...seqs) : 0;
  }

  /** Checkpoint files present, newest first (not the ones set aside as corrupt). */
  list(): { file: string; seq: number }[] {
    return numbered(this.dir, NAME);
  }

  /** Checkpoints set aside as corrupt, newest first. */
  listCorrupt(): { file: string; seq: number }[] {
    return numbered(this.dir, CORRUPT);
  }

  /**
   * Writes a new checkpoint, verifies it, then prunes old ones; returns its path. On a
   * failed write nothing is pruned and a StorageError names the file and the fix.
   */
  save(payload: unknown): string {
    const body = JSON.stringify(payload);
    const seq = ++this.seq;
    const header = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      seq,
      time: new Date().toISOString(),
      bytes: Buffer.byteLength(body),
      sha256: createHash('sha256').update(body).digest('hex'),
    };
    const file = nodePath.join(this.dir, `checkpoint-${String(seq).padStart(10, '0')}.json`);
    writeFileAtomic(file, `${JSON.stringify(header)}\n${body}\n`, {
      io: this.io,
      what: 'checkpoint',
    });
    const check = readCheckpoint(file);
    if ('problem' in check) {
      // Never let a bad file count as one of the `keep`: set it aside and say so.
      this.setAside(file);
      throw new StorageError(
        `the checkpoint ${file} did not read back (${check.problem}); it was set aside as ${nodePath.basename(file)}${CORRUPT_SUFFIX}, the older checkpoints are kept; check the disk`,
        file,
        'EVERIFY',
      );
    }
    this.prune();
    return file;
  }

  /** Old checkpoints beyond `keep`, and corrupt ones older than every kept one. */
  private prune(): void {
    const kept = this.list();
    const doomed = kept.slice(this.keep);
    if (kept.length >= this.keep) {
      const oldestKept = kept[this.keep - 1].seq;
      doomed.push(...this.listCorrupt().filter((c) => c.seq < oldestKept));
    }
    for (const old of doomed) {
      try {
        fs.rmSync(old.file, { force: true });
      } catch {
        // An old file that cannot be removed costs space, not state; the next save retries.
      }
    }
  }

  private setAside(file: string): string | undefined {
    try {
      fs.renameSync(file, file + CORRUPT_SUFFIX);
      return file + CORRUPT_SUFFIX;
    } catch {
      return undefined;
    }
  }

  /**
   * The newest valid checkpoint, or undefined when there is none. Every checkpoint is
   * verified; each corrupt one is reported through onWarning with its file name and
   * the reason (and renamed *.corrupt with setAside). When checkpoints exist but every
   * one is corrupt, a last warning says that the daemon starts without them.
   */
  loadLatest<T>(
    onWarning?: (message: string) => void,
    options: LoadOptions = {},
  ): LoadedCheckpoint<T> | undefined {
    let found: LoadedCheckpoint<T> | undefined;
    let corrupt = 0;
    for (const { file, seq } of this.list()) {
      const result = readCheckpoint<T>(file);
      if ('problem' in result) {
        corrupt++;
        const aside = options.setAside ? this.setAside(file) : undefined;
        onWarning?.(
          `checkpoint ${file} is unusable (${result.problem})` +
            (aside ? `; set aside as ${nodePath.basename(aside)}` : '') +
            (found ? '' : '; trying the previous one'),
        );
        continue;
      }
      found ??= { file, seq, time: result.time, payload: result.payload };
      if (!options.setAside) break;
    }
    if (!found && corrupt > 0) {
      onWarning?.(
        `every checkpoint in ${this.dir} is unusable (${corrupt} file${corrupt > 1 ? 's' : ''}${options.setAside ? `, set aside as *${CORRUPT_SUFFIX}` : ''}): starting without them, so the learning they held is lost`,
      );
    }
    return found;
  }
}

/** Reads and verifies one checkpoint file. */
export function readCheckpoint<T>(
  file: string,
): { payload: T; time: string; seq: number } | { problem: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return { problem: `cannot read it: ${(err as Error).message}` };
  }
  const nl = text.indexOf('\n');
  if (nl < 0) return { problem: 'no header line: the file is truncated' };
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text.slice(0, nl)) as Record<string, unknown>;
  } catch {
    return { problem: 'the header line is not JSON' };
  }
  if (header.format !== CHECKPOINT_FORMAT) return { problem: 'not an mlproxy checkpoint' };
  if (header.version !== CHECKPOINT_VERSION) {
    return { problem: `format version ${String(header.version)}, expected ${CHECKPOINT_VERSION}` };
  }
  let body = text.slice(nl + 1);
  if (body.endsWith('\n')) body = body.slice(0, -1);
  if (Buffer.byteLength(body) !== header.bytes) {
    return {
      problem: `payload is ${Buffer.byteLength(body)} bytes, header says ${String(header.bytes)}: truncated or altered`,
    };
  }
  const sum = createHash('sha256').update(body).digest('hex');
  if (sum !== header.sha256) return { problem: 'sha256 checksum mismatch: the payload is corrupt' };
  try {
    return {
      payload: JSON.parse(body) as T,
      time: String(header.time),
      seq: Number(header.seq),
    };
  } catch {
    return { problem: 'payload is not JSON' };
  }
}
