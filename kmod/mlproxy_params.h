/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module parameters of mlproxy.ko, the one place they are stated:
 * MLP_PARAM(ID, name, default, lo, hi, zero_ok). A value is
 * within [lo, hi], or 0 where zero_ok is 1. Included with MLP_PARAM defined
 * (mlproxy_rules.h, mlproxy_rules.c, mlproxy_main.c, which also describes them
 * for modinfo and refuses to load if a name differs); the simulator reads the
 * same table from the WebAssembly build and docs/kernel-module.md's table is
 * checked against it (test/kernel-params.test.ts), so no range can differ.
 */
MLP_PARAM(LEARNING_PERIOD, learning_period, 10, 2, 1000, 0)
MLP_PARAM(CHECK_PERIOD, check_period, 16, 2, 100000, 1)
MLP_PARAM(PROMOTE_WINDOWS, promote_windows, 8, 1, 100000, 0)
MLP_PARAM(PROMOTE_MARGIN_PCT, promote_margin_pct, 2, 0, 100, 0)
MLP_PARAM(DEMOTE_MARGIN_PCT, demote_margin_pct, 5, 0, 99, 0)
MLP_PARAM(COLLAPSE_PCT, collapse_pct, 50, 0, 100, 0)
MLP_PARAM(HEARTBEAT_MS, heartbeat_ms, 2000, 10, 600000, 0)
MLP_PARAM(EMERGENCY_HOLD_WINDOWS, emergency_hold_windows, 10, 0, 100000, 0)
MLP_PARAM(MAX_EPOCH_LAG, max_epoch_lag, 1, 0, 1000, 0)
MLP_PARAM(DEFAULT_TTL_MS, default_ttl_ms, 1000, 1, 60000, 0)
MLP_PARAM(RING_RECORDS, ring_records, 256, 1, 65536, 0)
MLP_PARAM(MAX_OPEN, max_open, 64, 1, 65536, 0)
