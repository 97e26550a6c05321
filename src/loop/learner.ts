/**
 * The learner of one subsystem: state -> features -> policy decision within the legal
 * knob set -> safety check -> recommendation; feedback -> reward -> policy update.
 *
 * It decides at most once per kernel epoch, and by default only when the kernel says
 * the next window is an advice window (state.nextAdvice): a recommendation for a
 * baseline window would only be SHADOWED, teaching nothing. While the kernel reports
 * EMERGENCY it submits nothing. Only windows in which the advice ran (feedback.applied)
 * and that the kernel could measure (not idle, not unreliable) reward the policy, on the
 * arm of the knobs that actually ran, against the baseline windows before and after them
 * (pairing.ts): the reward waits for the next measured baseline window. Shadowed,
 * rejected, expired and unmeasured decisions are logged without a policy update. What
 * the policy sees, its arms and the reward's shape follow the subsystem's profile
 * (profiles.ts); after an idle window it keeps the last context it saw.
 *
 * Exploration: the policy's decision goes through a uniform mix (policies/distribution.ts
 * UniformExploration, settings.exploration = epsilon): with probability epsilon a uniformly
 * drawn legal arm is played instead, and the propensity sent and logged is the exact one of
 * the mix, (1 - epsilon) pi(a|x) + epsilon / L. Decisions the mix cannot treat exactly pass
 * unchanged: the conservative wrapper's forced baseline, and policies whose distribution has
 * no closed form (Thompson sampling randomises on its own, with estimated propensities).
 * The decision record carries the whole distribution when it is known, and `forced` when
 * the wrapper imposed the baseline (the policy did not choose: off-policy evaluation only
 * trains on such decisions, as on the safety fallback's).
 *
 * Each update carries UpdateInfo: the propensity of the arm and whether its distribution
 * gave every legal arm a chance (false for the safety fallback, a reference probe, an
 * overridden choice, or a kernel clamp that ran another arm). A policy that learns only
 * through importance weights (Policy.learnsFrom, EXP3) is not updated with plays lacking
 * full support; the conservative wrapper applies the same rule inside.
 */
import {
  UniformExploration,
  distributionOf,
  hasFullSupport,
  pointMass,
} from '../../policies/distribution.js';
import { restorePolicy } from '../../policies/registry.js';
import { deriveSeed } from '../../policies/rng.js';
import type { RngState } from '../../policies/rng.js';
import type { Policy, PolicySnapshot, UpdateInfo } from '../../policies/types.js';
import type { DecisionRecord, RewardRecord } from '../decisionlog/record.js';
import { DECISION_LOG_VERSION } from '../decisionlog/record.js';
import type {
  Feedback,
  MlpDevice,
  ModeValue,
  StateSnapshot,
  SubsystemInfo,
} from '../transport/device.js';
import { MODE_NAMES, Mode, VERDICT_NAMES, Verdict } from '../transport/device.js';
import { REASON_IDLE } from '../abi/constants.js';
import { adoptedPolicy } from './adopt.js';
import { ArmGrid } from './arms.js';
import { contextDimension, contextOf, rewardFrom, rewardOf } from './features.js';
import type { AdoptionOutcome } from './hooks.js';
import { WindowPairing, measured } from './pairing.js';
import type { PairingResult, SameWorkload } from './pairing.js';
import { baselineArmIsExact, profileFor } from './profiles.js';
import type { Profile } from './profiles.js';
import { buildPolicy, budgetOf } from './policyspec.js';
import type { ConservativeSettings } from './policyspec.js';
import { SafetyLayer, nearestLegal } from './safety.js';
import type { SafetyOptions, SafetyState } from './safety.js';

export interface LearnerSettings {
  /** Policy spec, e.g. "linucb:alpha=1". */
  policy: string;
  /** Conservative wrapper settings, or null to run the policy bare. */
  conservative: ConservativeSettings | null;
  /** Uniform exploration rate mixed into the policy's decisions, in [0, 1]. */
  exploration: number;
  seed: number;
  maxArms: number;
  safety: SafetyOptions;
  /** Submit only when the next window is an advice window (default true). */
  adviceWindowsOnly: boolean;
  /** Recommendation time to live, ms (0 = the module's default). */
  ttlMs: number;
  /** Send a heartbeat when nothing else refreshed control for this long (device time). */
  heartbeatMs: number;
}

