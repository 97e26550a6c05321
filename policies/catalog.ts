/**
 * Every policy the registry knows, by family. Each policy's module exports its factory
 * (PolicyFactory, types.ts); this list only names them, so that adding a policy touches
 * its own module and one line here.
 */
import { EGREEDY, EGREEDY_DECAY } from './bandits/egreedy.js';
import { EXP3 } from './bandits/exp3.js';
import { DUCB, SWUCB } from './bandits/nonstationary-ucb.js';
import { SOFTMAX } from './bandits/softmax.js';
import { BETA_TS, GAUSSIAN_TS } from './bandits/thompson.js';
import { KL_UCB, UCB1 } from './bandits/ucb.js';
import { CONSERVATIVE } from './conservative.js';
import { LINEGREEDY } from './contextual/linegreedy.js';
import { LINTS } from './contextual/lints.js';
import { LINUCB } from './contextual/linucb.js';
import { QLEARNING } from './rl/qlearning.js';
import { SARSA } from './rl/sarsa.js';
import type { PolicyFactory } from './types.js';

/** The context-free bandit policies (implementations in bandits/). */
export const BANDIT_POLICIES: readonly PolicyFactory[] = [
  UCB1,
  KL_UCB,
  EGREEDY,
  EGREEDY_DECAY,
  SOFTMAX,
  BETA_TS,
  GAUSSIAN_TS,
  EXP3,
  DUCB,
  SWUCB,
];

/** The linear contextual bandits (contextual/). */
export const CONTEXTUAL_POLICIES: readonly PolicyFactory[] = [LINUCB, LINTS, LINEGREEDY];

/** The tabular RL policies over discretised contexts (rl/). */
export const RL_POLICIES: readonly PolicyFactory[] = [QLEARNING, SARSA];

/** Wrappers around any other policy. */
export const WRAPPERS: readonly PolicyFactory[] = [CONSERVATIVE];

/** In the order the registry lists them. */
export const ALL_POLICIES: readonly PolicyFactory[] = [
  ...BANDIT_POLICIES,
  ...CONTEXTUAL_POLICIES,
  ...RL_POLICIES,
  ...WRAPPERS,
];
