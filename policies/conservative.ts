/**
 * Conservative wrapper around any policy, after conservative bandits (Wu, Shariff, Lattimore
 * and Szepesvari 2016) and CLUCB (Kazerouni et al. 2017). It lets the inner policy choose
 * only while, with high probability, the expected cumulative reward stays at least
 * (1 - alpha) times what always playing the baseline arm (the kernel's default) would earn:
 *
 *   sum_{s<=t} mu(a_s) >= (1 - alpha) t mu_0      at every round t.
 *
 * Rule, checked before round t (t counts rounds including this one), with rewards known to
 * lie in [rewardMin, rewardMax], rewardMin >= 0:
 *   L_N   = lower confidence bound on the expected reward of all non-baseline plays so far
 *           (their observed sum minus an anytime Azuma-Hoeffding width);
 *   L_c   = the smallest lower confidence bound of the mean of any legal non-baseline arm
 *           (rewardMin for an arm never played), so the test does not depend on which arm the
 *           inner policy would pick;
 *   c     = n_0 - (1 - alpha) t, with n_0 the baseline plays so far;
 *   m_0   = the baseline mean: known (baselineReward) or, from the baseline's own rewards,
 *           its lower bound when c >= 0 and its upper bound when c < 0 (pessimistic both ways).
 *   Explore (ask the inner policy) iff L_N + L_c + c m_0 >= 0; otherwise play the baseline.
 * On the event that every confidence bound holds (probability >= 1 - delta: delta is split
 * evenly over the K + 1 bounds, each made anytime by a union bound over counts), the
 * constraint holds at every round. Since the test is deterministic given the history, the
 * reported propensity is exact: 1 for a forced baseline play (marked Decision.forced, so the
 * daemon never mixes exploration into it), the inner policy's otherwise. Because the test
 * uses the worst legal non-baseline arm, the guarantee also covers exploration mixed into
 * the inner policy's choices.
 *
 * Learning. The wrapper's own bounds count every play (learnsFrom "any"). The inner policy
 * gets every play it can learn from (Policy.learnsFrom): an "any" policy every one, forced
 * or not; an importance-weighted one (EXP3) only plays drawn with full support
 * (UpdateInfo.fullSupport; without UpdateInfo, only rounds the wrapper did not force), since
 * a forced baseline has no importance weight for the other arms. If the legal mask excludes
 * the baseline arm, the kernel's bounds win and the inner policy chooses. The bounds pool
 * rewards over contexts, which is exact for context-free rewards and an approximation when
 * the baseline's reward depends on the context.
 */
import { checkArm, checkContext, checkLegal, checkReward } from './common.js';
import { openSnapshot } from './contextual/checks.js';
import { fromPlain, toPlain } from './linalg.js';
import type { Decision, LegalMask, Policy, PolicySnapshot, UpdateInfo } from './types.js';
import { PolicyArgumentError } from './types.js';

export interface ConservativeOptions {
  /** Allowed fractional loss against the baseline, in [0, 1). */
  alpha: number;
  /** Baseline arm index. */
  baseline: number;
  /** Known mean reward of the baseline arm, or null to estimate it from its plays. */
  baselineReward: number | null;
  /** Total failure probability of the confidence bounds, in (0, 1). */
  delta: number;
  /** Rewards lie in [rewardMin, rewardMax]; rewardMin >= 0. */
  rewardMin: number;
  rewardMax: number;
}

const VERSION = 1;

export class ConservativePolicy implements Policy {
  readonly kind = 'conservative';
  readonly learnsFrom = 'any';
  readonly k: number;
  readonly d: number;
  readonly inner: Policy;
  private readonly opts: ConservativeOptions;
  /** delta for each of the K + 1 confidence bounds. */
  private readonly deltaEach: number;
  private rounds = 0;
  private baselinePlays = 0;
  private baselineSum = 0;
  private otherPlays = 0;
  private otherSum = 0;
  private readonly armPlays: Float64Array;
  private readonly armSums: Float64Array;
  /** Whether the latest select() forced the baseline (for updates without UpdateInfo). */
  private lastForced = false;
  /** Plays the inner policy could not learn from (forced plays for EXP3). */
  innerSkipped = 0;

