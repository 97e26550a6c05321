import type { PolicyFactory } from './registry.js';

export const BANDIT_POLICIES: PolicyFactory[] = [];
