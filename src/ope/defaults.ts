/** Defaults of the promotion gate's support checks (imports nothing: the CLI's help uses them). */
export const GATE_DEFAULTS = { minEss: 100, minSupport: 0.95 } as const;

/** Rewards must lie in this range unless --reward-range says otherwise (the daemon's). */
export const DEFAULT_REWARD_RANGE: readonly [number, number] = [0, 1];
