/**
 * What a benchmark module looks like: bench/run.ts runs every module whose name or case
 * names match the filter and prints each module's rows as a table.
 */

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface BenchOptions {
  /** Case filter (substring of "module/case"); empty = everything. */
  filter: string;
  /** Seconds of timed work per case. */
  seconds: number;
  /** Forces a full garbage collection (for memory figures). */
  gc: () => void;
}

export interface BenchModule {
  name: string;
  description: string;
  /** Case names, so the filter can be applied before running. */
  cases(): string[];
  /** Runs the given cases (already filtered) and returns one row per case. */
  run(cases: string[], opts: BenchOptions): Row[];
}
