/**
 * Derives independent integer seeds from one run seed, so that an environment and a
 * policy seeded from the same cell never share a random stream.
 */
export { deriveSeed } from '../policies/rng.js';

export const ENV_STREAM = 1;
export const POLICY_STREAM = 2;