  constructor(inner: Policy, opts: ConservativeOptions) {
    const { alpha, baseline, baselineReward, delta, rewardMin, rewardMax } = opts;
    if (!(alpha >= 0 && alpha < 1)) {
      throw new PolicyArgumentError(`parameter "alpha" must lie in [0, 1), got ${String(alpha)}`);
    }
    if (!Number.isInteger(baseline) || baseline < 0 || baseline >= inner.k) {
      throw new PolicyArgumentError(
        `parameter "baseline" must be an arm index 0..${inner.k - 1}, got ${String(baseline)}`,
      );
    }
    if (!(delta > 0 && delta < 1)) {
      throw new PolicyArgumentError(`parameter "delta" must lie in (0, 1), got ${String(delta)}`);
    }
    if (!(
      Number.isFinite(rewardMin) &&
      Number.isFinite(rewardMax) &&
      rewardMin >= 0 &&
      rewardMax > rewardMin
    )) {
      throw new PolicyArgumentError(
        `parameters "reward_min" and "reward_max" must satisfy 0 <= reward_min < reward_max, got ${String(rewardMin)} and ${String(rewardMax)}`,
      );
    }
    if (baselineReward !== null && !(baselineReward >= rewardMin && baselineReward <= rewardMax)) {
      throw new PolicyArgumentError(
        `parameter "baseline_reward" must lie in [reward_min, reward_max] = [${rewardMin}, ${rewardMax}], got ${String(baselineReward)}`,
      );
    }
    this.inner = inner;
    this.k = inner.k;
    this.d = inner.d;
    this.opts = { ...opts };
    this.deltaEach = delta / (inner.k + 1);
    this.armPlays = new Float64Array(inner.k);
    this.armSums = new Float64Array(inner.k);
  }

  /** Anytime width for a sum of n rewards (Azuma-Hoeffding, union over n). */
  private sumWidth(n: number): number {
    if (n === 0) return 0;
    const range = this.opts.rewardMax - this.opts.rewardMin;
    return (
      range * Math.sqrt((n / 2) * Math.log((Math.PI * Math.PI * n * n) / (6 * this.deltaEach)))
    );
  }

  private clip(v: number): number {
    return Math.min(this.opts.rewardMax, Math.max(this.opts.rewardMin, v));
  }

  private armLowerBound(arm: number): number {
    const n = this.armPlays[arm];
    if (n === 0) return this.opts.rewardMin;
    return this.clip((this.armSums[arm] - this.sumWidth(n)) / n);
  }

  /** Lower bound on the expected reward collected by non-baseline plays. */
  private collectedLowerBound(): number {
    return Math.max(
      this.otherPlays * this.opts.rewardMin,
      this.otherSum - this.sumWidth(this.otherPlays),
    );
  }

  /** c * m_0 with m_0 the pessimistic bound of the baseline mean for the sign of c. */
  private baselineTerm(c: number): number {
    const known = this.opts.baselineReward;
    if (known !== null) return c * known;
    const n = this.baselinePlays;
    let lo = this.opts.rewardMin;
    let hi = this.opts.rewardMax;
    if (n > 0) {
      const mean = this.baselineSum / n;
      const w = this.sumWidth(n) / n;
      lo = this.clip(mean - w);
      hi = this.clip(mean + w);
    }
    return c * (c >= 0 ? lo : hi);
  }

  /**
   * Budget left: the lower bound of the expected reward so far minus (1 - alpha) times the
   * baseline's, in reward units. Exploring is allowed while this covers one worst-case
   * round (see the file comment).
   */
  budgetLeft(): number {
    const c = this.baselinePlays - (1 - this.opts.alpha) * this.rounds;
    return this.collectedLowerBound() + this.baselineTerm(c);
  }