/** Where a learner reports what it did; the daemon logs, counts and exports it. */
export interface LearnerSink {
  decision(learner: SubsystemLearner, record: DecisionRecord): void;
  reward(learner: SubsystemLearner, record: RewardRecord, updated: boolean): void;
  event(learner: SubsystemLearner, message: string, fields?: Record<string, unknown>): void;
}

export interface LearnerStats {
  decisions: number;
  /** Decisions made by the safety layer (baseline after a collapse). */
  fallbackDecisions: number;
  verdicts: Record<string, number>;
  /** Windows seen in feedback. */
  windows: number;
  /** Windows in which advice ran. */
  appliedWindows: number;
  /** Applied windows whose efficiency was below the baseline reference. */
  belowBaseline: number;
  /** Policy updates, and the sum of their rewards. */
  updates: number;
  rewardSum: number;
  /** Applied windows not given to the policy: it cannot learn from a forced play (EXP3). */
  skippedUpdates: number;
  /** Epochs skipped because the kernel was in EMERGENCY. */
  emergencySkips: number;
  /** Advice windows not advised because the window before them was idle (nothing to learn). */
  idleSkips?: number;
  /** Decisions whose feedback never came (ring overflow, module reload). */
  lostFeedback: number;
  /** Advice windows the kernel could not measure (idle, unreliable): no update. */
  unmeasured?: number;
  /** Measured advice windows without baseline windows close enough to pair them: no update. */
  unpaired?: number;
}

export interface LearnerCheckpoint {
  name: string;
  signature: string;
  policyLabel: string;
  policy: PolicySnapshot;
  modelVersion: number;
  stats: LearnerStats;
  safety: SafetyState;
  /** Rng of the exploration mix (absent in checkpoints of older versions). */
  exploration?: RngState;
}

interface Pending {
  id: string;
  arm: number;
  /** Probability of `arm` under the distribution it was played from, and its support. */
  propensity: number;
  fullSupport: boolean;
  context: Float64Array;
  targetEpoch: number;
  fallback: boolean;
  /** A reference probe: the baseline arm played to measure the baseline of a new workload. */
  probe?: boolean;
}

/** Rng stream of the exploration mix, derived from the learner's seed. */
const EXPLORATION_STREAM = 0x6578;

function emptyStats(): LearnerStats {
  return {
    decisions: 0,
    fallbackDecisions: 0,
    verdicts: {},
    windows: 0,
    appliedWindows: 0,
    belowBaseline: 0,
    updates: 0,
    rewardSum: 0,
    skippedUpdates: 0,
    emergencySkips: 0,
    lostFeedback: 0,
  };
}

export class SubsystemLearner {
  readonly name: string;
  /** Kernel id; may change when the module is reloaded. */
  id: number;
  readonly grid: ArmGrid;
  readonly d: number;
  readonly profile: Profile;
  policy: Policy;
  policyLabel: string;
  readonly safety: SafetyLayer;
  readonly exploration: UniformExploration;
  stats: LearnerStats = emptyStats();
  /** Policy updates so far: the model version sent with each recommendation. */
  modelVersion = 0;
  mode: ModeValue = Mode.Emergency;
  private lastDecidedEpoch = -1;
  private lastRefreshNs = -Infinity;
  private lastAdvised: number[];
  private readonly pending = new Map<number, Pending>();
  /** Applied, measured advice windows waiting for the baseline window after them, by epoch. */
  private readonly awaiting = new Map<number, Pending>();
  private readonly pairing = new WindowPairing();
  private lastIdleEpoch = -1;
  /** Idle feedback records in a row (0 after a measured or unreliable window). */
  idleRun = 0;
  /** The context each recent window ran in (from the state of the window after it). */
  private readonly ranIn = new Map<number, Float64Array>();
  private lastEpochSeen = 0;
  /** The window a reference probe targets (none pending when it is past). */
  private probeTarget = -1;
  private context: Float64Array;
  /** The state of the window in progress from the newest feedback record (ABI 1.1). */
  private nextState: StateSnapshot | null = null;

