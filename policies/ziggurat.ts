/**
 * Standard normal variates by the ziggurat method (Marsaglia and Tsang 2000, 128 layers),
 * drawn from the project's one Rng. About one 32-bit word per variate and no logarithm in
 * 98.8% of draws, several times cheaper than Rng.normal()'s Box-Muller; for hot sampling
 * loops such as Thompson sampling's Gamma draws.
 *
 * The layer index takes the word's low 7 bits and the magnitude its high 25 bits (signed),
 * so index and value never share bits (the flaw Doornik 2005 found in the original).
 */
import type { Rng } from './rng.js';

const LAYERS = 128;
const R = 3.442619855899;
const AREA = 9.91256303526217e-3;
const SCALE = 2 ** 24; // magnitude of the signed 25-bit part

const kn = new Float64Array(LAYERS);
const wn = new Float64Array(LAYERS);
const fn = new Float64Array(LAYERS);
{
  let dn = R;
  let tn = dn;
  const q = AREA / Math.exp(-0.5 * dn * dn);
  kn[0] = (dn / q) * SCALE;
  kn[1] = 0;
  wn[0] = q / SCALE;
  wn[LAYERS - 1] = dn / SCALE;
  fn[0] = 1;
  fn[LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(AREA / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = (dn / tn) * SCALE;
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / SCALE;
  }
}

/** Uniform in the open interval (0, 1). */
function openUniform(rng: Rng): number {
  return (rng.nextU32() + 0.5) * 2.3283064365386963e-10;
}

export function zigguratNormal(rng: Rng): number {
  for (;;) {
    const word = rng.nextU32() | 0;
    const iz = word & (LAYERS - 1);
    const hz = word >> 7;
    const x = hz * wn[iz];
    if (Math.abs(hz) < kn[iz]) return x;
    if (iz === 0) {
      // The tail beyond R (Marsaglia 1964).
      let t: number;
      let y: number;
      do {
        t = -Math.log(openUniform(rng)) / R;
        y = -Math.log(openUniform(rng));
      } while (y + y < t * t);
      return hz > 0 ? R + t : -R - t;
    }
    if (fn[iz] + openUniform(rng) * (fn[iz - 1] - fn[iz]) < Math.exp(-0.5 * x * x)) return x;
  }
}
