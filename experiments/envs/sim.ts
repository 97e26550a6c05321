/**
 * The simulated kernel subsystems as a bandit: the simulated device (IoctlDevice over
 * the fake kernel, src/transport/sim/fake-kernel.ts, so through the byte codec) on a
 * manual virtual clock with one subsystem, "synthetic" or "readahead", claimed and
 * pinned in recommendation mode, with the kernel's collapse guard off (collapsePct 0),
 * so that every advice runs: the environment measures the policy, not the mode ladder
 * (a collapse would otherwise drop the pin and run the defaults for a while).
 *
 * Arms are the knob grid (src/loop/arms.ts, as the daemon uses it; the baseline arm is
 * the knob default). A round is two kernel windows: the policy sees the normalised
 * features at the start of window w (src/loop/features.ts: tanh(raw/scale) plus a bias
 * 1), recommends for window w+1, and is paid what the daemon would be paid for that
 * window's feedback record: rewardFrom(eff, baselineEff) in the subsystem profile's
 * reward shape (src/loop/features.ts and profiles.ts, through reward.ts), the efficiency
 * against the kernel's baseline reference, 0.5 = as good as the baseline. Window w+2 then runs the defaults while the next decision is made, as
 * in the kernel's one-window-ahead protocol. Legal arms are those within the knob's
 * max_delta of the last advised value.
 *
 * Regret is on the same scale: the expected reward of an arm is that reward of the model's
 * noise-free efficiency of window w+1 under that arm against the kernel's baseline
 * reference as the decision is made (the model's noise-free baseline efficiency before
 * the first reference); regret = the best legal arm's minus that of the knobs that ran.
 */
import type { LegalMask } from '../../policies/types.js';
import { ArmGrid } from '../../src/loop/arms.js';
import { featureDimension, normaliseFeatures } from '../../src/loop/features.js';
import { Mode } from '../../src/transport/device.js';
import type { MlpDevice, SubsystemInfo } from '../../src/transport/device.js';
import { ReadaheadModel } from '../../src/transport/sim/readahead.js';
import { simDevice } from '../../src/transport/sim/fake-kernel.js';
import { SimKernel } from '../../src/transport/sim/kernel.js';
import { SyntheticModel } from '../../src/transport/sim/synthetic.js';
import { daemonReward } from './reward.js';
import type { BanditEnv, StepResult } from './types.js';
import { EnvArgumentError } from './types.js';

export interface SimParams {
  subsystem: 'synthetic' | 'readahead';
  /** Model seed; by default the run seed. */
  modelSeed?: number;
  /** synthetic only: windows per hidden phase (default 100). */
  period?: number;
}

type Model = SyntheticModel | ReadaheadModel;

export class SimEnv implements BanditEnv {
  readonly kind = 'sim';
  readonly rounds = undefined;
  readonly k: number;
  readonly d: number;
  readonly baselineArm: number;
  private readonly grid: ArmGrid;
  private readonly params: SimParams;
  private device: MlpDevice | undefined;
  private kernel: SimKernel | undefined;
  private model: Model | undefined;
  private info: SubsystemInfo | undefined;
  private readonly x: Float64Array;
  private legalMask: Uint8Array;
  private readonly means: Float64Array;
  private prepared = -1;
  private t = 0;
  private epoch = 0;
  /** Knob values of the last advice that ran (the kernel's max_delta reference). */
  private lastAdvised: number[] = [];
  private readonly result: StepResult = { reward: 0, regret: 0, vsBaseline: 0, optimal: false };

  constructor(p: SimParams) {
    if (p.subsystem !== 'synthetic' && p.subsystem !== 'readahead') {
      throw new EnvArgumentError(
        `subsystem must be "synthetic" or "readahead", got ${String(p.subsystem)}`,
      );
    }
    this.params = p;
    const probe = this.makeModel(0);
    this.grid = new ArmGrid(probe.knobs);
    this.k = this.grid.k;
    this.baselineArm = this.grid.baselineArm;
    this.d = featureDimension({
      id: 0,
      name: probe.name,
      windowMs: probe.windowMs,
      features: [...probe.features],
      knobs: [...probe.knobs],
    });
    this.x = new Float64Array(this.d);
    this.legalMask = new Uint8Array(this.k).fill(1);
    this.means = new Float64Array(this.k);
  }