  constructor(
    readonly info: SubsystemInfo,
    public settings: LearnerSettings,
    private readonly sink: LearnerSink,
    private readonly runId: string,
  ) {
    this.name = info.name;
    this.id = info.id;
    this.profile = profileFor(info);
    this.grid = new ArmGrid(info.knobs, settings.maxArms, this.profile.values);
    this.d = contextDimension(info, this.profile);
    this.context = new Float64Array(this.d);
    this.lastAdvised = info.knobs.map((k) => k.def);
    this.safety = new SafetyLayer(settings.safety);
    this.exploration = UniformExploration.seeded(
      settings.exploration,
      deriveSeed(settings.seed, EXPLORATION_STREAM),
    );
    const built = this.newPolicy(settings);
    this.policy = built.policy;
    this.policyLabel = built.label;
  }

  private newPolicy(settings: LearnerSettings): { policy: Policy; label: string } {
    return buildPolicy(settings.policy, settings.conservative, {
      k: this.grid.k,
      d: this.d,
      seed: settings.seed,
      baselineArm: this.grid.baselineArm,
    });
  }

  /** Applies new settings (config reload); a changed policy spec starts a new policy. */
  reconfigure(settings: LearnerSettings): void {
    const { label } = this.newPolicy(settings);
    this.settings = settings;
    this.safety.options = settings.safety;
    this.exploration.epsilon = settings.exploration;
    if (label !== this.policyLabel) {
      const built = this.newPolicy(settings);
      this.sink.event(
        this,
        `policy changed from ${this.policyLabel} to ${built.label}: learning restarts`,
      );
      this.policy = built.policy;
      this.policyLabel = built.label;
      this.modelVersion = 0;
    }
  }

  /** Claims control of the subsystem and forgets decisions of an earlier device handle. */
  attach(device: MlpDevice, id: number): void {
    this.id = id;
    this.stats.lostFeedback += this.pending.size + this.awaiting.size;
    this.pending.clear();
    this.awaiting.clear();
    this.pairing.reset();
    this.lastIdleEpoch = -1;
    this.idleRun = 0;
    this.ranIn.clear();
    this.lastDecidedEpoch = -1;
    this.lastRefreshNs = -Infinity;
    this.lastAdvised = this.info.knobs.map((k) => k.def);
    this.nextState = null;
    device.claim(id);
  }

  /** Exploration budget left (conservative wrapper), if any. */
  budgetLeft(): number | undefined {
    return budgetOf(this.policy);
  }

