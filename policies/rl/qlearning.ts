/**
 * Tabular Q-learning (Watkins 1989) over discretised states, epsilon-greedy exploration.
 * update(arm, r, context, nextContext) applies Q(s,a) += alpha (r + gamma max_a' Q(s',a') - Q(s,a)),
 * the max over all arms (the next decision's legal mask is not known yet); an undefined
 * nextContext marks a terminal transition (target r).
 */
import type { Decision, LegalMask, Policy, PolicyFactory, PolicySnapshot } from '../types.js';
import type { Rng } from '../rng.js';
import { openSnapshot, withSnapshotParams } from '../snapshot.js';
import { TABULAR_DEFAULTS, TabularPolicy, tabularOptions } from './tabular.js';
import type { TabularOptions } from './tabular.js';

const VERSION = 1;

export class QLearning extends TabularPolicy implements Policy {
  readonly kind = 'qlearning';

  constructor(opts: TabularOptions, rng?: Rng) {
    super(opts, rng);
  }

  select(context?: ArrayLike<number>, legal?: LegalMask): Decision {
    return this.chooseAt(this.stateOf(context), legal);
  }

  update(
    arm: number,
    reward: number,
    context?: ArrayLike<number>,
    nextContext?: ArrayLike<number>,
  ): void {
    this.checkUpdate(arm, reward);
    const s = this.stateOf(context);
    const target =
      nextContext === undefined
        ? reward
        : reward + this.opts.gamma * this.maxQ(this.stateOf(nextContext));
    this.learn(s, arm, target);
  }

  snapshot(): PolicySnapshot {
    return this.snapshotWith(VERSION, {});
  }

  static restore(snapshot: PolicySnapshot): QLearning {
    const { params, state, rng } = openSnapshot(snapshot, 'qlearning', VERSION);
    const opts = params as unknown as TabularOptions;
    const p = withSnapshotParams('qlearning', () => new QLearning(opts, rng));
    p.loadTable(state);
    return p;
  }
}

export const QLEARNING: PolicyFactory = {
  kind: 'qlearning',
  description: 'tabular Q-learning over discretised contexts, epsilon-greedy',
  contextual: true,
  defaults: TABULAR_DEFAULTS,
  create: (shape, p) => new QLearning(tabularOptions(shape, p)),
  restore: (s) => QLearning.restore(s),
};
