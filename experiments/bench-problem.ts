/**
 * Loads a replayable bandit problem folder (format: experiments/problems/README.md):
 * meta.json plus float64/u8 arrays with every random draw fixed in advance.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../policies/rng.js';

/** What a problem folder is and where the shipped ones are, for "not found" errors. */
export const PROBLEM_FOLDER_HELP =
  'a problem folder is a replayable bandit problem (meta.json plus its arrays; format: ' +
  'experiments/problems/README.md); the repository ships experiments/problems/linear-d8-k6-s2026 ' +
  'and experiments/problems/bernoulli-k8-s11: pass one of those, or a folder in the same format';

export interface BenchProblem {
  dir: string;
  kind: 'linear' | 'bernoulli';
  /** Rounds. */
  T: number;
  /** Arms. */
  K: number;
  /** Context length (0 for bernoulli). */
  d: number;
  /** linear: T×d contexts. */
  contexts?: Float64Array;
  /** linear: T×K expected rewards. */
  means?: Float64Array;
  /** linear: T×K noise added to the mean of the pulled arm. */
  noise?: Float64Array;
  /** bernoulli: T×K realised 0/1 rewards. */
  rewards?: Uint8Array;
  /** bernoulli: arm means. */
  probs?: number[];
}

export class BenchProblemError extends Error {
  override name = 'BenchProblemError';
}

function readArray(dir: string, name: string, bytesPer: number, count: number): Buffer {
  const path = join(dir, name);
  if (!existsSync(path))
    throw new BenchProblemError(
      `${path} is missing; a problem folder needs it (format: experiments/problems/README.md)`,
    );
  const buf = readFileSync(path);
  if (buf.length !== count * bytesPer) {
    throw new BenchProblemError(
      `${path} has ${buf.length} bytes, expected ${count * bytesPer} (${count} values)`,
    );
  }
  return buf;
}

function f64(buf: Buffer): Float64Array {
  // Copy into an aligned buffer: a Buffer may start at any byte offset.
  const out = new Float64Array(buf.length / 8);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

function positiveInt(meta: Record<string, unknown>, key: string, path: string): number {
  const v = meta[key];
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new BenchProblemError(
      `${path}: "${key}" must be an integer >= 1, got ${JSON.stringify(v)}`,
    );
  }
  return v as number;
}

export function loadBenchProblem(dir: string): BenchProblem {
  const metaPath = join(dir, 'meta.json');
  if (!existsSync(dir)) {
    throw new BenchProblemError(`problem folder ${dir} does not exist; ${PROBLEM_FOLDER_HELP}`);
  }
  if (!statSync(dir).isDirectory()) {
    throw new BenchProblemError(`${dir} is a file, not a problem folder; ${PROBLEM_FOLDER_HELP}`);
  }
  if (!existsSync(metaPath)) {
    throw new BenchProblemError(
      `${dir} is not a problem folder: ${metaPath} not found; ${PROBLEM_FOLDER_HELP}`,
    );
  }
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new BenchProblemError(`${metaPath} is not valid JSON: ${(e as Error).message}`);
  }
  const T = positiveInt(meta, 'T', metaPath);
  const K = positiveInt(meta, 'K', metaPath);
  if (meta.kind === 'linear') {
    const d = positiveInt(meta, 'd', metaPath);
    return {
      dir,
      kind: 'linear',
      T,
      K,
      d,
      contexts: f64(readArray(dir, 'contexts.f64', 8, T * d)),
      means: f64(readArray(dir, 'means.f64', 8, T * K)),
      noise: f64(readArray(dir, 'noise.f64', 8, T * K)),
    };
  }
  if (meta.kind === 'bernoulli') {
    const probs = meta.probs;
    if (!Array.isArray(probs) || probs.length !== K || !probs.every((p) => typeof p === 'number')) {
      throw new BenchProblemError(`${metaPath}: "probs" must be an array of ${K} numbers`);
    }
    const rewards = readArray(dir, 'rewards.u8', 1, T * K);
    return {
      dir,
      kind: 'bernoulli',
      T,
      K,
      d: 0,
      rewards: new Uint8Array(rewards),
      probs: probs as number[],
    };
  }
  throw new BenchProblemError(
    `${metaPath}: unknown kind ${JSON.stringify(meta.kind)}; expected "linear" or "bernoulli"`,
  );
}

export interface LinearProblemSpec {
  T: number;
  K: number;
  d: number;
  noiseSd: number;
  seed: number;
}

/**
 * Writes a linear problem folder in the same format (for benchmarks and held-out tests):
 * theta (K x d) ~ N(0, 1), contexts (T x d) ~ N(0, 1) / sqrt(d), means = contexts theta^T,
 * noise (T x K) ~ N(0, noiseSd^2), all from the policies' Rng seeded with `seed`.
 */
export function writeLinearProblem(dir: string, spec: LinearProblemSpec): void {
  const { T, K, d, noiseSd, seed } = spec;
  const rng = new Rng(seed);
  const theta = Float64Array.from({ length: K * d }, () => rng.normal());
  const contexts = Float64Array.from({ length: T * d }, () => rng.normal() / Math.sqrt(d));
  const means = new Float64Array(T * K);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += contexts[t * d + i] * theta[k * d + i];
      means[t * K + k] = s;
    }
  }
  const noise = Float64Array.from({ length: T * K }, () => noiseSd * rng.normal());
  mkdirSync(dir, { recursive: true });
  const bytes = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  writeFileSync(join(dir, 'contexts.f64'), bytes(contexts));
  writeFileSync(join(dir, 'means.f64'), bytes(means));
  writeFileSync(join(dir, 'noise.f64'), bytes(noise));
  writeFileSync(
    join(dir, 'meta.json'),
    JSON.stringify(
      {
        kind: 'linear',
        T,
        K,
        d,
        noise_sd: noiseSd,
        seed,
        generator:
          'mlproxy Rng(seed): theta(K,d)~N(0,1); contexts(T,d)~N(0,1)/sqrt(d); noise(T,K)~N(0,sd)',
      },
      null,
      1,
    ) + '\n',
  );
}
