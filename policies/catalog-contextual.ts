import type { PolicyFactory } from './registry.js';

export const CONTEXTUAL_POLICIES: PolicyFactory[] = [];
