/**
 * Derives independent integer seeds from one run seed, so that an environment and a
 * policy seeded from the same cell never share a random stream.
 */

/** lowbias32 hash of (seed, stream): a u32 seed for stream `stream` of run `seed`. */
export function deriveSeed(seed: number, stream: number): number {
  let x = (Math.imul(seed >>> 0, 0x9e3779b9) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

export const ENV_STREAM = 1;
export const POLICY_STREAM = 2;
