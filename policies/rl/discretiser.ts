/**
 * Maps a context vector to a tabular state index. Each feature falls into a bin, either
 * uniform bins over [lo, hi] (values outside are clamped into the end bins) or explicit
 * ascending bin edges (bin = number of edges <= value). The state index is the mixed-radix
 * number of the per-feature bins, feature 0 least significant.
 */
import { checkContext, checkNumber } from '../common.js';
import { PolicyArgumentError } from '../types.js';

export interface DiscretiserOptions {
  /** Context length. */
  d: number;
  /** Uniform bins per feature (ignored when edges are given). */
  bins: number;
  lo: number;
  hi: number;
  /**
   * Explicit edges: "0.2/0.5/0.8" applies to every feature; per-feature lists are
   * separated by ";" ("0.5;0.1/0.9" for d = 2). Empty string = use bins over [lo, hi].
   */
  edges: string | number;
}

/** Largest state space a Discretiser accepts (indices must stay exact integers). */
export const MAX_STATES = 2 ** 40;

export class Discretiser {
  readonly d: number;
  /** Total number of states. */
  readonly states: number;
  private readonly edges: Float64Array[] | null;
  private readonly bins: number;
  private readonly lo: number;
  private readonly hi: number;

  constructor(opts: DiscretiserOptions) {
    const { d } = opts;
    checkNumber('bins', opts.bins, { min: 1, integer: true });
    checkNumber('lo', opts.lo);
    checkNumber('hi', opts.hi);
    if (typeof opts.edges !== 'string' && typeof opts.edges !== 'number') {
      throw new PolicyArgumentError('parameter "edges" must be a string such as 0.2/0.5/0.8');
    }
    this.d = d;
    this.bins = opts.bins;
    this.lo = opts.lo;
    this.hi = opts.hi;
    const edgeSpec = String(opts.edges).trim();
    if (edgeSpec !== '') {
      this.edges = parseEdges(edgeSpec, d);
      this.states = this.edges.reduce((n, e) => n * (e.length + 1), 1);
    } else {
      if (!(opts.lo < opts.hi)) {
        throw new PolicyArgumentError(
          `parameters "lo" and "hi" must satisfy lo < hi, got lo=${opts.lo}, hi=${opts.hi}`,
        );
      }
      this.edges = null;
      this.states = opts.bins ** d;
    }
    if (!(this.states <= MAX_STATES)) {
      throw new PolicyArgumentError(
        `the discretisation has ${this.states} states (more than ${MAX_STATES}); use fewer bins or features`,
      );
    }
  }

  /** State index of a context; checks its length and values. */
  state(context: ArrayLike<number> | undefined): number {
    const x = checkContext(context, this.d);
    let index = 0;
    let stride = 1;
    for (let i = 0; i < this.d; i++) {
      let bin: number;
      let radix: number;
      if (this.edges !== null) {
        const e = this.edges[i];
        bin = 0;
        while (bin < e.length && x[i] >= e[bin]) bin++;
        radix = e.length + 1;
      } else {
        bin = Math.floor(((x[i] - this.lo) / (this.hi - this.lo)) * this.bins);
        if (bin < 0) bin = 0;
        else if (bin >= this.bins) bin = this.bins - 1;
        radix = this.bins;
      }
      index += bin * stride;
      stride *= radix;
    }
    return index;
  }
}

function parseEdges(spec: string, d: number): Float64Array[] {
  const groups = spec.split(';').map((g) => g.trim());
  if (groups.length !== 1 && groups.length !== d) {
    throw new PolicyArgumentError(
      `parameter "edges" has ${groups.length} feature groups; give one group for all features or ${d} separated by ";"`,
    );
  }
  const parsed = groups.map((g, gi) => {
    const values = g.split('/').map((s) => Number(s.trim()));
    if (g === '' || values.some((v) => !Number.isFinite(v))) {
      throw new PolicyArgumentError(
        `parameter "edges" group ${gi} ("${g}") must be numbers separated by "/", e.g. 0.2/0.5/0.8`,
      );
    }
    for (let i = 1; i < values.length; i++) {
      if (!(values[i] > values[i - 1])) {
        throw new PolicyArgumentError(`parameter "edges" group ${gi} must be strictly increasing`);
      }
    }
    return Float64Array.from(values);
  });
  return groups.length === 1 ? Array.from({ length: d }, () => parsed[0]) : parsed;
}
