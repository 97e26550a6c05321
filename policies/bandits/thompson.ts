/**
 * Thompson sampling: Beta-Bernoulli ("ts") and Gaussian with known noise ("gaussian-ts").
 *
 * Each decision draws one sample from every legal arm's posterior and plays the largest
 * (ties to the lowest index).
 *
 * "ts": prior Beta(a0, b0); rewards in [0, 1] update the posterior fractionally,
 * alpha += r and beta += 1 - r (identical to the Bernoulli update for 0/1 rewards, and
 * it keeps update() free of random draws).
 *
 * "gaussian-ts": known noise standard deviation sigma (noise_sd) and a conjugate normal
 * prior N(prior_mean, prior_sd^2) on each arm's mean. With n pulls summing to S, the
 * posterior has precision 1/prior_sd^2 + n/sigma^2 and mean
 * (prior_mean/prior_sd^2 + S/sigma^2) / precision.
 *
 * Propensity: the probability that Thompson sampling picks an arm has no closed form.
 * It is estimated by Monte Carlo: `propensity_draws` further posterior draws per decision,
 * from a separate Rng stream (so the decision stream does not depend on it), reporting
 * max(wins, 1) / draws for the chosen arm; the floor reflects that the arm was in fact
 * chosen, so its probability is not zero. The estimate's standard error is about
 * sqrt(p (1 - p) / draws). It costs draws x (legal arms) posterior draws per decision;
 * propensity_draws = 0 skips it and reports propensity NaN ("not estimated"), for runs
 * that never use propensities (speed benchmarks, pure online control). With a single
 * legal arm the propensity is exactly 1.
 */
import {
  checkArm,
  checkLegal,
  checkReward,
  checkUnitReward,
  legalCount,
  numParam,
} from '../common.js';
import { Rng } from '../rng.js';
import type { Decision, LegalMask, Policy, PolicySnapshot } from '../types.js';
import { BetaTable } from './beta-sampler.js';
import { banditFactory, streamSeed } from './factory.js';
import {
  readArray,
  readNumber,
  readRng,
  requireConsistent,
  total,
  type Fields,
} from './snapshot.js';

const PROPENSITY_STREAM = 1;

abstract class ThompsonPolicy implements Policy {
  abstract readonly kind: string;
  readonly d = 0;
  protected t = 0;
  protected rng: Rng;
  protected propensityRng: Rng;

  constructor(
    readonly k: number,
    readonly seed: number,
    readonly propensityDraws: number,
  ) {
    this.rng = new Rng(seed);
    this.propensityRng = new Rng(streamSeed(seed, PROPENSITY_STREAM));
  }

  /** One draw from the posterior of `arm`'s mean reward. */
  protected abstract sample(arm: number, rng: Rng): number;
  protected abstract params(): Fields;
  protected abstract learnedState(): Fields;
  protected abstract loadLearned(state: Fields): void;
  abstract update(arm: number, reward: number): void;

  select(_context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const mask = checkLegal(legal, this.k);
    const arm = this.argmaxSample(mask, this.rng);
    return { arm, propensity: this.estimatePropensity(arm, mask) };
  }

  private argmaxSample(mask: LegalMask | undefined, rng: Rng): number {
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < this.k; i++) {
      if (mask !== undefined && !mask[i]) continue;
      const v = this.sample(i, rng);
      if (best < 0 || v > bestValue) {
        best = i;
        bestValue = v;
      }
    }
    return best;
  }

  private estimatePropensity(chosen: number, mask: LegalMask | undefined): number {
    if ((mask === undefined ? this.k : legalCount(mask, this.k)) === 1) return 1;
    if (this.propensityDraws === 0) return NaN;
    let wins = 0;
    for (let m = 0; m < this.propensityDraws; m++) {
      if (this.argmaxSample(mask, this.propensityRng) === chosen) wins++;
    }
    return Math.max(wins, 1) / this.propensityDraws;
  }

  snapshot(): PolicySnapshot {
    return {
      kind: this.kind,
      version: 1,
      params: {
        k: this.k,
        seed: this.seed,
        propensity_draws: this.propensityDraws,
        ...this.params(),
      },
      state: { t: this.t, propensity_rng: this.propensityRng.state(), ...this.learnedState() },
      rng: this.rng.state(),
    };
  }

  loadState(state: Fields, rng: Rng): void {
    const t = readNumber(state, 't', this.kind, { min: 0, integer: true });
    const propensityRng = readRng(state.propensity_rng, this.kind, 'state.propensity_rng');
    this.loadLearned(state);
    this.t = t;
    this.rng = rng;
    this.propensityRng = propensityRng;
  }
}

export class BetaThompsonPolicy extends ThompsonPolicy {
  readonly kind = 'ts';
  private alpha: Float64Array;
  private beta: Float64Array;
  private readonly table: BetaTable;

  constructor(
    k: number,
    seed: number,
    propensityDraws: number,
    readonly a0: number,
    readonly b0: number,
  ) {
    super(k, seed, propensityDraws);
    this.alpha = new Float64Array(k).fill(a0);
    this.beta = new Float64Array(k).fill(b0);
    this.table = new BetaTable(k);
    for (let i = 0; i < k; i++) this.table.set(i, a0, b0);
  }

  protected sample(arm: number, rng: Rng): number {
    return this.table.draw(arm, rng);
  }

