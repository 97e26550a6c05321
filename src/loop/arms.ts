/**
 * Arms <-> knob vectors. The arms of a subsystem are its knob grid: for one knob every
 * legal value min, min + step, ..., max; for several knobs the product of the per-knob
 * value lists. When the product exceeds maxArms, each knob's list is thinned to evenly
 * spaced values (always keeping min, max and the default), with the knob of the most
 * values thinned first, until the product fits. The baseline arm is the one whose knob
 * values are all the defaults. A profile may name the values of each knob instead
 * (profiles.ts); they must be on the knob's grid and include its default.
 */
import type { KnobDesc } from '../transport/device.js';

export const DEFAULT_MAX_ARMS = 256;

export class ArmGrid {
  /** values[j]: the grid values of knob j, ascending. */
  readonly values: number[][];
  /** arms[i]: the knob vector of arm i (last knob varies fastest). */
  readonly arms: number[][];
  readonly baselineArm: number;

  constructor(
    readonly knobs: readonly KnobDesc[],
    maxArms: number = DEFAULT_MAX_ARMS,
    values: readonly (readonly number[])[] | null = null,
  ) {
    if (knobs.length === 0) throw new RangeError('a subsystem needs at least one knob');
    if (!Number.isInteger(maxArms) || maxArms < 1) {
      throw new RangeError(`maxArms must be an integer >= 1, got ${String(maxArms)}`);
    }
    this.values = values ? checkedValues(knobs, values) : knobs.map(knobValues);
    thinToFit(this.values, knobs, maxArms);
    this.arms = product(this.values);
    const base = this.armOf(knobs.map((k) => k.def));
    if (base === undefined) throw new Error('internal: the default knob vector is not an arm');
    this.baselineArm = base;
  }

  get k(): number {
    return this.arms.length;
  }

  /** The arm of a knob vector, or undefined when it is not on the grid. */
  armOf(knobValuesNow: readonly number[]): number | undefined {
    if (knobValuesNow.length !== this.values.length) return undefined;
    let arm = 0;
    for (let j = 0; j < this.values.length; j++) {
      const idx = this.values[j].indexOf(knobValuesNow[j]);
      if (idx < 0) return undefined;
      arm = arm * this.values[j].length + idx;
    }
    return arm;
  }

  /**
   * Legal arms (1/0): within every knob's [min, max] (true by construction), within the
   * kernel's max_delta of the last advised values, and within the safety layer's maxStep
   * (in grid steps of each knob, 0 = unlimited). The baseline arm is always legal when
   * it is itself within reach; if nothing else is, the arm of `lastAdvised` is.
   */
  legalMask(lastAdvised: readonly number[], maxStepGrid: number): Uint8Array {
    const mask = new Uint8Array(this.k);
    let any = false;
    for (let i = 0; i < this.k; i++) {
      const arm = this.arms[i];
      let ok = true;
      for (let j = 0; j < arm.length && ok; j++) {
        const kd = this.knobs[j];
        const delta = Math.abs(arm[j] - lastAdvised[j]);
        if (kd.maxDelta > 0 && delta > kd.maxDelta) ok = false;
        if (maxStepGrid > 0 && delta > maxStepGrid * kd.step) ok = false;
      }
      if (ok) {
        mask[i] = 1;
        any = true;
      }
    }
    if (!any) mask[this.nearestArm(lastAdvised)] = 1;
    return mask;
  }

  /** The arm closest to a knob vector (per-knob nearest grid value). */
  nearestArm(v: readonly number[]): number {
    let arm = 0;
    for (let j = 0; j < this.values.length; j++) {
      const vals = this.values[j];
      let best = 0;
      for (let i = 1; i < vals.length; i++) {
        if (Math.abs(vals[i] - v[j]) < Math.abs(vals[best] - v[j])) best = i;
      }
      arm = arm * vals.length + best;
    }
    return arm;
  }

  /** A short fingerprint of the knob schema, to refuse checkpoints made for another one. */
  signature(): string {
    return this.knobs
      .map((k) => `${k.name}:${k.min}..${k.max}/${k.step}@${k.def}`)
      .concat(`arms=${this.k}`)
      .join(';');
  }
}

/** Named values per knob: on its grid, ascending, with its default. */
function checkedValues(
  knobs: readonly KnobDesc[],
  values: readonly (readonly number[])[],
): number[][] {
  if (values.length !== knobs.length) {
    throw new RangeError(`${values.length} value lists for ${knobs.length} knobs`);
  }
  return knobs.map((k, j) => {
    const grid = new Set(knobValues(k));
    const v = [...new Set(values[j])].sort((a, b) => a - b);
    const bad = v.find((x) => !grid.has(x));
    if (bad !== undefined) {
      throw new RangeError(
        `knob "${k.name}": ${bad} is not on its grid ${k.min}..${k.max}/${k.step}`,
      );
    }
    if (!v.includes(k.def))
      throw new RangeError(`knob "${k.name}": the values must include the default ${k.def}`);
    return v;
  });
}

function knobValues(k: KnobDesc): number[] {
  if (!(k.step > 0) || k.max < k.min) {
    throw new RangeError(
      `knob "${k.name}" has an empty grid (min ${k.min}, max ${k.max}, step ${k.step})`,
    );
  }
  const n = Math.floor((k.max - k.min) / k.step) + 1;
  return Array.from({ length: n }, (_, i) => k.min + i * k.step);
}

function thinToFit(values: number[][], knobs: readonly KnobDesc[], maxArms: number): void {
  const total = (): number => values.reduce((p, v) => p * v.length, 1);
  while (total() > maxArms) {
    let j = 0;
    for (let i = 1; i < values.length; i++) if (values[i].length > values[j].length) j = i;
    const full = values[j];
    if (full.length <= 2) break;
    const target = Math.max(2, Math.floor(full.length / 2));
    const keep = new Set<number>([full[0], full[full.length - 1], knobs[j].def]);
    for (let i = 0; keep.size < target && i < target; i++) {
      keep.add(full[Math.round((i * (full.length - 1)) / (target - 1))]);
    }
    const next = full.filter((v) => keep.has(v));
    if (next.length >= full.length) break;
    values[j] = next;
  }
  if (total() > maxArms) {
    throw new RangeError(
      `the knob grid has ${total()} arms even when thinned; raise maxArms to at least that`,
    );
  }
}

function product(values: number[][]): number[][] {
  let out: number[][] = [[]];
  for (const vals of values) {
    const next: number[][] = [];
    for (const prefix of out) for (const v of vals) next.push([...prefix, v]);
    out = next;
  }
  return out;
}
