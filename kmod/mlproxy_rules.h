/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mlproxy's rules, in one place for both of their users: the module (the core
 * calls them under the subsystem's lock and applies what they return) and the
 * simulator, which runs mlproxy_rules.c compiled to WebAssembly
 * (src/transport/sim/rules.ts). Pure integer functions of their arguments: no
 * locks, no time, no allocation; the caller owns the state they update.
 *
 * Held here: the module parameters (one table: name, default, range), the
 * advice schedule, knob limiting (bounds, grid, step limit) and the knob schema
 * checks, the verdict of a recommendation and of pending advice as its window
 * starts, and the mode ladder (the reference, the paired judgement, promotion,
 * regression, collapse, heartbeat, recovery, SET_MODE, a new baseline).
 * The semantics are docs/abi.md's.
 */
#ifndef _MLPROXY_RULES_H
#define _MLPROXY_RULES_H

#include "mlproxy_rules_types.h"
#include <linux/mlproxy.h>

/*
 * The module parameters of mlproxy.ko, listed once in mlproxy_params.h
 * (MLP_PARAM(ID, name, default, lo, hi, zero_ok)): the ids here,
 * the table mlp_params[] in mlproxy_rules.c, the defaults in mlproxy_main.c.
 */
#define MLP_PARAM(id, name, def, lo, hi, zero_ok)	MLP_P_##id,
enum mlp_param_id {
#include "mlproxy_params.h"
	MLP_NR_PARAMS
};

#undef MLP_PARAM

/* A value is within [lo, hi], or 0 where zero_ok. */
struct mlp_param {
	const char *name;
	u32 def;
	u32 lo;
	u32 hi;
	bool zero_ok;
};

extern const struct mlp_param mlp_params[MLP_NR_PARAMS];

/* The largest ttl_ms of a recommendation (MLP_IOC_RECOMMEND). */
#define MLP_TTL_MAX_MS		60000

/* Knob bounds are kept within +-2^62: every range fits a u64. */
#define MLP_KNOB_LIMIT		4611686018427387904LL	/* 2^62 */

bool mlp_param_ok(enum mlp_param_id id, u32 val);

/* Whether the mode schedules advice in window epoch; p: the parameter values. */
bool mlp_advice_window(const u32 *p, u32 mode, u64 epoch);

/* A knob's numbers, as registered. */
struct mlp_knob_limits {
	s64 min;
	s64 max;
	s64 step;
	s64 max_delta;
};

bool mlp_knob_ok(const struct mlp_knob_limits *k, s64 def);
s64 mlp_knob_on_grid(const struct mlp_knob_limits *k, s64 v);
u32 mlp_limit_knob(const struct mlp_knob_limits *k, s64 last, s64 *v);

/* A recommendation as the core received it, for mlp_recommend_verdict(). */
struct mlp_rec_check {
	u32 mode;			/* the subsystem's now */
	u64 epoch;			/* the window in progress */
	u64 rec_epoch;			/* the state the recommendation is based on */
	bool pending;			/* the next window has advice already */
	bool strict;			/* MLP_REC_F_STRICT */
	u32 nr_knobs;
	const struct mlp_knob_limits *limits;
	const s64 *last;		/* the knobs of the last advice that ran */
};

u32 mlp_recommend_verdict(const u32 *p, const struct mlp_rec_check *c,
			  s64 *knobs, u32 *reasons);
u32 mlp_resolve_pending(const u32 *p, u32 mode, u64 epoch, u32 verdict,
			bool expired, u32 *reasons);

/* The mode ladder of one subsystem, with the status counters it moves. */
struct mlp_ladder {
	u32 mode;
	bool pinned;
	bool heartbeat_missed;		/* counted once per silence */
	u32 good_streak;
	u32 hold;			/* EMERGENCY windows with a live controller */
	bool have_baseline;		/* baseline_eff holds a measured window */
	s64 baseline_eff;		/* the reference; 0 before the first */
	u64 base_epoch;			/* its window */
	s64 last_eff;
	s64 pair_sum;			/* advice windows measured since it */
	u32 pair_n;
	u64 pair_first;			/* their first and last epochs */
	u64 pair_last;
	u64 transitions;
	u64 promotions;
	u64 demotions;
	u64 emergencies;
	u64 heartbeat_misses;
	u32 last_transition;
	u64 last_transition_epoch;
};

/* A mode change the ladder made, for the caller's log. */
struct mlp_trans {
	u32 from;
	u32 to;
	u32 why;
};

#define MLP_LADDER_MAX_TRANS	2

struct mlp_ladder_out {
	u32 nr;
	struct mlp_trans t[MLP_LADDER_MAX_TRANS];
};

/* What a window that just ended did and measured. */
struct mlp_window_end {
	u64 epoch;
	u32 mode;			/* the mode it ran in */
	bool advice;			/* advice ran */
	bool idle;			/* nothing to measure */
	bool unreliable;		/* measured in part (or the baseline moved) */
	s64 eff;			/* what measure() said (not clamped yet) */
	bool controlled;		/* a file controls the subsystem */
	bool live;			/* and its heartbeat is within heartbeat_ms */
};

void mlp_ladder_init(struct mlp_ladder *l);
s64 mlp_ladder_end_window(struct mlp_ladder *l, const u32 *p,
			  const struct mlp_window_end *w,
			  struct mlp_ladder_out *out);
void mlp_ladder_set_mode(struct mlp_ladder *l, u64 epoch, u32 mode, bool pin,
			 struct mlp_ladder_out *out);
void mlp_ladder_fall(struct mlp_ladder *l, u64 epoch, u32 why,
		     struct mlp_ladder_out *out);
void mlp_ladder_new_baseline(struct mlp_ladder *l, u64 epoch,
			     struct mlp_ladder_out *out);
void mlp_ladder_resync(struct mlp_ladder *l);
void mlp_ladder_beat(struct mlp_ladder *l);

#endif /* _MLPROXY_RULES_H */
