/**
 * Tabular SARSA (Rummery and Niranjan 1994) over discretised states, epsilon-greedy.
 *
 * SARSA's target r + gamma Q(s', a') needs the action a' the policy takes next, which the
 * select/update interface only learns at the next select. So update(arm, r, s, s') stores
 * the transition as pending, and the next select(context) first chooses a' from the current
 * Q (as textbook SARSA does), then applies the pending update:
 * - if the context's state equals the pending s', the target is r + gamma Q(s', a');
 * - if it differs (the caller moved elsewhere), or a second update arrives before any
 *   select, the target is r + gamma E_pi[Q(s', .)] under the epsilon-greedy policy with all
 *   arms legal (expected SARSA, no random draw).
 * An undefined nextContext is terminal: target r, applied at once. Snapshots keep the
 * pending transition.
 */
import type { Decision, LegalMask, Policy, PolicyFactory, PolicySnapshot } from '../types.js';
import type { Rng } from '../rng.js';
import { openSnapshot, requireConsistent, withSnapshotParams } from '../snapshot.js';
import { TABULAR_DEFAULTS, TabularPolicy, tabularOptions } from './tabular.js';
import type { TabularOptions } from './tabular.js';

const VERSION = 1;

interface Pending {
  s: number;
  a: number;
  r: number;
  next: number;
}

export class Sarsa extends TabularPolicy implements Policy {
  readonly kind = 'sarsa';
  private pending: Pending | null = null;

  constructor(opts: TabularOptions, rng?: Rng) {
    super(opts, rng);
  }

  /** True while a transition waits for the next action (see the file comment). */
  hasPendingUpdate(): boolean {
    return this.pending !== null;
  }

  select(context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const s = this.stateOf(context);
    const decision = this.chooseAt(s, legal);
    const p = this.pending;
    if (p !== null) {
      this.pending = null;
      const nextValue = p.next === s ? this.qValues(s)[decision.arm] : this.expectedQ(p.next);
      this.learn(p.s, p.a, p.r + this.opts.gamma * nextValue);
    }
    return decision;
  }

  update(
    arm: number,
    reward: number,
    context?: ArrayLike<number>,
    nextContext?: ArrayLike<number>,
  ): void {
    this.checkUpdate(arm, reward);
    const s = this.stateOf(context);
    const next = nextContext === undefined ? -1 : this.stateOf(nextContext);
    this.flushPending();
    if (next < 0) this.learn(s, arm, reward);
    else this.pending = { s, a: arm, r: reward, next };
  }

  private flushPending(): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    this.learn(p.s, p.a, p.r + this.opts.gamma * this.expectedQ(p.next));
  }

  snapshot(): PolicySnapshot {
    return this.snapshotWith(VERSION, { pending: this.pending ? { ...this.pending } : null });
  }

  static restore(snapshot: PolicySnapshot): Sarsa {
    const { params, state, rng } = openSnapshot(snapshot, 'sarsa', VERSION);
    const opts = params as unknown as TabularOptions;
    const p = withSnapshotParams('sarsa', () => new Sarsa(opts, rng));
    p.loadTable(state);
    const pending = state.pending as Pending | null | undefined;
    if (pending != null) {
      requireConsistent(
        ['s', 'a', 'r', 'next'].every((key) =>
          Number.isFinite((pending as unknown as Record<string, unknown>)[key]),
        ),
        'sarsa',
        'state.pending must hold s, a, r, next numbers',
      );
      p.pending = { s: pending.s, a: pending.a, r: pending.r, next: pending.next };
    }
    return p;
  }
}

export const SARSA: PolicyFactory = {
  kind: 'sarsa',
  description:
    'tabular SARSA over discretised contexts, epsilon-greedy (update applied at the next select)',
  contextual: true,
  defaults: TABULAR_DEFAULTS,
  create: (shape, p) => new Sarsa(tabularOptions(shape, p)),
  restore: (s) => Sarsa.restore(s),
};
