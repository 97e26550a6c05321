/** The part of jStat (package "jstat", no bundled types) that experiments/stats.ts uses. */
declare module 'jstat' {
  interface StudentT {
    /** P(T <= x) for Student's t with dof degrees of freedom. */
    cdf(x: number, dof: number): number;
    /** The p-quantile of Student's t with dof degrees of freedom. */
    inv(p: number, dof: number): number;
  }
  const jStat: { studentt: StudentT };
  export default jStat;
}