  private makeModel(seed: number): Model {
    const s = (this.params.modelSeed ?? seed) >>> 0;
    return this.params.subsystem === 'synthetic'
      ? new SyntheticModel({
          seed: s,
          ...(this.params.period ? { period: this.params.period } : {}),
        })
      : new ReadaheadModel({ seed: s });
  }

  reset(seed: number): void {
    this.device?.close();
    this.model = this.makeModel(seed);
    this.kernel = new SimKernel({
      clock: 'manual',
      subsystems: [],
      models: [this.model],
      params: { collapsePct: 0 },
    });
    this.device = simDevice({ kernel: this.kernel, ownsKernel: true });
    this.info = this.device.listSubsystems()[0];
    this.device.claim(this.info.id);
    this.device.setMode(this.info.id, Mode.Recommendation, true);
    this.lastAdvised = this.info.knobs.map((kd) => kd.def);
    this.t = 0;
    this.prepared = -1;
  }

  private dev(): MlpDevice {
    if (!this.device)
      throw new EnvArgumentError('call reset(seed) before using the sim environment');
    return this.device;
  }

  /** Expected (noise-free) efficiency of `knobs` in window w, in the feedback's float unit. */
  private expected(w: number, knobs: readonly number[]): number {
    const m = this.model!;
    if (m instanceof SyntheticModel) return Math.max(0, m.eff(w, knobs[0]) - m.noise(w)) / 1e6;
    return ReadaheadModel.idealEff(m.workload(w), knobs[0]);
  }

  private ensure(): void {
    if (this.prepared === this.t) return;
    const dev = this.dev();
    const id = this.info!.id;
    const state = dev.getState(id);
    this.epoch = state.epoch;
    normaliseFeatures(this.info!, state, this.x);
    this.legalMask = this.grid.legalMask(this.lastAdvised, 0);
    const w = state.epoch + 1;
    // The kernel's reference as the decision is made (what window w+1 is paid against,
    // but for window w's own baseline measurement); before the first one, the model's.
    const reference =
      state.baselineEff > 0
        ? state.baselineEff
        : this.expected(w, this.grid.arms[this.baselineArm]);
    for (let a = 0; a < this.k; a++) {
      const eff = this.expected(w, this.grid.arms[a]);
      this.means[a] = daemonReward(this.info!, eff, reference, `window ${w} (expected)`);
    }
    this.prepared = this.t;
  }

  context(_t: number): Float64Array {
    this.ensure();
    return this.x;
  }

  legal(_t: number): LegalMask {
    this.ensure();
    return this.legalMask;
  }

  bestExpected(_t: number): number {
    this.ensure();
    let best = -Infinity;
    for (let a = 0; a < this.k; a++)
      if (this.legalMask[a] && this.means[a] > best) best = this.means[a];
    return best;
  }

  step(arm: number): StepResult {
    if (!Number.isInteger(arm) || arm < 0 || arm >= this.k) {
      throw new EnvArgumentError(`arm ${arm} is out of range 0..${this.k - 1}`);
    }
    this.ensure();
    const dev = this.dev();
    const id = this.info!.id;
    dev.heartbeat(id);
    const rec = dev.recommend({
      subsysId: id,
      epoch: this.epoch,
      modelVersion: 1,
      propensity: 1,
      knobs: this.grid.arms[arm],
    });
    this.lastAdvised = rec.applied;
    this.kernel!.advance(2);
    const feedback = dev.readFeedback().find((f) => f.epoch === this.epoch + 1);
    if (!feedback) throw new Error(`sim: no feedback for window ${this.epoch + 1}`);
    const ran = this.grid.armOf(feedback.knobs) ?? this.grid.nearestArm(feedback.knobs);
    const best = this.bestExpected(this.t);
    const r = this.result;
    r.reward = daemonReward(
      this.info!,
      feedback.eff,
      feedback.baselineEff,
      `window ${feedback.epoch}`,
    );
    r.regret = best - this.means[ran];
    r.vsBaseline = this.means[ran] - this.means[this.baselineArm];
    r.optimal = this.means[ran] >= best;
    this.t++;
    return r;
  }
}