  /** True if the inner policy may choose in the next round given this legal mask. */
  mayExplore(legal?: LegalMask): boolean {
    const mask = checkLegal(legal, this.k);
    let candidate = Infinity;
    for (let a = 0; a < this.k; a++) {
      if (a === this.opts.baseline || (mask !== undefined && !mask[a])) continue;
      candidate = Math.min(candidate, this.armLowerBound(a));
    }
    if (candidate === Infinity) return true; // only the baseline is legal
    const c = this.baselinePlays - (1 - this.opts.alpha) * (this.rounds + 1);
    return this.collectedLowerBound() + candidate + this.baselineTerm(c) >= 0;
  }

  select(context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const baselineLegal = legal === undefined || Boolean(legal[this.opts.baseline]);
    if (baselineLegal && !this.mayExplore(legal)) {
      if (this.d > 0) checkContext(context, this.d);
      this.lastForced = true;
      return { arm: this.opts.baseline, propensity: 1, forced: true };
    }
    this.lastForced = false;
    return this.inner.select(context, legal);
  }

  update(
    arm: number,
    reward: number,
    context?: ArrayLike<number>,
    nextContext?: ArrayLike<number>,
    info?: UpdateInfo,
  ): void {
    checkArm(arm, this.k);
    checkReward(reward);
    if (reward < this.opts.rewardMin || reward > this.opts.rewardMax) {
      throw new PolicyArgumentError(
        `reward ${reward} is outside [reward_min, reward_max] = [${this.opts.rewardMin}, ${this.opts.rewardMax}]; widen the range or rescale rewards`,
      );
    }
    const innerLearns =
      this.inner.learnsFrom === 'any' || (info !== undefined ? info.fullSupport : !this.lastForced);
    if (innerLearns) this.inner.update(arm, reward, context, nextContext, info);
    else this.innerSkipped++;
    this.rounds++;
    this.armPlays[arm]++;
    this.armSums[arm] += reward;
    if (arm === this.opts.baseline) {
      this.baselinePlays++;
      this.baselineSum += reward;
    } else {
      this.otherPlays++;
      this.otherSum += reward;
    }
  }

  snapshot(): PolicySnapshot {
    const inner = this.inner.snapshot();
    return {
      kind: this.kind,
      version: VERSION,
      params: { ...this.opts },
      state: {
        rounds: this.rounds,
        baselinePlays: this.baselinePlays,
        baselineSum: this.baselineSum,
        otherPlays: this.otherPlays,
        otherSum: this.otherSum,
        armPlays: toPlain(this.armPlays),
        armSums: toPlain(this.armSums),
        lastForced: this.lastForced,
        innerSkipped: this.innerSkipped,
        inner,
      },
      // The wrapper draws no random numbers; this mirrors the inner policy's Rng.
      rng: inner.rng,
    };
  }

  /** Rebuilds the wrapper; `restoreInner` rebuilds the inner policy from its snapshot. */
  static restore(
    snapshot: PolicySnapshot,
    restoreInner: (inner: PolicySnapshot) => Policy,
  ): ConservativePolicy {
    const { params, state } = openSnapshot(snapshot, 'conservative', VERSION);
    const p = new ConservativePolicy(
      restoreInner(state.inner as PolicySnapshot),
      params as unknown as ConservativeOptions,
    );
    const num = (name: string): number => {
      const v = state[name];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new PolicyArgumentError(`snapshot field "${name}" must be a finite number`);
      }
      return v;
    };
    p.rounds = num('rounds');
    p.baselinePlays = num('baselinePlays');
    p.baselineSum = num('baselineSum');
    p.otherPlays = num('otherPlays');
    p.otherSum = num('otherSum');
    p.armPlays.set(fromPlain(state.armPlays, p.k, 'armPlays'));
    p.armSums.set(fromPlain(state.armSums, p.k, 'armSums'));
    // Added after version 1 was released: older snapshots lack them.
    p.lastForced = state.lastForced === true;
    p.innerSkipped = typeof state.innerSkipped === 'number' ? num('innerSkipped') : 0;
    return p;
  }
}
