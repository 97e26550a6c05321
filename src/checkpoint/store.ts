/**
 * Checkpoints: atomic, checksummed, numbered files in the state directory.
 *
 * File checkpoint-<seq, 10 digits>.json holds two lines: a header
 *   {"format":"mlproxy-checkpoint","version":1,"seq":12,"time":"...","bytes":N,"sha256":"..."}
 * and the payload JSON, whose exact bytes the sha256 covers. Writing: a temp file in the
 * same directory, write, fsync, rename over the final name, fsync the directory. The
 * last `keep` checkpoints are kept. Loading walks from the newest back and reports every
 * corrupt file (name and reason) before using the next older valid one.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import nodePath from 'node:path';

export const CHECKPOINT_FORMAT = 'mlproxy-checkpoint';
export const CHECKPOINT_VERSION = 1;
const NAME = /^checkpoint-(\d{10})\.json$/;

export interface LoadedCheckpoint<T> {
  file: string;
  seq: number;
  time: string;
  payload: T;
}

/**
 * Writes `data` to `file` atomically: temp file in the same directory, write, fsync,
 * rename, fsync the directory. Readers see the old or the new content, never a mix.
 * `durable: false` skips both fsyncs (still atomic for readers, not across power loss).
 */
export function writeFileAtomic(
  file: string,
  data: string | Buffer,
  options: { durable?: boolean } = {},
): void {
  const durable = options.durable ?? true;
  const dir = nodePath.dirname(file);
  const tmp = nodePath.join(dir, `.${nodePath.basename(file)}.tmp-${process.pid}`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  if (durable) syncDir(dir);
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export class CheckpointStore {
  private seq: number;

  constructor(
    readonly dir: string,
    readonly keep = 3,
  ) {
    if (!Number.isInteger(keep) || keep < 1) {
      throw new RangeError(`checkpoint keep must be an integer >= 1, got ${String(keep)}`);
    }
    fs.mkdirSync(dir, { recursive: true });
    this.removeStaleTemps();
    const seqs = this.list().map((c) => c.seq);
    this.seq = seqs.length ? Math.max(...seqs) : 0;
  }

  /** Checkpoint files present, newest first. */
  list(): { file: string; seq: number }[] {
    return fs
      .readdirSync(this.dir)
      .map((n) => ({ n, m: NAME.exec(n) }))
      .filter((x) => x.m !== null)
      .map((x) => ({ file: nodePath.join(this.dir, x.n), seq: Number(x.m![1]) }))
      .sort((a, b) => b.seq - a.seq);
  }

  /** Writes a new checkpoint and prunes old ones; returns its path. */
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
    writeFileAtomic(file, `${JSON.stringify(header)}\n${body}\n`);
    for (const old of this.list().slice(this.keep)) fs.rmSync(old.file, { force: true });
    return file;
  }

  /**
   * The newest valid checkpoint, or undefined when there is none. Every corrupt one met
   * on the way is reported through onWarning with its file name and the reason.
   */
  loadLatest<T>(onWarning?: (message: string) => void): LoadedCheckpoint<T> | undefined {
    for (const { file, seq } of this.list()) {
      const result = readCheckpoint<T>(file);
      if ('problem' in result) {
        onWarning?.(`checkpoint ${file} is unusable (${result.problem}); trying the previous one`);
        continue;
      }
      return { file, seq, time: result.time, payload: result.payload };
    }
    return undefined;
  }

  private removeStaleTemps(): void {
    for (const n of fs.readdirSync(this.dir)) {
      if (n.startsWith('.') && n.includes('.tmp-')) {
        fs.rmSync(nodePath.join(this.dir, n), { force: true });
      }
    }
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