  /**
   * One look at the kernel: decides and submits when a new epoch allows it, else keeps
   * the claim alive. Returns true when a recommendation was submitted.
   */
  step(device: MlpDevice): boolean {
    // One decision, one system call: the newest feedback record carries the state of
    // the window in progress; GET_STATE only when there is none.
    const state = this.nextState ?? device.getState(this.id);
    this.nextState = null;
    this.mode = state.mode;
    // The state's features describe the window that just ended; an idle one says nothing.
    if (this.lastIdleEpoch !== state.epoch - 1) {
      contextOf(this.info, state, this.profile, this.context);
      if (this.profile.features && state.epoch > 0 && !this.ranIn.has(state.epoch - 1)) {
        this.ranIn.set(state.epoch - 1, Float64Array.from(this.context));
        // Oldest first (epochs are added in increasing order): stop at the first kept one.
        for (const e of this.ranIn.keys()) {
          if (e >= state.epoch - 256) break;
          this.ranIn.delete(e);
        }
      }
    }
    this.lastEpochSeen = Math.max(this.lastEpochSeen, state.epoch);
    this.applyPairs(this.pairing.resolve(this.profile.features ? this.sameWorkload : undefined));
    const refreshDue = state.timeNs - this.lastRefreshNs >= this.settings.heartbeatMs * 1e6;
    if (state.epoch <= this.lastDecidedEpoch) {
      if (refreshDue) this.heartbeat(device, state.timeNs);
      return false;
    }
    this.lastDecidedEpoch = state.epoch;
    if (state.mode === Mode.Emergency) {
      this.stats.emergencySkips++;
      if (refreshDue) this.heartbeat(device, state.timeNs);
      return false;
    }
    if (this.settings.adviceWindowsOnly && !state.nextAdvice) {
      if (refreshDue) this.heartbeat(device, state.timeNs);
      return false;
    }
    // After an idle window the next one most likely is idle too: advice there would be
    // logged, unmeasured and teach nothing, and deciding is most of an idle daemon's
    // work. The kernel runs its baseline there; the first window of a new workload is
    // then a measured baseline window, and the advice follows in the window after it.
    if (this.lastIdleEpoch === state.epoch - 1) {
      this.stats.idleSkips = (this.stats.idleSkips ?? 0) + 1;
      if (refreshDue) this.heartbeat(device, state.timeNs);
      return false;
    }

    const fallback = this.safety.inFallback;
    // Going back to the baseline is never limited by the user-space maxStep, only by the
    // kernel's max_delta (which would clamp anyway).
    const legal = this.grid.legalMask(
      this.lastAdvised,
      fallback ? 0 : this.settings.safety.maxStep,
    );
    const k = this.grid.k;
    let arm: number;
    let propensity: number;
    let distribution: Float64Array | undefined;
    let policyLabel: string;
    let forced = false;
    const probe = !fallback && legal[this.grid.baselineArm] === 1 && this.probeDue(state);
    if (fallback) {
      this.safety.consumeFallback();
      arm = nearestLegal(this.grid.baselineArm, legal);
      propensity = 1;
      distribution = pointMass(k, arm);
      policyLabel = 'safety:baseline';
    } else if (probe) {
      arm = this.grid.baselineArm;
      propensity = 1;
      distribution = pointMass(k, arm);
      policyLabel = 'reference';
      this.probeTarget = state.epoch + 1;
    } else {
      const d = this.exploration.decide(this.policy.select(this.context, legal), legal, k);
      const checked = this.safety.checkChoice(
        d.arm,
        legal,
        nearestLegal(this.grid.baselineArm, legal),
      );
      if (checked !== d.arm) {
        this.sink.event(this, `policy chose illegal arm ${d.arm}; played ${checked} instead`);
        arm = checked;
        propensity = 1;
        distribution = pointMass(k, arm);
      } else {
        arm = d.arm;
        propensity = d.propensity;
        distribution = distributionOf(d, k);
        forced = d.forced === true;
      }
      policyLabel = this.policyLabel;
    }
    const fullSupport = hasFullSupport(distribution, legal);
    const knobs = this.grid.arms[arm];
    const res = device.recommend({
      subsysId: this.id,
      epoch: state.epoch,
      modelVersion: this.modelVersion,
      propensity,
      knobs,
      ttlMs: this.settings.ttlMs,
    });
    this.lastRefreshNs = state.timeNs;
    const verdict = VERDICT_NAMES[res.verdict] ?? String(res.verdict);
    if (res.verdict === Verdict.Applied || res.verdict === Verdict.Clamped) {
      this.lastAdvised = res.applied.slice();
    }
    this.stats.decisions++;
    if (fallback) this.stats.fallbackDecisions++;
    this.stats.verdicts[verdict] = (this.stats.verdicts[verdict] ?? 0) + 1;
    const id = `${this.runId}:${this.name}:${res.recId}`;
    const context = Float64Array.from(this.context);
    this.pending.set(res.recId, {
      id,
      arm,
      propensity,
      fullSupport,
      context,
      targetEpoch: res.targetEpoch,
      fallback,
      probe,
    });
    this.sink.decision(this, {
      v: DECISION_LOG_VERSION,
      type: 'decision',
      id,
      time: new Date().toISOString(),
      subsystem: this.name,
      epoch: state.epoch,
      context: Array.from(context),
      k: this.grid.k,
      arm,
      knobs: knobs.slice(),
      propensity,
      ...(distribution !== undefined ? { distribution: Array.from(distribution) } : {}),
      legal: Array.from(legal),
      policy: policyLabel,
      policyVersion: this.modelVersion,
      ...(forced ? { forced: true as const } : {}),
      verdict,
    });
    return true;
  }

  private heartbeat(device: MlpDevice, nowNs: number): void {
    device.heartbeat(this.id);
    this.lastRefreshNs = nowNs;
  }

