/**
 * Shared machinery of the tabular RL policies (Q-learning, SARSA): a Q table over
 * discretised states (rows created on first write, unvisited states read as `init`),
 * epsilon-greedy selection with exact propensities and legal masks, and snapshots.
 */
import {
  checkArm,
  checkArmCount,
  checkContextDim,
  checkLegal,
  checkNumber,
  checkReward,
} from '../common.js';
import { epsilonGreedy, epsilonGreedyMean } from '../distribution.js';
import { Rng } from '../rng.js';
import type { Decision, LegalMask, PolicyParams, PolicyShape, PolicySnapshot } from '../types.js';
import { readNumbers, requireConsistent, type Fields } from '../snapshot.js';
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

/** The parameters of both tabular policies, with their defaults. */
export const TABULAR_DEFAULTS: PolicyParams = {
  bins: 4,
  lo: 0,
  hi: 1,
  edges: '',
  alpha: 0.1,
  gamma: 0.9,
  epsilon: 0.1,
  init: 0,
};

/** The options of a tabular policy from its spec parameters (the constructor checks them). */
export function tabularOptions(shape: PolicyShape, p: PolicyParams): TabularOptions {
  return {
    k: shape.k,
    d: shape.d,
    seed: shape.seed,
    bins: p.bins as number,
    lo: p.lo as number,
    hi: p.hi as number,
    edges: p.edges as string | number,
    alpha: p.alpha as number,
    gamma: p.gamma as number,
    epsilon: p.epsilon as number,
    init: p.init as number,
  };
}

/** Checks the options of a tabular policy (the discretisation's are the Discretiser's). */
function checkTabularOptions(opts: TabularOptions): void {
  checkArmCount(opts.k);
  checkContextDim(opts.d);
  checkNumber('alpha', opts.alpha, { min: 0, exclusiveMin: true, max: 1 });
  checkNumber('gamma', opts.gamma, { min: 0, max: 1 });
  checkNumber('epsilon', opts.epsilon, { min: 0, max: 1 });
  checkNumber('init', opts.init);
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
    return epsilonGreedyMean(this.qValues(state), this.opts.epsilon);
  }

  /** Moves Q(state, arm) towards target by the learning rate. */
  protected learn(state: number, arm: number, target: number): void {
    const r = this.row(state);
    r[arm] += this.opts.alpha * (target - r[arm]);
  }

  /** Epsilon-greedy choice at a state with its exact propensity and distribution. */
  protected chooseAt(state: number, legal: LegalMask | undefined): Decision {
    const mask = checkLegal(legal, this.k);
    return epsilonGreedy(this.qValues(state), this.opts.epsilon, mask, this.k, this.rng);
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

  protected loadTable(state: Fields): void {
    const rows = state.q;
    const kind = this.kind;
    requireConsistent(Array.isArray(rows), kind, 'state.q must be an array');
    (rows as unknown[]).forEach((entry, i) => {
      requireConsistent(
        Array.isArray(entry) && entry.length === 2 && Number.isInteger(entry[0]),
        kind,
        `state.q[${i}] must be a [state, values] pair`,
      );
      const [s, values] = entry as [number, unknown];
      requireConsistent(
        s >= 0 && s < this.discretiser.states,
        kind,
        `state.q[${i}]: state ${s} is outside the discretisation`,
      );
      this.q.set(s, readNumbers(values, this.k, kind, `state.q[${i}][1]`));
    });
  }
}
