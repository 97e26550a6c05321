/** The context-free bandit policies, one factory each (implementations in bandits/). */
import { EGREEDY, EGREEDY_DECAY } from './bandits/egreedy.js';
import { KL_UCB, UCB1 } from './bandits/ucb.js';
import type { PolicyFactory } from './registry.js';

export const BANDIT_POLICIES: PolicyFactory[] = [UCB1, KL_UCB, EGREEDY, EGREEDY_DECAY];