  /** Takes one feedback record of this subsystem. */
  onFeedback(fb: Feedback): void {
    this.stats.windows++;
    this.mode = fb.mode;
    if (fb.next) this.nextState = fb.next;
    if (fb.applied) {
      this.stats.appliedWindows++;
      if (fb.baselineEff > 0 && fb.eff < fb.baselineEff) this.stats.belowBaseline++;
    }
    for (const [recId, p] of this.pending) {
      if (p.targetEpoch < fb.epoch) {
        this.pending.delete(recId);
        this.stats.lostFeedback++;
      }
    }
    if (!measured(fb) && (fb.reasons & REASON_IDLE) !== 0) {
      this.lastIdleEpoch = fb.epoch;
      this.idleRun++;
    } else {
      this.idleRun = 0;
    }
    const p = fb.recId === 0 ? undefined : this.pending.get(fb.recId);
    if (p) this.pending.delete(fb.recId);
    const reference =
      !!p?.probe &&
      fb.applied &&
      this.grid.armOf(fb.knobs.slice(0, this.grid.knobs.length)) === this.grid.baselineArm;
    if (p && fb.applied && measured(fb) && !reference) {
      this.awaiting.set(fb.epoch, p);
    } else if (p && !reference) {
      // Shadowed, rejected, expired, or advice the kernel could not measure: logged, no update.
      if (fb.applied) this.stats.unmeasured = (this.stats.unmeasured ?? 0) + 1;
      const reward = rewardOf(fb.eff, fb.baselineEff);
      if (reward !== undefined) this.logReward(p, fb, reward, false);
    }
    this.pairing.take(fb, reference);
    if (!this.profile.features) this.applyPairs(this.pairing.resolve());
    for (const epoch of this.awaiting.keys()) {
      // Never paired (its records were lost): the baseline window after it is long past.
      if (epoch < fb.epoch - 64) {
        this.awaiting.delete(epoch);
        this.stats.lostFeedback++;
      }
    }
  }

  /**
   * Whether windows a and b ran the same workload, from the contexts they ran in (the
   * profile's features, within 0.15 of each other); undefined while one is not known yet.
   */
  private readonly sameWorkload: SameWorkload | undefined = (a, b) => {
    const ca = this.ranIn.get(a);
    const cb = this.ranIn.get(b);
    if (!ca || !cb) return Math.max(a, b) >= this.lastEpochSeen - 3 ? undefined : false;
    return !this.differs(ca, cb);
  };

  /** Whether two contexts are of different workloads: a feature 0.15 or more apart (the bias aside). */
  private differs(a: Float64Array, b: Float64Array): boolean {
    for (let i = 0; i < a.length - 1; i++) if (Math.abs(a[i] - b[i]) > 0.15) return true;
    return false;
  }

  /**
   * Whether to play the baseline arm once as a reference: the workload changed since the
   * last measured baseline window (its context differs from the current one), the baseline
   * arm runs the baseline exactly, and no probe is on its way. The advice windows of the
   * new workload are then rewarded against it a window later, instead of at the kernel's
   * next baseline window (in RECOMMENDATION up to check_period windows away).
   */
  private probeDue(state: StateSnapshot): boolean {
    if (!this.profile.features || state.epoch < this.probeTarget) return false;
    const base = this.ranIn.get(this.pairing.lastBase);
    if (!base || !baselineArmIsExact(this.info, state)) return false;
    return this.differs(base, this.context);
  }

  /** Rewards the policy for the advice windows paired with their baseline. */
  private applyPairs({ paired, unpaired }: PairingResult): void {
    for (const u of unpaired) {
      if (this.awaiting.delete(u.epoch)) this.stats.unpaired = (this.stats.unpaired ?? 0) + 1;
    }
    for (const x of paired) {
      const q = this.awaiting.get(x.fb.epoch);
      if (!q) continue;
      this.awaiting.delete(x.fb.epoch);
      const reward = rewardFrom(x.fb.eff, x.reference, this.profile.reward);
      if (reward === undefined) continue;
      const ranArm = this.grid.armOf(x.fb.knobs.slice(0, this.grid.knobs.length)) ?? q.arm;
      // With a profile's context (features measured over the window that ended, like
      // readahead's), the context the window ran in, when known: at a workload change the
      // decision's context is a window or two old. Else the decision's context.
      const ran = this.profile.features ? this.ranIn.get(x.fb.epoch) : undefined;
      // A clamp that ran another arm is a play the policy did not draw.
      const info: UpdateInfo =
        ranArm === q.arm
          ? { propensity: q.propensity, fullSupport: q.fullSupport }
          : { propensity: 1, fullSupport: false };
      let updated = false;
      if (this.policy.learnsFrom === 'any' || info.fullSupport) {
        this.policy.update(ranArm, reward, ran ?? q.context, this.context, info);
        this.modelVersion++;
        this.stats.updates++;
        this.stats.rewardSum += reward;
        updated = true;
      } else {
        this.stats.skippedUpdates++;
      }
      // The guard judges the policy's choices in the workload they were made for: a window
      // that ran in another context than its decision's (the workload changed in between:
      // the decision is made on the features of the window before last) is rewarded in the
      // context it ran in, but says nothing about the policy's safety.
      const judged = !q.fallback && (ran === undefined || !this.differs(q.context, ran));
      if (judged && this.safety.observe(x.fb.eff / x.reference)) {
        this.sink.event(
          this,
          `rewards collapsed (mean efficiency below ${this.safety.options.collapseRatio} x baseline over ${this.safety.options.collapseWindows} windows): playing the baseline for ${this.safety.options.fallbackDecisions} decisions`,
        );
      }
      this.logReward(q, x.fb, reward, updated, x.reference);
    }
  }

