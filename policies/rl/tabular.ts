/**
 * Shared machinery of the tabular RL policies (Q-learning, SARSA): a Q table over
 * discretised states (rows created on first write, unvisited states read as `init`),
 * epsilon-greedy selection with exact propensities and legal masks, and snapshots.
 */
import { argmaxLegal, checkArm, checkArmCount, checkLegal, checkReward } from '../common.js';
import { mixUniform } from '../distribution.js';
import { fromPlain } from '../linalg.js';
import { Rng } from '../rng.js';
import type { Decision, LegalMask, PolicySnapshot } from '../types.js';
import { PolicyArgumentError } from '../types.js';
import { checkContextDim, openSnapshot } from '../contextual/checks.js';
import { Discretiser } from './discretiser.js';
import type { DiscretiserOptions } from './discretiser.js';

export interface TabularOptions extends DiscretiserOptions {
  k: number;
  seed: number;
  /** Learning rate in (0, 1]. */
  alpha: number;
  /** Discount factor in [0, 1]. */
  gamma: number;
  /** Exploration probability in [0, 1]. */
  epsilon: number;
  /** Initial Q value of every state-action pair. */
  init: number;
}

export function checkTabularOptions(opts: TabularOptions): void {
  checkArmCount(opts.k);
  checkContextDim(opts.d);
  const inRange = (name: string, v: number, lo: number, hi: number, openLo = false) => {
    if (typeof v !== 'number' || !(openLo ? v > lo : v >= lo) || !(v <= hi)) {
      throw new PolicyArgumentError(
        `parameter "${name}" must lie in ${openLo ? '(' : '['}${lo}, ${hi}], got ${String(v)}`,
      );
    }
  };
  inRange('alpha', opts.alpha, 0, 1, true);
  inRange('gamma', opts.gamma, 0, 1);
  inRange('epsilon', opts.epsilon, 0, 1);
  if (typeof opts.init !== 'number' || !Number.isFinite(opts.init)) {
    throw new PolicyArgumentError(
      `parameter "init" must be a finite number, got ${String(opts.init)}`,
    );
  }
}

export abstract class TabularPolicy {
  abstract readonly kind: string;
  /** One-step targets for the played (state, arm) pair: valid whoever chose the arm. */
  readonly learnsFrom = 'any';
  readonly k: number;
  readonly d: number;
  protected readonly opts: TabularOptions;
  protected readonly discretiser: Discretiser;
  protected readonly rng: Rng;
  private readonly q = new Map<number, Float64Array>();
  private readonly initRow: Float64Array;

  constructor(opts: TabularOptions, rng?: Rng) {
    checkTabularOptions(opts);
    this.opts = { ...opts };
    this.k = opts.k;
    this.d = opts.d;
    this.discretiser = new Discretiser(opts);
    this.rng = rng ?? new Rng(opts.seed);
    this.initRow = new Float64Array(opts.k).fill(opts.init);
  }

  /** Q values of a state (read-only view; the init row for unvisited states). */
  qValues(state: number): Float64Array {
    return this.q.get(state) ?? this.initRow;
  }

  /** The discretised state of a context. */
  stateOf(context: ArrayLike<number> | undefined): number {
    return this.discretiser.state(context);
  }

  protected row(state: number): Float64Array {
    let r = this.q.get(state);
    if (!r) {
      r = this.initRow.slice();
      this.q.set(state, r);
    }
    return r;
  }

  protected maxQ(state: number): number {
    const r = this.qValues(state);
    let m = r[0];
    for (let a = 1; a < this.k; a++) if (r[a] > m) m = r[a];
    return m;
  }

  /** Expected Q(state, .) under the epsilon-greedy policy with every arm legal. */
  protected expectedQ(state: number): number {
    const r = this.qValues(state);
    const greedy = argmaxLegal(r, undefined);
    const eps = this.opts.epsilon;
    let sum = 0;
    for (let a = 0; a < this.k; a++) sum += r[a];
    return (1 - eps) * r[greedy] + (eps * sum) / this.k;
  }

  /** Moves Q(state, arm) towards target by the learning rate. */
  protected learn(state: number, arm: number, target: number): void {
    const r = this.row(state);
    r[arm] += this.opts.alpha * (target - r[arm]);
  }

  /** Epsilon-greedy choice at a state with its exact propensity and distribution. */
  protected chooseAt(state: number, legal: LegalMask | undefined): Decision {
    const mask = checkLegal(legal, this.k);
    const greedy = argmaxLegal(this.qValues(state), mask);
    return mixUniform(greedy, undefined, this.opts.epsilon, mask, this.k, this.rng);
  }

  protected checkUpdate(arm: number, reward: number): void {
    checkArm(arm, this.k);
    checkReward(reward);
  }

  protected tableState(): { q: [number, number[]][] } {
    return { q: [...this.q].map(([s, r]) => [s, Array.from(r)]) };
  }

  protected snapshotWith(version: number, extra: Record<string, unknown>): PolicySnapshot {
    return {
      kind: this.kind,
      version,
      params: { ...this.opts },
      state: { ...this.tableState(), ...extra },
      rng: this.rng.state(),
    };
  }

  protected loadTable(state: Record<string, unknown>): void {
    const rows = state.q;
    if (!Array.isArray(rows)) throw new PolicyArgumentError('snapshot field "q" must be an array');
    for (const entry of rows as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 2 || !Number.isInteger(entry[0])) {
        throw new PolicyArgumentError('snapshot field "q" must hold [state, values] pairs');
      }
      const s = entry[0] as number;
      if (s < 0 || s >= this.discretiser.states) {
        throw new PolicyArgumentError(`snapshot state ${s} is outside the discretisation`);
      }
      this.q.set(s, fromPlain(entry[1], this.k, 'q'));
    }
  }
}

/** Opens a tabular snapshot and returns its options and state. */
export function openTabularSnapshot(
  snapshot: PolicySnapshot,
  kind: string,
  version: number,
): { opts: TabularOptions; state: Record<string, unknown>; rng: Rng } {
  const { params, state } = openSnapshot(snapshot, kind, version);
  return { opts: params as unknown as TabularOptions, state, rng: Rng.fromState(snapshot.rng) };
}
