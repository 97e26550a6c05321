/**
 * The one seeded random number generator used everywhere in mlproxy.
 *
 * xoshiro128** (Blackman and Vigna) on four 32-bit words, seeded through splitmix32.
 * All arithmetic is 32-bit integer, so the same seed gives the same stream bit for bit
 * on every platform. The state is four numbers plus the cached Gaussian, so it snapshots
 * to plain JSON and restores to an identical stream.
 */

export interface RngState {
  readonly s: readonly [number, number, number, number];
  /** Second Box-Muller variate kept for the next normal() call, or null. */
  readonly spare: number | null;
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  /** The four state words; a typed array keeps the arithmetic on 32-bit integers fast. */
  private readonly s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) {
      throw new TypeError(`Rng seed must be an integer, got ${String(seed)}`);
    }
    const next = splitmix32(seed);
    for (let i = 0; i < 4; i++) this.s[i] = next();
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  static fromState(state: RngState): Rng {
    const { s, spare } = state;
    if (
      !Array.isArray(s) ||
      s.length !== 4 ||
      !s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)
    ) {
      throw new TypeError('Rng state must hold four unsigned 32-bit words in "s"');
    }
    if ((s[0] | s[1] | s[2] | s[3]) === 0) throw new TypeError('Rng state must not be all zero');
    if (spare !== null && !Number.isFinite(spare))
      throw new TypeError('Rng state "spare" must be a finite number or null');
    const rng = new Rng(0);
    rng.s.set(s);
    rng.spare = spare;
    return rng;
  }

  state(): RngState {
    const s = this.s;
    return { s: [s[0], s[1], s[2], s[3]], spare: this.spare };
  }

  /** Next unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`Rng.int needs a positive integer bound, got ${String(n)}`);
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal variate (Box-Muller, the second value cached). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Gamma(shape, 1) variate (Marsaglia and Tsang; boosted for shape < 1). */
  gamma(shape: number): number {
    if (!(shape > 0) || !Number.isFinite(shape))
      throw new RangeError(`Rng.gamma needs a finite shape > 0, got ${String(shape)}`);
    if (shape < 1) {
      let u = 0;
      while (u === 0) u = this.uniform();
      return this.gamma(shape + 1) * Math.pow(u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(a, b) variate from two gammas. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** lowbias32 (Chris Wellons): a well-mixed hash of a 32-bit integer. */
export function hash32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * A u32 seed for stream `stream` of a run seeded `seed`: streams derived from one seed
 * never share a random sequence with it or with each other.
 */
export function deriveSeed(seed: number, stream: number): number {
  return hash32(Math.imul(seed >>> 0, 0x9e3779b9) ^ Math.imul(stream + 1, 0x85ebca6b));
}
