/** The context-free bandit policies, one factory each (implementations in bandits/). */
import { EGREEDY, EGREEDY_DECAY } from './bandits/egreedy.js';
import { EXP3 } from './bandits/exp3.js';
import { DUCB, SWUCB } from './bandits/nonstationary-ucb.js';
import { SOFTMAX } from './bandits/softmax.js';
import { BETA_TS, GAUSSIAN_TS } from './bandits/thompson.js';
import { KL_UCB, UCB1 } from './bandits/ucb.js';
import type { PolicyFactory } from './registry.js';

export const BANDIT_POLICIES: PolicyFactory[] = [
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
