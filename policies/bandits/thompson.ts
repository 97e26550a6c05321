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
 * It is estimated by Monte Carlo: `propensity_draws` further posterior draws, reporting
 * max(wins, 1) / draws for the chosen arm; the floor reflects that the arm was in fact
 * chosen, so its probability is not zero. The estimate's standard error is about
 * sqrt(p (1 - p) / draws). The draws come from an Rng seeded by (seed, decision number),
 * so neither the decisions nor the estimate depend on whether or when it is read.
 * It is computed lazily, the first time Decision.propensity is read, because it costs
 * draws x (legal arms) posterior draws: callers that log propensities (the daemon, the
 * experiment runner) pay for it, pure online control and speed runs do not. It must be
 * read before the next update() (the posterior it describes is gone after that); a late
 * read throws. propensity_draws = 0 reports NaN ("not estimated"). With a single legal
 * arm the propensity is exactly 1.
 */
import {
  checkArm,
  checkLegal,
  checkReward,
  checkUnitReward,
  legalCount,
  numParam,
} from '../common.js';
import { deriveSeed, Rng } from '../rng.js';
import { zigguratNormal } from '../ziggurat.js';
import type { Decision, LegalMask, Policy, PolicySnapshot } from '../types.js';
import { PolicyArgumentError } from '../types.js';
import { BetaTable } from './beta-sampler.js';
import { banditFactory } from './factory.js';
import {
  readArray,
  readNumber,
  requireConsistent,
  total,
  type Fields,
  readCountsAndSums,
} from './snapshot.js';

const PROPENSITY_STREAM = 1;

abstract class ThompsonPolicy implements Policy {
  abstract readonly kind: string;
  readonly learnsFrom = 'any';
  readonly d = 0;
  protected t = 0;
  /** Decisions made so far; numbers each decision's propensity stream. */
  protected decisions = 0;
  protected rng: Rng;

  constructor(
    readonly k: number,
    readonly seed: number,
    readonly propensityDraws: number,
  ) {
    this.rng = new Rng(seed);
  }

  /** One draw from the posterior of `arm`'s mean reward. */
  protected abstract sample(arm: number, rng: Rng): number;
  protected abstract params(): Fields;
  protected abstract learnedState(): Fields;
  protected abstract loadLearned(state: Fields): void;
  abstract update(arm: number, reward: number): void;

  select(_context?: ArrayLike<number>, legal?: LegalMask): Decision {
    const mask = checkLegal(legal, this.k);
    const index = this.decisions++;
    const arm = this.argmaxSample(mask, this.rng);
    if ((mask === undefined ? this.k : legalCount(mask, this.k)) === 1)
      return { arm, propensity: 1 };
    if (this.propensityDraws === 0) return { arm, propensity: NaN };
    return new LazyPropensity(
      this,
      arm,
      mask === undefined ? undefined : Uint8Array.from(Array.from(mask, (v) => (v ? 1 : 0))),
      this.t,
      index,
    );
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

  /**
   * Monte Carlo estimate of P(chosen) under the posterior as it stood after t updates,
   * from the draws of decision `index`'s own stream.
   */
  estimatePropensity(
    chosen: number,
    mask: LegalMask | undefined,
    t: number,
    index: number,
  ): number {
    if (t !== this.t) {
      throw new PolicyArgumentError(
        `${this.kind}: the propensity of decision ${index} was read after the policy was updated; read Decision.propensity before calling update()`,
      );
    }
    const rng = new Rng(deriveSeed(deriveSeed(this.seed, PROPENSITY_STREAM), index));
    let wins = 0;
    for (let m = 0; m < this.propensityDraws; m++) {
      if (this.argmaxSample(mask, rng) === chosen) wins++;
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
      state: { t: this.t, decisions: this.decisions, ...this.learnedState() },
      rng: this.rng.state(),
    };
  }

  loadState(state: Fields, rng: Rng): void {
    const t = readNumber(state, 't', this.kind, { min: 0, integer: true });
    const decisions = readNumber(state, 'decisions', this.kind, { min: 0, integer: true });
    this.loadLearned(state);
    this.t = t;
    this.decisions = decisions;
    this.rng = rng;
  }
}

/** A Thompson decision whose propensity is estimated the first time it is read. */
class LazyPropensity implements Decision {
  readonly estimated = true;
  private value = -1;

  constructor(
    private readonly policy: ThompsonPolicy,
    readonly arm: number,
    private readonly mask: Uint8Array | undefined,
    private readonly t: number,
    private readonly index: number,
  ) {}

  get propensity(): number {
    if (this.value < 0) {
      this.value = this.policy.estimatePropensity(this.arm, this.mask, this.t, this.index);
    }
    return this.value;
  }

  toJSON(): { arm: number; propensity: number } {
    return { arm: this.arm, propensity: this.propensity };
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
    return this.postMean[arm] + this.postSd[arm] * zigguratNormal(rng);
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
    const { counts, sums } = readCountsAndSums(state, this.k, this.kind);
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
