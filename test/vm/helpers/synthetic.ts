/**
 * The synthetic subsystem's reward landscape, transcribed from docs/subsystems.md,
 * so the in-guest tests can check the kernel's numbers exactly and pick the best
 * and the bad levels. Integer arithmetic on u32 via Math.imul and >>> 0.
 */

export interface SynthParams {
  seed: number;
  period: number;
}

export function hash32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

const OPT = [10, 6, 13, 4] as const;

export function phase(w: number, p: SynthParams): number {
  return Math.floor(w / p.period) % 4;
}

/** The best level of window w. */
export function optLevel(w: number, p: SynthParams): number {
  return OPT[phase(w, p)];
}

export function load(w: number): number {
  const t = w % 200;
  return t < 100 ? t * 10 : (200 - t) * 10;
}

function noise(w: number, p: SynthParams): number {
  // (u32)(2 * w + 1): exact in doubles for the epochs a test reaches (< 2^52).
  const x = (((2 * w + 1) % 2 ** 32) >>> 0) ^ p.seed;
  return (hash32(x >>> 0) % 40001) - 20000;
}

/** eff(w, l) in 1/MLP_EFF_SCALE units. */
export function effRaw(w: number, level: number, p: SynthParams): number {
  const d = level - optLevel(w, p);
  return Math.max(0, 1000000 - 12000 * d * d - 100 * load(w) + noise(w, p));
}

export function phaseHint(w: number, p: SynthParams): number {
  const x = (((2 * w) % 2 ** 32) >>> 0) ^ p.seed;
  return phase(w, p) * 250 + (hash32(x >>> 0) % 101) - 50;
}
