/**
 * The module parameters of the in-guest conformance run (test/vm/conformance.test.ts),
 * in one place: `npm test` runs the suite with them on SimKernel too
 * (test/conformance-sim.test.ts), so that a test which only the guest's parameters
 * would break fails on the host first.
 *
 * Short windows keep the real-time waits short; the suite reads windowMs itself. The
 * heartbeat timeout leaves a slow guest 50 windows between two heartbeats (the suite
 * keeps its controllers alive in every wait; only the heartbeat test goes silent).
 */
import type { ConformanceParams } from './suite.js';

/** mlproxy.ko's parameters, and mlproxy_synthetic.ko's (synth_*). */
export const GUEST_PARAMS = {
  synth_window_ms: 20,
  synth_period: 100, // phase boundaries every 2 s: the paired-judgement test needs one
  learning_period: 4,
  check_period: 4,
  heartbeat_ms: 1000,
  emergency_hold_windows: 3,
  // A recommendation may be based on a state 4 windows old: a STALE verdict then needs a
  // caller stalled for 100 ms between GET_STATE and RECOMMEND (the stale test adapts).
  max_epoch_lag: 4,
  // Two subsystems of 20 ms windows fill it in 1.3 s of not reading (a slow guest).
  ring_records: 128,
  // The ladder's defaults, stated: the ladder tests (on selftest) read them.
  promote_windows: 8,
  promote_margin_pct: 2,
  demote_margin_pct: 5,
  collapse_pct: 50,
} as const;

/** mlproxy_selftest.ko's parameters. */
export const GUEST_SELFTEST = { window_ms: 20 } as const;

/** GUEST_PARAMS as the suite's parameters (and SimKernel's, but for syntheticPeriod). */
export const GUEST_CONFORMANCE: ConformanceParams = {
  learningPeriod: GUEST_PARAMS.learning_period,
  checkPeriod: GUEST_PARAMS.check_period,
  syntheticPeriod: GUEST_PARAMS.synth_period,
  heartbeatMs: GUEST_PARAMS.heartbeat_ms,
  emergencyHoldWindows: GUEST_PARAMS.emergency_hold_windows,
  maxEpochLag: GUEST_PARAMS.max_epoch_lag,
  ringRecords: GUEST_PARAMS.ring_records,
  promoteWindows: GUEST_PARAMS.promote_windows,
  promoteMarginPct: GUEST_PARAMS.promote_margin_pct,
  demoteMarginPct: GUEST_PARAMS.demote_margin_pct,
  collapsePct: GUEST_PARAMS.collapse_pct,
};
