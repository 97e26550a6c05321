/* SPDX-License-Identifier: GPL-2.0 */
/* mlproxy: definitions shared by the module's files. */
#ifndef _MLPROXY_INTERNAL_H
#define _MLPROXY_INTERNAL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/mlproxy.h>
#include "mlproxy_rules.h"

/*
 * Module parameters (mlproxy_main.c), indexed by enum mlp_param_id: declared,
 * defaulted and checked from the table in mlproxy_rules.h, read-only after load.
 */
extern u32 mlp_param[MLP_NR_PARAMS];

/* Open files of one unprivileged user (mlproxy_main.c). */
struct mlp_user;

/*
 * One open file of /dev/mlproxy: its feedback ring and reading options. The
 * window work finds files on mlp_files under RCU and takes only f->lock.
 */
struct mlp_file {
	struct list_head node;		/* on mlp_files: RCU, writers hold mlp_files_lock */
	struct rcu_head rcu;
	spinlock_t lock;		/* the ring and the options below */
	wait_queue_head_t wait;
	struct mutex read_mutex;	/* one reader copies out at a time */
	u32 head;			/* next record to read */
	u32 count;			/* records queued */
	u32 cap;
	u64 dropped;
	u32 record_size;		/* bytes per record read() returns */
	u32 read_timeout_ms;		/* MLP_READ_TIMEOUT_NONE: no limit */
	u32 wake_seq;			/* MLP_FILE_WAKE: blocked readers return */
	u32 minor;			/* the ABI minor the file said it speaks */
	u32 nr_subscribed;		/* 0: every subsystem */
	u32 subscribed[MLP_MAX_SUBSYS];
	struct mlp_user *user;		/* NULL for a privileged opener */
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

/*
 * What the read-only ioctls see of a subsystem: published under s->seq at the end
 * of every change (s->lock held), read without any lock, so that no reader can
 * hold up a window.
 */
struct mlp_snap {
	u64 epoch;
	u64 win_start_ns;
	u64 win_end_ns;			/* planned end of window epoch */
	u64 last_heartbeat_ns;
	const struct mlp_file *controller;	/* compared, never dereferenced */
	u32 mode;
	bool pinned;
	s64 features[MLP_MAX_FEATURES];
	s64 knobs[MLP_MAX_KNOBS];
	struct mlp_status st;		/* counters; mode, flags, epoch, pid filled on request */
};

struct mlp_subsys {
	struct list_head node;		/* on the registry, under mlp_registry_sem */
	const struct mlp_subsys_ops *ops;
	struct mlp_subsys_info info;	/* schema as user space sees it */
	u32 id;

	struct mutex lock;		/* everything below but snap and controller_pid */
	seqcount_mutex_t seq;		/* snap; writers hold lock */
	struct mlp_snap snap;
	struct delayed_work work;
	bool stopping;
	bool parked;			/* no open file: no window runs */
	bool started;			/* a window is in progress */
	bool resync;			/* the next start follows a park */

	/* The window in progress. */
	u64 epoch;
	u64 win_start_ns;
	u64 plan_ns;			/* its planned end: the next window's start */
	u32 win_mode;
	bool win_advice;
	u64 win_rec_id;
	u32 win_verdict;
	u32 win_reasons;
	s64 knobs[MLP_MAX_KNOBS];	/* in force */
	s64 features[MLP_MAX_FEATURES];	/* collected at its start */

	struct mlp_knob_limits limits[MLP_MAX_KNOBS];
	s64 last_advised[MLP_MAX_KNOBS];
	struct mlp_pending pending;
	u64 next_rec_id;

	/* Mode ladder, reference and their counters (mlproxy_rules.c). */
	struct mlp_ladder lad;

	/* Control. */
	struct mlp_file *controller;	/* written under lock, read racily on close */
	spinlock_t pid_lock;		/* controller_pid, for lock-free status readers */
	struct pid *controller_pid;
	u64 last_heartbeat_ns;

	/*
	 * Counters; the ladder's are copied from lad when published; mode, flags,
	 * epoch, pid are filled in on request.
	 */
	struct mlp_status st;
};

/* mlproxy_core.c */
extern struct rw_semaphore mlp_registry_sem;
extern spinlock_t mlp_files_lock;
extern struct list_head mlp_files;
extern struct workqueue_struct *mlp_wq;

u32 mlp_nr_subsys(void);
u64 mlp_generation(void);
struct mlp_subsys *mlp_find_by_id(u32 id);	/* registry sem held */
struct mlp_subsys *mlp_find_by_index(u32 index);	/* registry sem held */
u32 mlp_index_of(const struct mlp_subsys *s);	/* registry sem held */
void mlp_read_snap(struct mlp_subsys *s, struct mlp_snap *out);
void mlp_fill_state(struct mlp_subsys *s, struct mlp_state *out);
void mlp_fill_status(struct mlp_subsys *s, const struct mlp_file *f,
		     struct mlp_status *out);
int mlp_claim(struct mlp_subsys *s, struct mlp_file *f, u32 flags);
int mlp_heartbeat(struct mlp_subsys *s, struct mlp_file *f);
int mlp_recommend(struct mlp_subsys *s, struct mlp_file *f,
		  struct mlp_recommendation *r);
void mlp_set_mode(struct mlp_subsys *s, u32 mode, u32 flags);
void mlp_file_open(struct mlp_file *f);
void mlp_file_release(struct mlp_file *f);
int mlp_core_init(void);
void mlp_core_exit(void);

/* Shipped subsystems. */
int mlp_readahead_init(void);
void mlp_readahead_exit(void);

#endif /* _MLPROXY_INTERNAL_H */