  private logReward(
    p: Pending,
    fb: Feedback,
    reward: number,
    updated: boolean,
    reference?: number,
  ): void {
    this.sink.reward(
      this,
      {
        v: DECISION_LOG_VERSION,
        type: 'reward',
        id: p.id,
        time: new Date().toISOString(),
        reward,
        applied: fb.applied,
        eff: fb.eff,
        baselineEff: reference ?? fb.baselineEff,
        verdict: VERDICT_NAMES[fb.verdict] ?? String(fb.verdict),
        knobs: fb.knobs.slice(0, this.grid.knobs.length),
      },
      updated,
    );
  }

  /**
   * Adopts a policy learned elsewhere (a fleet snapshot of the configured policy, checked
   * by adopt.ts) and asks the kernel to run it from LEARNING mode, so that it climbs the
   * ladder again on its own evidence. A mode the administrator pinned is left as it is;
   * EMERGENCY is left to the kernel, which recovers to LEARNING by itself.
   */
  adopt(snapshot: PolicySnapshot, device: MlpDevice): AdoptionOutcome {
    const shape = { k: this.grid.k, d: this.d, baselineArm: this.grid.baselineArm };
    const next = adoptedPolicy(this.policy, this.settings, shape, snapshot);
    if (typeof next === 'string') return { adopted: false, reason: next };
    const { mode: modeBefore, pinned } = device.getMode(this.id);
    let reason: string | undefined;
    if (pinned) {
      reason = `the kernel mode is pinned by the administrator (${MODE_NAMES[modeBefore]}); left as it is`;
    } else if (modeBefore > Mode.Learning) {
      try {
        device.setMode(this.id, Mode.Learning, false);
      } catch (err) {
        return { adopted: false, reason: `cannot set LEARNING mode: ${(err as Error).message}` };
      }
    }
    this.policy = next;
    this.mode = device.getMode(this.id).mode;
    return { adopted: true, reason, modeBefore, modeAfter: this.mode };
  }

  checkpoint(): LearnerCheckpoint {
    return {
      name: this.name,
      signature: this.grid.signature(),
      policyLabel: this.policyLabel,
      policy: this.policy.snapshot(),
      modelVersion: this.modelVersion,
      stats: structuredClone(this.stats),
      safety: this.safety.state(),
      exploration: this.exploration.state(),
    };
  }

  /**
   * Resumes from a checkpoint; returns why it was not used, or undefined when it was
   * (a different knob schema or policy spec starts afresh).
   */
  resume(cp: LearnerCheckpoint): string | undefined {
    if (cp.signature !== this.grid.signature()) {
      return `knob schema changed (${cp.signature} -> ${this.grid.signature()})`;
    }
    if (cp.policyLabel !== this.policyLabel) {
      return `policy changed (${cp.policyLabel} -> ${this.policyLabel})`;
    }
    const policy = restorePolicy(cp.policy);
    // Context-free policies have d = 0 whatever the feature count: compare with a fresh one.
    if (policy.k !== this.policy.k || policy.d !== this.policy.d) {
      return `policy shape changed (k ${policy.k}, d ${policy.d} -> k ${this.policy.k}, d ${this.policy.d})`;
    }
    this.policy = policy;
    this.modelVersion = cp.modelVersion;
    this.stats = { ...emptyStats(), ...structuredClone(cp.stats) };
    this.safety.restore(cp.safety);
    if (cp.exploration !== undefined) this.exploration.restore(cp.exploration);
    return undefined;
  }
}