  update(arm: number, reward: number): void {
    checkArm(arm, this.k);
    checkUnitReward(reward);
    this.alpha[arm] += reward;
    this.beta[arm] += 1 - reward;
    this.table.set(arm, this.alpha[arm], this.beta[arm]);
    this.t += 1;
  }

  protected params(): Fields {
    return { a0: this.a0, b0: this.b0 };
  }

  protected learnedState(): Fields {
    return { alpha: Array.from(this.alpha), beta: Array.from(this.beta) };
  }

  protected loadLearned(state: Fields): void {
    const alpha = readArray(state, 'alpha', this.k, this.kind, { min: this.a0 });
    const beta = readArray(state, 'beta', this.k, this.kind, { min: this.b0 });
    const t = readNumber(state, 't', this.kind, { min: 0, integer: true });
    const observed = total(alpha) + total(beta) - this.k * (this.a0 + this.b0);
    requireConsistent(
      Math.abs(observed - t) <= 1e-6 * Math.max(1, t),
      this.kind,
      'each update adds exactly 1 to alpha + beta, so their sum must equal K (a0 + b0) + t',
    );
    this.alpha = alpha;
    this.beta = beta;
    for (let i = 0; i < this.k; i++) this.table.set(i, alpha[i], beta[i]);
  }
}

export class GaussianThompsonPolicy extends ThompsonPolicy {
  readonly kind = 'gaussian-ts';
  private counts: Float64Array;
  private sums: Float64Array;
  private postMean: Float64Array;
  private postSd: Float64Array;

  constructor(
    k: number,
    seed: number,
    propensityDraws: number,
    readonly priorMean: number,
    readonly priorSd: number,
    readonly noiseSd: number,
  ) {
    super(k, seed, propensityDraws);
    this.counts = new Float64Array(k);
    this.sums = new Float64Array(k);
    this.postMean = new Float64Array(k).fill(priorMean);
    this.postSd = new Float64Array(k).fill(priorSd);
  }

  protected sample(arm: number, rng: Rng): number {
    return this.postMean[arm] + this.postSd[arm] * rng.normal();
  }

  private refresh(arm: number): void {
    const priorPrecision = 1 / (this.priorSd * this.priorSd);
    const noisePrecision = 1 / (this.noiseSd * this.noiseSd);
    const precision = priorPrecision + this.counts[arm] * noisePrecision;
    this.postMean[arm] =
      (this.priorMean * priorPrecision + this.sums[arm] * noisePrecision) / precision;
    this.postSd[arm] = 1 / Math.sqrt(precision);
  }

  update(arm: number, reward: number): void {
    checkArm(arm, this.k);
    checkReward(reward);
    this.counts[arm] += 1;
    this.sums[arm] += reward;
    this.refresh(arm);
    this.t += 1;
  }

  protected params(): Fields {
    return { prior_mean: this.priorMean, prior_sd: this.priorSd, noise_sd: this.noiseSd };
  }

  protected learnedState(): Fields {
    return { counts: Array.from(this.counts), sums: Array.from(this.sums) };
  }

  protected loadLearned(state: Fields): void {
    const counts = readArray(state, 'counts', this.k, this.kind, { min: 0, integer: true });
    const sums = readArray(state, 'sums', this.k, this.kind);
    const t = readNumber(state, 't', this.kind, { min: 0, integer: true });
    requireConsistent(total(counts) === t, this.kind, 'state.t must equal the sum of the counts');
    for (let i = 0; i < this.k; i++) {
      requireConsistent(
        counts[i] > 0 || sums[i] === 0,
        this.kind,
        `arm ${i} has a reward sum but no pulls`,
      );
    }
    this.counts = counts;
    this.sums = sums;
    for (let i = 0; i < this.k; i++) this.refresh(i);
  }
}

const DRAWS_RULE = { min: 0, max: 1_000_000, integer: true };

export const BETA_TS = banditFactory({
  kind: 'ts',
  version: 1,
  description:
    'Beta-Bernoulli Thompson sampling (rewards in [0,1], fractional updates); ' +
    'propensity estimated from propensity_draws extra posterior draws',
  defaults: { a0: 1, b0: 1, propensity_draws: 100 },
  build: (k, seed, p) =>
    new BetaThompsonPolicy(
      k,
      seed,
      numParam(p, 'propensity_draws', DRAWS_RULE),
      numParam(p, 'a0', { min: 0, exclusiveMin: true }),
      numParam(p, 'b0', { min: 0, exclusiveMin: true }),
    ),
});

export const GAUSSIAN_TS = banditFactory({
  kind: 'gaussian-ts',
  version: 1,
  description:
    'Gaussian Thompson sampling, known noise_sd, normal prior on each mean; ' +
    'propensity estimated from propensity_draws extra posterior draws',
  defaults: { prior_mean: 0, prior_sd: 1, noise_sd: 1, propensity_draws: 100 },
  build: (k, seed, p) =>
    new GaussianThompsonPolicy(
      k,
      seed,
      numParam(p, 'propensity_draws', DRAWS_RULE),
      numParam(p, 'prior_mean'),
      numParam(p, 'prior_sd', { min: 0, exclusiveMin: true }),
      numParam(p, 'noise_sd', { min: 0, exclusiveMin: true }),
    ),
});
