/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mlproxy: the in-kernel registration API.
 *
 * Any module can expose a subsystem to the user-space advisor: it describes its
 * state (features) and action (knobs) and supplies three callbacks. mlproxy runs
 * the windows, enforces every bound and the mode ladder, and calls back:
 *
 *   collect_state  at the start of each window, for the state snapshot;
 *   apply          at the start of each window, with the knob vector to run
 *                  (the defaults, or clamped advice);
 *   measure        at the end of each window, for its efficiency;
 *   baseline_changed  (optional) at the end of each window, before measure:
 *                  whether someone else (an administrator) changed the setting
 *                  the subsystem's baseline stands for, and its new defaults.
 *
 * The callbacks run in process context (a workqueue) under the subsystem's
 * mutex and may sleep briefly; they never run concurrently for one subsystem
 * and never after mlp_unregister_subsystem() has returned.
 */
#ifndef _LINUX_MLPROXY_H
#define _LINUX_MLPROXY_H

#include <linux/types.h>
#include <uapi/linux/mlproxy.h>

/* Efficiencies are clamped into [0, MLP_EFF_LIMIT]. */
#define MLP_EFF_LIMIT	1000000000000000LL

/* measure(): *eff is set, but the window could be measured only in part. */
#define MLP_MEASURE_UNRELIABLE	1

struct mlp_feature_schema {
	const char *name;
	const char *unit;
	u32 scale;			/* value = raw / scale */
};

struct mlp_knob_schema {
	const char *name;
	const char *unit;
	s64 min;
	s64 max;
	s64 step;			/* > 0; (max - min) % step == 0 */
	s64 def;			/* the human-written baseline, on the grid */
	s64 max_delta;			/* multiple of step; 0: no limit */
};

/* The window a callback is about. */
struct mlp_window {
	u64 epoch;
	u64 start_ns;			/* ktime_get_ns() at its start */
	u64 len_ns;			/* measure only: its length */
	bool advice;			/* advice (not the baseline) is in force */
	const s64 *knobs;		/* the values in force, nr_knobs of them */
};

struct mlp_subsys_ops {
	const char *name;		/* unique, < MLP_NAME_LEN */
	unsigned int window_ms;
	unsigned int nr_features;	/* <= MLP_MAX_FEATURES */
	const struct mlp_feature_schema *features;
	unsigned int nr_knobs;		/* 1 .. MLP_MAX_KNOBS */
	const struct mlp_knob_schema *knobs;
	void *priv;

	/* Fill features[nr_features] for the window w that starts. */
	void (*collect_state)(void *priv, const struct mlp_window *w,
			      s64 *features);
	/* Put w->knobs in force; an error makes mlproxy fall back to defaults. */
	int (*apply)(void *priv, const struct mlp_window *w);
	/*
	 * Measure the window w that ended: 0 and *eff in MLP_EFF_SCALE units,
	 * MLP_MEASURE_UNRELIABLE with *eff set when part of the window escaped
	 * the measurement, or -ENODATA when the window was idle.
	 */
	int (*measure)(void *priv, const struct mlp_window *w, s64 *eff);
	/*
	 * Optional. Called at the end of every window, before measure: return
	 * true when the setting the defaults stand for was changed by someone
	 * else since the last call, with the new defaults (on the knobs' grids)
	 * in def[nr_knobs]. mlproxy then adopts them as the baseline, restarts
	 * its reference and falls to EMERGENCY (MLP_TRANS_BASELINE).
	 */
	bool (*baseline_changed)(void *priv, s64 *def);
};

struct mlp_subsys;

struct mlp_subsys *mlp_register_subsystem(const struct mlp_subsys_ops *ops);
void mlp_unregister_subsystem(struct mlp_subsys *s);

#endif /* _LINUX_MLPROXY_H */
