/**
 * EXP3 (Auer, Cesa-Bianchi, Freund and Schapire 2002) for adversarial rewards in [0, 1].
 *
 * Over the legal arms (L of them) arm i is drawn with probability
 *   p_i = (1 - gamma) w_i / sum over legal j of w_j + gamma / L,
 * and the played arm's weight grows by exp(gamma * (reward / p_i) / K). Weights are kept
 * as logarithms and the largest legal log-weight is subtracted before exponentiating, so
 * they never overflow. The arm is drawn by distribution.ts drawFrom: the propensity is the
 * exact p_i, legal-mask renormalisation included, and the decision carries p.
 *
 * EXP3 learns through the importance weight reward / p (learnsFrom "importance-weighted"),
 * which is unbiased only when p is the exact probability of the play under a distribution
 * that gave every arm a chance. update() with UpdateInfo uses its propensity (the daemon's
 * uniform mix around EXP3 changes it; a play whose distribution lacked full support, such
 * as a forced baseline, is refused: callers skip those). Without UpdateInfo it uses the
 * probabilities of the latest select() (uniform before the first one); updating an arm that
 * select() could not choose is an error.
 */
import { checkArm, checkLegal, checkUnitReward, numParam } from '../common.js';
import { Rng } from '../rng.js';
import { drawFrom } from '../distribution.js';
import type { Decision, LegalMask, Policy, PolicySnapshot, UpdateInfo } from '../types.js';
import { PolicyArgumentError } from '../types.js';
import { banditFactory } from './factory.js';
import { readArray, readNumber, requireConsistent, total, type Fields } from './snapshot.js';

export class Exp3Policy implements Policy {
  readonly kind = 'exp3';
  readonly d = 0;
  readonly learnsFrom = 'importance-weighted';
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
    // A fresh array per decision: the decision keeps it as its distribution.
    const p = new Float64Array(k);
    this.probs = p;
    let maxLog = -Infinity;
    let nLegal = 0;
    for (let i = 0; i < k; i++) {
      if (mask !== undefined && !mask[i]) continue;
      nLegal++;
      if (lw[i] > maxLog) maxLog = lw[i];
    }
    let sum = 0;
    for (let i = 0; i < k; i++) {
      if (mask !== undefined && !mask[i]) continue;
      p[i] = Math.exp(lw[i] - maxLog);
      sum += p[i];
    }
    const exploit = (1 - this.gamma) / sum;
    const explore = this.gamma / nLegal;
    for (let i = 0; i < k; i++) {
      if (mask !== undefined && !mask[i]) continue;
      p[i] = exploit * p[i] + explore;
    }
    return drawFrom(p, this.rng);
  }

  update(
    arm: number,
    reward: number,
    _context?: ArrayLike<number>,
    _next?: ArrayLike<number>,
    info?: UpdateInfo,
  ): void {
    checkArm(arm, this.k);
    checkUnitReward(reward);
    if (info !== undefined && !info.fullSupport) {
      throw new PolicyArgumentError(
        `exp3: arm ${arm} was played by a distribution without full support (a forced play); ` +
          'EXP3 learns only from plays with an exact importance weight: skip this update',
      );
    }
    const p = info !== undefined ? info.propensity : this.probs[arm];
    if (!(p > 0 && p <= 1)) {
      throw new PolicyArgumentError(
        info !== undefined
          ? `exp3: propensity ${String(p)} of arm ${arm} must lie in (0, 1]`
          : `exp3: arm ${arm} could not be chosen by the latest select() (illegal there); ` +
              'update only the arm that select() returned, or pass UpdateInfo with its propensity',
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
