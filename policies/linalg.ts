/**
 * Small dense linear algebra on flat, row-major Float64Array blocks, for the hot paths of
 * the contextual policies (d is small, typically <= 32). A d x d matrix M lives at
 * buf[off .. off + d*d), entry (i, j) at off + i*d + j. Allocation-free: callers pass
 * scratch vectors. ml-matrix is the reference these are measured against (bench/).
 */

/** x · y over d entries, y read from buf at offset off. */
export function dotAt(x: ArrayLike<number>, buf: Float64Array, off: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += x[i] * buf[off + i];
  return s;
}

/** out = M x for the d x d matrix at buf[off]. */
export function matVecAt(
  buf: Float64Array,
  off: number,
  d: number,
  x: ArrayLike<number>,
  out: Float64Array,
): void {
  for (let i = 0; i < d; i++) {
    let s = 0;
    const row = off + i * d;
    for (let j = 0; j < d; j++) s += buf[row + j] * x[j];
    out[i] = s;
  }
}

/** Writes lambda * I into the d x d block at buf[off]. */
export function setScaledIdentity(buf: Float64Array, off: number, d: number, lambda: number): void {
  buf.fill(0, off, off + d * d);
  for (let i = 0; i < d; i++) buf[off + i * d + i] = lambda;
}

/**
 * Sherman-Morrison: replaces the symmetric inverse Ainv (at buf[off]) of A by the inverse
 * of A + x x^T, i.e. Ainv -= (Ainv x)(Ainv x)^T / (1 + x^T Ainv x). `scratch` holds d
 * and is left holding u = Ainv x (the old Ainv); returns 1 + x^T u.
 */
export function shermanMorrisonAt(
  buf: Float64Array,
  off: number,
  d: number,
  x: ArrayLike<number>,
  scratch: Float64Array,
): number {
  matVecAt(buf, off, d, x, scratch);
  let denom = 1;
  for (let i = 0; i < d; i++) denom += x[i] * scratch[i];
  for (let i = 0; i < d; i++) {
    const ui = scratch[i] / denom;
    const row = off + i * d;
    for (let j = 0; j < d; j++) buf[row + j] -= ui * scratch[j];
  }
  return denom;
}

/**
 * Rank-one update of a lower Cholesky factor: given L (at buf[off]) with L L^T = A,
 * overwrites it with the factor of A + x x^T. O(d^2), stable (Givens-style, no
 * downdating). `work` holds d and is clobbered.
 */
export function cholUpdateAt(
  buf: Float64Array,
  off: number,
  d: number,
  x: ArrayLike<number>,
  work: Float64Array,
): void {
  for (let i = 0; i < d; i++) work[i] = x[i];
  for (let k = 0; k < d; k++) {
    const kk = off + k * d + k;
    const lkk = buf[kk];
    const wk = work[k];
    const r = Math.sqrt(lkk * lkk + wk * wk);
    const c = r / lkk;
    const s = wk / lkk;
    buf[kk] = r;
    for (let i = k + 1; i < d; i++) {
      const ik = off + i * d + k;
      const lik = (buf[ik] + s * work[i]) / c;
      buf[ik] = lik;
      work[i] = c * work[i] - s * lik;
    }
  }
}

/** Solves L y = x (forward substitution) for the lower factor at buf[off]. */
export function forwardSolveAt(
  buf: Float64Array,
  off: number,
  d: number,
  x: ArrayLike<number>,
  y: Float64Array,
): void {
  for (let i = 0; i < d; i++) {
    let s = x[i];
    const row = off + i * d;
    for (let j = 0; j < i; j++) s -= buf[row + j] * y[j];
    y[i] = s / buf[row + i];
  }
}

/** Solves L^T y = x (back substitution) for the lower factor at buf[off]. */
export function backSolveTransposedAt(
  buf: Float64Array,
  off: number,
  d: number,
  x: ArrayLike<number>,
  y: Float64Array,
): void {
  for (let i = d - 1; i >= 0; i--) {
    let s = x[i];
    for (let j = i + 1; j < d; j++) s -= buf[off + j * d + i] * y[j];
    y[i] = s / buf[off + i * d + i];
  }
}

/** Copies a Float64Array into a plain number array for JSON snapshots. */
export function toPlain(a: Float64Array): number[] {
  return Array.from(a);
}

/** Reads a snapshot array of exactly n finite numbers back into a Float64Array. */
export function fromPlain(value: unknown, n: number, name: string): Float64Array {
  if (!Array.isArray(value) || value.length !== n) {
    throw new TypeError(`snapshot field "${name}" must be an array of ${n} numbers`);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v: unknown = value[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new TypeError(`snapshot field "${name}"[${i}] must be a finite number`);
    }
    out[i] = v;
  }
  return out;
}
