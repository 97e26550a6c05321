/**
 * The user-space safety layer, on top of the kernel's hard bounds:
 *  - a maximum step per decision (in grid steps of each knob), applied through the legal
 *    mask (ArmGrid.legalMask);
 *  - no exploration while the kernel reports EMERGENCY: the learner submits nothing;
 *  - collapse guard: when the last `collapseWindows` applied advice windows chosen by the
 *    policy averaged an efficiency below `collapseRatio` x the baseline reference, the
 *    learner plays the baseline arm for the next `fallbackDecisions` decisions (the
 *    learner does not count windows that ran in another workload than their decision's);
 *  - a last check of every choice: an illegal arm is replaced by the baseline.
 * (The conservative exploration budget lives in the policy: the "conservative" wrapper.)
 */

export interface SafetyOptions {
  /** Largest move per decision, in grid steps of each knob; 0 = only the kernel's max_delta. */
  maxStep: number;
  /** Applied advice windows averaged by the collapse guard. */
  collapseWindows: number;
  /** Collapse when the mean of eff / baselineEff over those windows is below this. */
  collapseRatio: number;
  /** Decisions played at the baseline after a collapse. */
  fallbackDecisions: number;
}

export const DEFAULT_SAFETY: SafetyOptions = {
  maxStep: 2,
  collapseWindows: 3,
  collapseRatio: 0.7,
  fallbackDecisions: 20,
};

export interface SafetyState {
  recent: number[];
  fallbackLeft: number;
  collapses: number;
  overrides: number;
}

export class SafetyLayer {
  private recent: number[] = [];
  private fallbackLeft = 0;
  collapses = 0;
  /** Choices replaced because they were illegal. */
  overrides = 0;

  constructor(public options: SafetyOptions) {}

  /** True while the collapse guard holds the learner at the baseline. */
  get inFallback(): boolean {
    return this.fallbackLeft > 0;
  }

  /** Call once per decision made in fallback. */
  consumeFallback(): void {
    if (this.fallbackLeft > 0) this.fallbackLeft--;
  }

  /**
   * Records the efficiency ratio of an applied window the policy chose; returns true when
   * it triggered a collapse (the caller logs it).
   */
  observe(ratio: number): boolean {
    if (!Number.isFinite(ratio)) return false;
    this.recent.push(ratio);
    const n = Math.max(1, this.options.collapseWindows);
    if (this.recent.length > n) this.recent.shift();
    if (this.recent.length < n) return false;
    const mean = this.recent.reduce((a, b) => a + b, 0) / n;
    if (mean >= this.options.collapseRatio) return false;
    this.fallbackLeft = this.options.fallbackDecisions;
    this.recent = [];
    this.collapses++;
    return true;
  }

  /** The arm to play: `arm` when legal, else `fallback` (counted as an override). */
  checkChoice(arm: number, legal: ArrayLike<number>, fallback: number): number {
    if (Number.isInteger(arm) && arm >= 0 && arm < legal.length && legal[arm]) return arm;
    this.overrides++;
    return fallback;
  }

  state(): SafetyState {
    return {
      recent: [...this.recent],
      fallbackLeft: this.fallbackLeft,
      collapses: this.collapses,
      overrides: this.overrides,
    };
  }

  restore(s: SafetyState): void {
    this.recent = Array.isArray(s.recent) ? s.recent.filter(Number.isFinite) : [];
    this.fallbackLeft = Number.isInteger(s.fallbackLeft) ? s.fallbackLeft : 0;
    this.collapses = Number.isInteger(s.collapses) ? s.collapses : 0;
    this.overrides = Number.isInteger(s.overrides) ? s.overrides : 0;
  }
}

/** The legal arm nearest to `target` by index distance (the grid is ordered per knob). */
export function nearestLegal(target: number, legal: ArrayLike<number>): number {
  if (legal[target]) return target;
  for (let d = 1; d < legal.length; d++) {
    if (target - d >= 0 && legal[target - d]) return target - d;
    if (target + d < legal.length && legal[target + d]) return target + d;
  }
  return target;
}
