/**
 * EXP3 (Auer, Cesa-Bianchi, Freund and Schapire 2002) for adversarial rewards in [0, 1].
 *
 * Over the legal arms (L of them) arm i is drawn with probability
 *   p_i = (1 - gamma) w_i / sum over legal j of w_j + gamma / L,
 * and the played arm's weight grows by exp(gamma * (reward / p_i) / K). Weights are kept
 * as logarithms and the largest legal log-weight is subtracted before exponentiating, so
 * they never overflow. The propensity is the exact p_i, legal-mask renormalisation
 * included. update() uses the probabilities of the latest select() (uniform before the
 * first one); updating an arm that select() could not choose is an error.
 */
import { checkArm, checkLegal, checkUnitReward, numParam } from '../common.js';
import { Rng } from '../rng.js';
import type { Decision, LegalMask, Policy, PolicySnapshot } from '../types.js';
import { PolicyArgumentError } from '../types.js';
import { banditFactory } from './factory.js';
import { readArray, readNumber, requireConsistent, total, type Fields } from './snapshot.js';

export class Exp3Policy implements Policy {
  readonly kind = 'exp3';
  readonly d = 0;
  private logWeights: Float64Array;
  /** Choice probabilities of the latest decision (0 for arms illegal then). */
  private probs: Float64Array;
  private t = 0;
  private rng: Rng;

  constructor(
    readonly k: number,
    readonly seed: number,
    readonly gamma: number,
  ) {
    this.logWeights = new Float64Array(k);
    this.probs = new Float64Array(k).fill(1 / k);
    this.rng = new Rng(seed);
  }

  select(_context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const mask = checkLegal(legal, this.k);
    const k = this.k;
    const lw = this.logWeights;
    const p = this.probs;
    let maxLog = -Infinity;
    let nLegal = 0;
    for (let i = 0; i < k; i++) {
      if (mask !== undefined && !mask[i]) continue;
      nLegal++;
      if (lw[i] > maxLog) maxLog = lw[i];
    }
    let sum = 0;
    for (let i = 0; i < k; i++) {
      if (mask !== undefined && !mask[i]) {
        p[i] = 0;
        continue;
      }
      p[i] = Math.exp(lw[i] - maxLog);
      sum += p[i];
    }
    const exploit = (1 - this.gamma) / sum;
    const explore = this.gamma / nLegal;
    let last = -1;
    for (let i = 0; i < k; i++) {
      if (mask !== undefined && !mask[i]) continue;
      p[i] = exploit * p[i] + explore;
      last = i;
    }
    const u = this.rng.uniform();
    let acc = 0;
    let arm = last;
    for (let i = 0; i < k; i++) {
      acc += p[i];
      if (u < acc) {
        arm = i;
        break;
      }
    }
    return { arm, propensity: p[arm] };
  }

  update(arm: number, reward: number): void {
    checkArm(arm, this.k);
    checkUnitReward(reward);
    const p = this.probs[arm];
    if (!(p > 0)) {
      throw new PolicyArgumentError(
        `exp3: arm ${arm} could not be chosen by the latest select() (illegal there); ` +
          'update only the arm that select() returned',
      );
    }
    this.logWeights[arm] += (this.gamma * (reward / p)) / this.k;
    this.t += 1;
  }

  snapshot(): PolicySnapshot {
    return {
      kind: this.kind,
      version: 1,
      params: { k: this.k, seed: this.seed, gamma: this.gamma },
      state: {
        t: this.t,
        log_weights: Array.from(this.logWeights),
        probs: Array.from(this.probs),
      },
      rng: this.rng.state(),
    };
  }

  loadState(state: Fields, rng: Rng): void {
    const logWeights = readArray(state, 'log_weights', this.k, this.kind);
    const probs = readArray(state, 'probs', this.k, this.kind, { min: 0, max: 1 });
    const t = readNumber(state, 't', this.kind, { min: 0, integer: true });
    requireConsistent(
      Math.abs(total(probs) - 1) < 1e-9,
      this.kind,
      'state.probs must sum to 1 (the latest decision distribution)',
    );
    this.logWeights = logWeights;
    this.probs = probs;
    this.t = t;
    this.rng = rng;
  }
}

export const EXP3 = banditFactory({
  kind: 'exp3',
  version: 1,
  description: 'EXP3 for adversarial rewards in [0,1]; gamma = exploration mix',
  defaults: { gamma: 0.1 },
  build: (k, seed, p) =>
    new Exp3Policy(k, seed, numParam(p, 'gamma', { min: 0, exclusiveMin: true, max: 1 })),
});
