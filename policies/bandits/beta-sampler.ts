/**
 * Fast Beta(a, b) variates for Thompson sampling, drawn from the project's Rng.
 *
 * Rng.beta() takes the ratio of two Marsaglia-Tsang gammas (two normals, two uniforms,
 * several logs per variate); at K = 10 that alone caps Beta-TS near 350,000 decisions/s.
 * Here:
 *  - a = 1 or b = 1 by inversion (Beta(1, b) = 1 - U^(1/b), Beta(a, 1) = U^(1/a));
 *  - min(a, b) > 1 by Cheng's algorithm BB (Comm. ACM 21, 1978, 317-322): two uniforms,
 *    one log and one exp per try, accepted about 90% of the time or more;
 *  - any other shape (a fractional parameter below 1) falls back to Rng.beta().
 * Uniforms come from one 32-bit word each, shifted by half a step into the open (0, 1).
 */
import type { Rng } from '../rng.js';

const TWO_POW_MINUS_32 = 2.3283064365386963e-10;
const LN4 = 2 * Math.LN2;
const ONE_PLUS_LN5 = 1 + Math.log(5);

function openUniform(rng: Rng): number {
  return (rng.nextU32() + 0.5) * TWO_POW_MINUS_32;
}

export function sampleBeta(rng: Rng, a: number, b: number): number {
  if (a === 1) return b === 1 ? openUniform(rng) : 1 - Math.pow(openUniform(rng), 1 / b);
  if (b === 1) return Math.pow(openUniform(rng), 1 / a);
  if (a < 1 || b < 1) return rng.beta(a, b);
  // Cheng BB with p = min(a, b), q = max(a, b).
  const p = a < b ? a : b;
  const q = a < b ? b : a;
  const alpha = p + q;
  const beta = Math.sqrt((alpha - 2) / (2 * p * q - alpha));
  const gamma = p + 1 / beta;
  let w: number;
  for (;;) {
    const u1 = openUniform(rng);
    const u2 = openUniform(rng);
    const v = beta * Math.log(u1 / (1 - u1));
    w = p * Math.exp(v);
    if (w === Infinity) w = Number.MAX_VALUE;
    const z = u1 * u1 * u2;
    const r = gamma * v - LN4;
    const s = p + r - w;
    if (s + ONE_PLUS_LN5 >= 5 * z) break;
    const logZ = Math.log(z);
    if (s > logZ) break;
    if (r + alpha * Math.log(alpha / (q + w)) >= logZ) break;
  }
  // w / (q + w) is the Beta(p, q) variate; swap back when a was the larger shape.
  return a === p ? w / (q + w) : q / (q + w);
}
