/* SPDX-License-Identifier: GPL-2.0 */
/* mlproxy: definitions shared by the module's files. */
#ifndef _MLPROXY_INTERNAL_H
#define _MLPROXY_INTERNAL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/mlproxy.h>

#define MLP_TTL_MAX_MS		60000

/* Module parameters (mlproxy_main.c), validated at load, read-only after. */
extern unsigned int mlp_learning_period;
extern unsigned int mlp_check_period;
extern unsigned int mlp_promote_windows;
extern unsigned int mlp_promote_margin_pct;
extern unsigned int mlp_demote_margin_pct;
extern unsigned int mlp_collapse_pct;
extern unsigned int mlp_heartbeat_ms;
extern unsigned int mlp_emergency_hold_windows;
extern unsigned int mlp_max_epoch_lag;
extern unsigned int mlp_default_ttl_ms;
extern unsigned int mlp_ring_records;

/* One open file of /dev/mlproxy: its feedback ring. */
struct mlp_file {
	struct list_head node;		/* on mlp_files, under mlp_files_lock */
	spinlock_t lock;		/* ring indices */
	wait_queue_head_t wait;
	struct mutex read_mutex;	/* one reader copies out at a time */
	u32 head;			/* next record to read */
	u32 count;			/* records queued */
	u32 cap;
	u64 dropped;
	struct mlp_feedback *ring;
};

/* The recommendation waiting for the next window. */
struct mlp_pending {
	bool valid;
	u64 rec_id;
	u64 deadline_ns;
	u32 verdict;			/* APPLIED, CLAMPED or SHADOWED */
	u32 reasons;
	s64 knobs[MLP_MAX_KNOBS];
};

struct mlp_subsys {
	struct list_head node;		/* on the registry, under mlp_registry_sem */
	const struct mlp_subsys_ops *ops;
	struct mlp_subsys_info info;	/* schema as user space sees it */
	u32 id;

	struct mutex lock;		/* everything below */
	struct delayed_work work;
	bool stopping;

	/* The window in progress. */
	u64 epoch;
	u64 win_start_ns;
	u32 win_mode;
	bool win_advice;
	u64 win_rec_id;
	u32 win_verdict;
	u32 win_reasons;
	s64 knobs[MLP_MAX_KNOBS];	/* in force */
	s64 features[MLP_MAX_FEATURES];	/* collected at its start */

	s64 last_advised[MLP_MAX_KNOBS];
	struct mlp_pending pending;
	u64 next_rec_id;

	/* Mode ladder. */
	u32 mode;
	bool pinned;
	bool have_baseline;		/* st.baseline_eff holds a measured window */
	u64 base_epoch;			/* of that window */
	s64 pair_sum;			/* advice windows measured since it */
	u32 pair_n;
	u64 pair_first, pair_last;	/* their first and last epochs */
	bool heartbeat_missed;
	u32 hold;			/* emergency windows with a live controller */

	/* Control. */
	struct mlp_file *controller;
	struct pid *controller_pid;
	u64 last_heartbeat_ns;

	/* Counters; mode, flags, epoch, pid are filled in on request. */
	struct mlp_status st;
};

/* mlproxy_core.c */
extern struct rw_semaphore mlp_registry_sem;
extern spinlock_t mlp_files_lock;
extern struct list_head mlp_files;

u32 mlp_nr_subsys(void);
struct mlp_subsys *mlp_find_by_id(u32 id);	/* registry sem held */
struct mlp_subsys *mlp_find_by_index(u32 index);	/* registry sem held */
bool mlp_advice_window(u32 mode, u64 epoch);
void mlp_fill_state(struct mlp_subsys *s, struct mlp_state *out);
void mlp_fill_status(struct mlp_subsys *s, struct mlp_file *f,
		     struct mlp_status *out);
int mlp_claim(struct mlp_subsys *s, struct mlp_file *f, u32 flags);
int mlp_heartbeat(struct mlp_subsys *s, struct mlp_file *f);
int mlp_recommend(struct mlp_subsys *s, struct mlp_file *f,
		  struct mlp_recommendation *r);
void mlp_set_mode(struct mlp_subsys *s, u32 mode, u32 flags);
void mlp_file_closed(struct mlp_file *f);

/* Shipped subsystems. */
int mlp_synthetic_init(void);
void mlp_synthetic_exit(void);
int mlp_readahead_init(void);
void mlp_readahead_exit(void);

#endif /* _MLPROXY_INTERNAL_H */
