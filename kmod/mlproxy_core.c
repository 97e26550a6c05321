// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy core: the subsystem registry, the windows, the mode ladder and the
 * rules every recommendation passes. The semantics are those of the top
 * comment of include/uapi/linux/mlproxy.h (long form: docs/abi.md).
 *
 * Locking, outermost first:
 *   mlp_park_mutex    the count of open files, parking and unparking;
 *   mlp_registry_sem  (rwsem) the list of subsystems; ioctls hold it for reading
 *                     while they use a subsystem, (un)registration for writing;
 *   s->lock           (mutex) a subsystem's window state, ladder and counters;
 *                     the window work takes only this lock (never the registry,
 *                     never a lock user space can hold), so user space cannot
 *                     hold a window up;
 *   s->pid_lock, f->lock (spinlocks) the controller's pid, a file's ring.
 * Read-only ioctls take no subsystem lock: they copy s->snap under the seqcount
 * s->seq, which every change republishes before it drops s->lock. The window
 * work finds the open files on mlp_files under RCU.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include "mlproxy_internal.h"

DECLARE_RWSEM(mlp_registry_sem);
DEFINE_SPINLOCK(mlp_files_lock);
LIST_HEAD(mlp_files);
struct workqueue_struct *mlp_wq;

static DEFINE_MUTEX(mlp_park_mutex);
static unsigned int mlp_open_files;	/* under mlp_park_mutex */
static LIST_HEAD(mlp_subsys_list);
static u32 mlp_subsys_count;
static u32 mlp_next_id = 1;
static atomic64_t mlp_gen = ATOMIC64_INIT(0);

#define MLP_WINDOW_MIN_MS	5
#define MLP_WINDOW_MAX_MS	3600000

static const char * const mlp_mode_names[MLP_NR_MODES] = {
	"emergency", "learning", "collaboration", "recommendation",
};

static const char * const mlp_trans_names[] = {
	"none", "promote", "regression", "collapse", "closed", "heartbeat",
	"recover", "admin", "baseline",
};

u32 mlp_nr_subsys(void)
{
	return READ_ONCE(mlp_subsys_count);
}

u64 mlp_generation(void)
{
	return atomic64_read(&mlp_gen);
}

struct mlp_subsys *mlp_find_by_id(u32 id)
{
	struct mlp_subsys *s;

	list_for_each_entry(s, &mlp_subsys_list, node)
		if (s->id == id)
			return s;
	return NULL;
}

struct mlp_subsys *mlp_find_by_index(u32 index)
{
	struct mlp_subsys *s;
	u32 i = 0;

	list_for_each_entry(s, &mlp_subsys_list, node)
		if (i++ == index)
			return s;
	return NULL;
}

u32 mlp_index_of(const struct mlp_subsys *s)
{
	const struct mlp_subsys *t;
	u32 i = 0;

	list_for_each_entry(t, &mlp_subsys_list, node) {
		if (t == s)
			break;
		i++;
	}
	return i;
}

static u64 mlp_window_ns(const struct mlp_subsys *s)
{
	return (u64)s->info.window_ms * NSEC_PER_MSEC;
}

/* Makes the subsystem's current state what the read-only ioctls see. */
static void mlp_publish(struct mlp_subsys *s)
{
	struct mlp_snap *n = &s->snap;

	write_seqcount_begin(&s->seq);
	n->epoch = s->epoch;
	n->win_start_ns = s->win_start_ns;
	n->win_end_ns = s->plan_ns;
	n->last_heartbeat_ns = s->last_heartbeat_ns;
	n->controller = s->controller;
	n->mode = s->lad.mode;
	n->pinned = s->lad.pinned;
	memcpy(n->features, s->features, sizeof(n->features));
	memcpy(n->knobs, s->knobs, sizeof(n->knobs));
	n->st = s->st;
	n->st.transitions = s->lad.transitions;
	n->st.promotions = s->lad.promotions;
	n->st.demotions = s->lad.demotions;
	n->st.emergencies = s->lad.emergencies;
	n->st.heartbeat_misses = s->lad.heartbeat_misses;
	n->st.last_transition_epoch = s->lad.last_transition_epoch;
	n->st.last_transition = s->lad.last_transition;
	n->st.good_streak = s->lad.good_streak;
	n->st.baseline_eff = s->lad.baseline_eff;
	n->st.last_eff = s->lad.last_eff;
	write_seqcount_end(&s->seq);
}

void mlp_read_snap(struct mlp_subsys *s, struct mlp_snap *out)
{
	unsigned int seq;

	do {
		seq = read_seqcount_begin(&s->seq);
		*out = s->snap;
	} while (read_seqcount_retry(&s->seq, seq));
}

/* Logs the mode changes the ladder made (mlproxy_rules.c). */
static void mlp_log_trans(struct mlp_subsys *s, const struct mlp_ladder_out *out)
{
	const struct mlp_trans *t;
	u32 i;

	for (i = 0; i < out->nr; i++) {
		t = &out->t[i];
		pr_info_ratelimited("%s: mode %s -> %s (%s) from epoch %llu\n",
				    s->info.name, mlp_mode_names[t->from],
				    mlp_mode_names[t->to], mlp_trans_names[t->why],
				    s->epoch + 1);
	}
}

static bool mlp_live(const struct mlp_file *controller, u64 last_beat, u64 now)
{
	return controller &&
	       now - last_beat <= (u64)mlp_param[MLP_P_HEARTBEAT_MS] * NSEC_PER_MSEC;
}

static bool mlp_controller_live(struct mlp_subsys *s, u64 now)
{
	return mlp_live(s->controller, s->last_heartbeat_ns, now);
}

static void mlp_drop_controller(struct mlp_subsys *s)
{
	struct pid *pid;

	WRITE_ONCE(s->controller, NULL);
	spin_lock(&s->pid_lock);
	pid = s->controller_pid;
	s->controller_pid = NULL;
	spin_unlock(&s->pid_lock);
	put_pid(pid);
	mlp_ladder_beat(&s->lad);
}

static bool mlp_file_wants(const struct mlp_file *f, u32 subsys_id)
{
	u32 i;

	if (!f->nr_subscribed)
		return true;
	for (i = 0; i < f->nr_subscribed; i++)
		if (f->subscribed[i] == subsys_id)
			return true;
	return false;
}

/*
 * One record to every open file that wants the subsystem's records (a GONE
 * record only to files that speak ABI 1.1). A full ring drops the new record,
 * except a GONE record, which takes the place of the newest one (that one is
 * counted dropped): the last word on a subsystem always arrives. No lock is
 * held across files: each file's ring has its own spinlock.
 */
static void mlp_queue_feedback(struct mlp_subsys *s,
			       const struct mlp_feedback *fb, bool gone)
{
	struct mlp_file *f;
	u32 tail;

	rcu_read_lock();
	list_for_each_entry_rcu(f, &mlp_files, node) {
		spin_lock(&f->lock);
		if (!mlp_file_wants(f, fb->subsys_id) ||
		    (gone && READ_ONCE(f->minor) < 1)) {
			spin_unlock(&f->lock);
			continue;
		}
		if (f->count < f->cap) {
			tail = f->head + f->count;
			if (tail >= f->cap)
				tail -= f->cap;
			f->ring[tail] = *fb;
			WRITE_ONCE(f->count, f->count + 1);
			s->st.feedback_records++;
		} else {
			f->dropped++;
			s->st.feedback_dropped++;
			if (gone) {
				tail = f->head + f->count - 1;
				if (tail >= f->cap)
					tail -= f->cap;
				f->ring[tail] = *fb;
			}
		}
		spin_unlock(&f->lock);
		wake_up_interruptible(&f->wait);
	}
	rcu_read_unlock();
}

/*
 * The subsystem reports that someone else changed the setting its baseline
 * stands for: adopt the new defaults, restart the reference, fall to
 * EMERGENCY. Logged once per change.
 */
static void mlp_adopt_baseline(struct mlp_subsys *s, const s64 *def)
{
	struct mlp_ladder_out out;
	u32 i;

	for (i = 0; i < s->info.nr_knobs; i++)
		s->info.knobs[i].def = mlp_knob_on_grid(&s->limits[i], def[i]);
	out.nr = 0;
	mlp_ladder_new_baseline(&s->lad, s->epoch, &out);
	mlp_log_trans(s, &out);
}

/*
 * End of the window in progress: measure, count, run the ladder, adopt a new
 * baseline; fills the measured part of its feedback record (queued once the
 * next window began).
 */
static void mlp_end_window(struct mlp_subsys *s, u64 now,
			   struct mlp_feedback *fb)
{
	struct mlp_window w = {
		.epoch = s->epoch,
		.start_ns = s->win_start_ns,
		.len_ns = now - s->win_start_ns,
		.advice = s->win_advice,
		.knobs = s->knobs,
	};
	struct mlp_window_end end = {
		.epoch = s->epoch,
		.mode = s->win_mode,
		.advice = s->win_advice,
		.controlled = !!s->controller,
		.live = mlp_controller_live(s, now),
	};
	struct mlp_ladder_out out;
	s64 def[MLP_MAX_KNOBS];
	bool changed = false;
	s64 eff = 0;
	int rc;

	if (s->ops->baseline_changed)
		changed = s->ops->baseline_changed(s->ops->priv, def);
	rc = s->ops->measure(s->ops->priv, &w, &eff);
	end.idle = rc < 0;
	/* A window in which the baseline changed measured a mix of both. */
	end.unreliable = !end.idle && (rc > 0 || changed);
	end.eff = eff;
	eff = mlp_ladder_end_window(&s->lad, mlp_param, &end, &out);

	s->st.windows++;
	s->st.mode_windows[s->win_mode]++;
	if (s->win_advice)
		s->st.advice_windows++;
	else
		s->st.baseline_windows++;

	memset(fb, 0, sizeof(*fb));
	fb->size = sizeof(*fb);
	fb->subsys_id = s->id;
	fb->rec_id = s->win_rec_id;
	fb->epoch = s->epoch;
	fb->window_start_ns = s->win_start_ns;
	fb->window_ns = w.len_ns;
	fb->mode = s->win_mode;
	fb->applied = s->win_advice;
	fb->verdict = s->win_verdict;
	fb->reasons = s->win_reasons | (end.idle ? MLP_REASON_IDLE : 0) |
		      (end.unreliable ? MLP_REASON_UNRELIABLE : 0);
	fb->baseline_eff = s->lad.baseline_eff;
	fb->eff = eff;
	memcpy(fb->knobs, s->knobs, sizeof(fb->knobs));

	mlp_log_trans(s, &out);
	if (changed)
		mlp_adopt_baseline(s, def);
}

/* The state of the window that just began, for the record of the one before. */
static void mlp_fill_next(struct mlp_subsys *s, struct mlp_feedback *fb)
{
	fb->next_mode = s->win_mode;
	fb->next_advice = mlp_advice_window(mlp_param, s->lad.mode, s->epoch + 1);
	fb->nr_features = s->info.nr_features;
	fb->nr_knobs = s->info.nr_knobs;
	fb->next_end_ns = s->plan_ns;
	memcpy(fb->next_features, s->features, sizeof(fb->next_features));
	memcpy(fb->next_knobs, s->knobs, sizeof(fb->next_knobs));
}

/* Puts every knob's default in force (parking, unregistration). */
static void mlp_apply_defaults(struct mlp_subsys *s, u64 epoch)
{
	struct mlp_window w = {
		.epoch = epoch,
		.start_ns = ktime_get_ns(),
		.knobs = s->knobs,
	};
	unsigned int i;

	for (i = 0; i < s->info.nr_knobs; i++)
		s->knobs[i] = s->info.knobs[i].def;
	s->win_advice = false;
	s->ops->apply(s->ops->priv, &w);
}

/* Plan window s->epoch, which starts now: advice or the baseline. */
static void mlp_start_window(struct mlp_subsys *s, u64 now)
{
	struct mlp_pending *p = &s->pending;
	struct mlp_window w;
	u32 i, v;

	s->win_start_ns = now;
	s->win_mode = s->lad.mode;
	s->win_advice = false;
	s->win_rec_id = 0;
	s->win_verdict = MLP_VERDICT_NONE;
	s->win_reasons = 0;
	if (p->valid) {
		s->win_rec_id = p->rec_id;
		s->win_reasons = p->reasons;
		v = mlp_resolve_pending(mlp_param, s->lad.mode, s->epoch,
					p->verdict, now > p->deadline_ns,
					&s->win_reasons);
		s->win_verdict = v;
		if (v == MLP_VERDICT_REJECTED) {
			s->st.recs_expired++;
		} else if (v == MLP_VERDICT_SHADOWED) {
			if (p->verdict != MLP_VERDICT_SHADOWED)
				s->st.recs_shadowed++;
		} else {
			s->win_advice = true;
			memcpy(s->last_advised, p->knobs,
			       sizeof(s->last_advised));
		}
		p->valid = false;
	}
	for (i = 0; i < s->info.nr_knobs; i++)
		s->knobs[i] = s->win_advice ? p->knobs[i] : s->info.knobs[i].def;

	w = (struct mlp_window) {
		.epoch = s->epoch,
		.start_ns = now,
		.advice = s->win_advice,
		.knobs = s->knobs,
	};
	if (s->ops->apply(s->ops->priv, &w) && s->win_advice) {
		pr_warn_ratelimited("%s: applying advice failed; baseline runs\n",
				    s->info.name);
		s->win_advice = false;
		w.advice = false;
		for (i = 0; i < s->info.nr_knobs; i++)
			s->knobs[i] = s->info.knobs[i].def;
		s->ops->apply(s->ops->priv, &w);
	}
	s->ops->collect_state(s->ops->priv, &w, s->features);
}

/*
 * After parked time the subsystem's own counters span the park: one measure()
 * whose result is dropped makes the next window measure only itself, and the
 * baseline measured before the park no longer judges advice. The
 * window that was in progress when the subsystem parked is abandoned (it has
 * no record); the next one is epoch + 1.
 */
static void mlp_resync(struct mlp_subsys *s, u64 now)
{
	struct mlp_window w = {
		.epoch = s->epoch,
		.start_ns = now,
		.knobs = s->knobs,
	};
	s64 eff;

	s->ops->measure(s->ops->priv, &w, &eff);
	s->resync = false;
	s->epoch++;
	/* A reference from before the park judges nothing after it. */
	mlp_ladder_resync(&s->lad);
}

/*
 * The window work: ends the window in progress (if any), starts the next and
 * re-arms for its planned end. Windows are planned from the planned start of
 * the one before, not from when the work ran, so they do not drift; a window
 * that begins a whole window late restarts the plan (counted in replans).
 */
static void mlp_window_work(struct work_struct *work)
{
	struct mlp_subsys *s = container_of(to_delayed_work(work),
					    struct mlp_subsys, work);
	struct mlp_feedback fb;
	u64 now, start, wns = mlp_window_ns(s), spent;
	bool ended = false;

	mutex_lock(&s->lock);
	if (s->stopping || s->parked)
		goto out;
	now = ktime_get_ns();
	if (s->started) {
		if (now > s->plan_ns && now - s->plan_ns > s->st.late_max_ns)
			s->st.late_max_ns = now - s->plan_ns;
		mlp_end_window(s, now, &fb);
		ended = true;
		s->epoch++;
		start = s->plan_ns;
	} else {
		if (s->resync)
			mlp_resync(s, now);
		s->started = true;
		start = now;
	}
	s->plan_ns = start + wns;
	if (s->plan_ns <= now) {
		s->plan_ns = now + wns;
		s->st.replans++;
	}
	mlp_start_window(s, now);
	mlp_publish(s);
	if (ended) {
		mlp_fill_next(s, &fb);
		mlp_queue_feedback(s, &fb, false);
	}
	queue_delayed_work(mlp_wq, &s->work,
			   nsecs_to_jiffies(s->plan_ns - now + TICK_NSEC - 1));
	spent = ktime_get_ns() - now;
	s->st.work_ns += spent;
	if (spent > s->st.work_max_ns)
		s->st.work_max_ns = spent;
	mlp_publish(s);		/* the records queued and this run's cost */
out:
	mutex_unlock(&s->lock);
}

void mlp_fill_state(struct mlp_subsys *s, struct mlp_state *out)
{
	struct mlp_snap sn;

	mlp_read_snap(s, &sn);
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->subsys_id = s->id;
	out->epoch = sn.epoch;
	out->time_ns = ktime_get_ns();
	out->mode = sn.mode;
	out->next_advice = mlp_advice_window(mlp_param, sn.mode, sn.epoch + 1);
	out->nr_features = s->info.nr_features;
	out->nr_knobs = s->info.nr_knobs;
	memcpy(out->features, sn.features, sizeof(out->features));
	memcpy(out->knobs, sn.knobs, sizeof(out->knobs));
	out->baseline_eff = sn.st.baseline_eff;
	out->window_start_ns = sn.win_start_ns;
	out->next_window_ns = sn.win_end_ns;
}

void mlp_fill_status(struct mlp_subsys *s, const struct mlp_file *f,
		     struct mlp_status *out)
{
	u64 now = ktime_get_ns();
	struct mlp_snap sn;
	struct pid *pid;

	mlp_read_snap(s, &sn);
	*out = sn.st;
	out->size = sizeof(*out);
	out->subsys_id = s->id;
	out->mode = sn.mode;
	out->flags = 0;
	if (sn.pinned)
		out->flags |= MLP_STATUS_F_PINNED;
	if (sn.controller)
		out->flags |= MLP_STATUS_F_CONTROLLED;
	if (mlp_live(sn.controller, sn.last_heartbeat_ns, now))
		out->flags |= MLP_STATUS_F_HEARTBEAT_OK;
	if (sn.controller && sn.controller == f)
		out->flags |= MLP_STATUS_F_MINE;
	out->epoch = sn.epoch;
	spin_lock(&s->pid_lock);
	pid = get_pid(s->controller_pid);
	spin_unlock(&s->pid_lock);
	out->controller_pid = pid ? pid_vnr(pid) : 0;
	put_pid(pid);
	out->__reserved = 0;
}

static void mlp_take_control(struct mlp_subsys *s, struct mlp_file *f)
{
	struct pid *pid;

	if (!s->controller) {
		WRITE_ONCE(s->controller, f);
		pid = get_pid(task_tgid(current));
		spin_lock(&s->pid_lock);
		s->controller_pid = pid;
		spin_unlock(&s->pid_lock);
	}
	s->last_heartbeat_ns = ktime_get_ns();
	mlp_ladder_beat(&s->lad);
}

int mlp_claim(struct mlp_subsys *s, struct mlp_file *f, u32 flags)
{
	if (s->controller && s->controller != f)
		return -EBUSY;
	if (flags & MLP_CLAIM_F_RELEASE) {
		/* an orderly hand-over: the mode stays, the next claim takes it */
		if (s->controller)
			mlp_drop_controller(s);
	} else {
		mlp_take_control(s, f);
	}
	mlp_publish(s);
	return 0;
}

int mlp_heartbeat(struct mlp_subsys *s, struct mlp_file *f)
{
	if (!s->controller)
		return -EINVAL;
	if (s->controller != f)
		return -EBUSY;
	mlp_take_control(s, f);
	mlp_publish(s);
	return 0;
}

void mlp_set_mode(struct mlp_subsys *s, u32 mode, u32 flags)
{
	struct mlp_ladder_out out = { .nr = 0 };

	mlp_ladder_set_mode(&s->lad, s->epoch, mode, flags & MLP_MODE_F_PIN,
			    &out);
	mlp_log_trans(s, &out);
	mlp_publish(s);
}

/*
 * The caller has checked the struct's size, flags, propensity, ttl_ms (0
 * already replaced by the default) and nr_knobs <= MLP_MAX_KNOBS.
 */
int mlp_recommend(struct mlp_subsys *s, struct mlp_file *f,
		  struct mlp_recommendation *r)
{
	struct mlp_rec_check c = {
		.mode = s->lad.mode,
		.epoch = s->epoch,
		.rec_epoch = r->epoch,
		.pending = s->pending.valid,
		.strict = r->flags & MLP_REC_F_STRICT,
		.nr_knobs = r->nr_knobs,
		.limits = s->limits,
		.last = s->last_advised,
	};
	u64 target = s->epoch + 1;
	u32 reasons, verdict;

	if (r->nr_knobs != s->info.nr_knobs || r->epoch > s->epoch)
		return -EINVAL;
	if (s->controller && s->controller != f)
		return -EBUSY;
	mlp_take_control(s, f);

	r->rec_id = s->next_rec_id++;
	r->target_epoch = target;
	s->st.recs++;
	memset(r->applied, 0, sizeof(r->applied));
	memcpy(r->applied, r->knobs, r->nr_knobs * sizeof(r->knobs[0]));
	verdict = mlp_recommend_verdict(mlp_param, &c, r->applied, &reasons);
	if (verdict == MLP_VERDICT_REJECTED)
		s->st.recs_rejected++;
	else if (verdict == MLP_VERDICT_SHADOWED)
		s->st.recs_shadowed++;
	else if (verdict == MLP_VERDICT_CLAMPED)
		s->st.recs_clamped++;
	else
		s->st.recs_applied++;
	r->verdict = verdict;
	r->reasons = reasons;
	pr_debug("%s: rec %llu model %llu epoch %llu -> %llu verdict %u reasons %#x\n",
		 s->info.name, r->rec_id, r->model_version, r->epoch, target,
		 verdict, reasons);
	if (verdict != MLP_VERDICT_REJECTED) {
		s->pending.valid = true;
		s->pending.rec_id = r->rec_id;
		s->pending.deadline_ns = ktime_get_ns() +
					 (u64)r->ttl_ms * NSEC_PER_MSEC;
		s->pending.verdict = verdict;
		s->pending.reasons = reasons;
		memcpy(s->pending.knobs, r->applied, sizeof(s->pending.knobs));
	}
	mlp_publish(s);
	return 0;
}

/* Stops the windows of s until the next open; the defaults run meanwhile. */
static void mlp_park(struct mlp_subsys *s)
{
	mutex_lock(&s->lock);
	s->parked = true;
	mutex_unlock(&s->lock);
	cancel_delayed_work_sync(&s->work);
	mutex_lock(&s->lock);
	if (s->started && !s->stopping) {
		s->started = false;
		s->resync = true;
		s->pending.valid = false;
		mlp_apply_defaults(s, s->epoch);
		mlp_publish(s);
	}
	mutex_unlock(&s->lock);
}

static void mlp_unpark(struct mlp_subsys *s)
{
	mutex_lock(&s->lock);
	if (s->parked && !s->stopping) {
		s->parked = false;
		queue_delayed_work(mlp_wq, &s->work, 0);
	}
	mutex_unlock(&s->lock);
}

/* A file was opened: the first one wakes every subsystem's windows. */
void mlp_file_open(struct mlp_file *f)
{
	struct mlp_subsys *s;

	mutex_lock(&mlp_park_mutex);
	spin_lock(&mlp_files_lock);
	list_add_tail_rcu(&f->node, &mlp_files);
	spin_unlock(&mlp_files_lock);
	if (mlp_open_files++ == 0) {
		down_read(&mlp_registry_sem);
		list_for_each_entry(s, &mlp_subsys_list, node)
			mlp_unpark(s);
		up_read(&mlp_registry_sem);
	}
	mutex_unlock(&mlp_park_mutex);
}

/*
 * The file is closing: whatever it controls falls to EMERGENCY (only those
 * subsystems are locked), and the last file parks every subsystem. The caller
 * frees f after an RCU grace period (the window work may still be queueing a
 * record into it).
 */
void mlp_file_release(struct mlp_file *f)
{
	struct mlp_subsys *s;

	mutex_lock(&mlp_park_mutex);
	spin_lock(&mlp_files_lock);
	list_del_rcu(&f->node);
	spin_unlock(&mlp_files_lock);
	down_read(&mlp_registry_sem);
	list_for_each_entry(s, &mlp_subsys_list, node) {
		/* Only f itself could have made itself controller, and it is closing. */
		if (READ_ONCE(s->controller) != f)
			continue;
		mutex_lock(&s->lock);
		if (s->controller == f) {
			struct mlp_ladder_out out = { .nr = 0 };

			mlp_drop_controller(s);
			mlp_ladder_fall(&s->lad, s->epoch, MLP_TRANS_CLOSED,
					&out);
			mlp_log_trans(s, &out);
			mlp_publish(s);
		}
		mutex_unlock(&s->lock);
	}
	if (--mlp_open_files == 0)
		list_for_each_entry(s, &mlp_subsys_list, node)
			mlp_park(s);
	up_read(&mlp_registry_sem);
	mutex_unlock(&mlp_park_mutex);
}

static bool mlp_name_ok(const char *name, size_t len, bool empty_ok)
{
	return name && (empty_ok || name[0]) && strnlen(name, len) < len;
}

static struct mlp_knob_limits mlp_limits_of(const struct mlp_knob_schema *k)
{
	return (struct mlp_knob_limits) {
		.min = k->min,
		.max = k->max,
		.step = k->step,
		.max_delta = k->max_delta,
	};
}

static int mlp_check_knob(const struct mlp_knob_schema *k)
{
	struct mlp_knob_limits l = mlp_limits_of(k);

	if (!mlp_name_ok(k->name, MLP_NAME_LEN, false) ||
	    !mlp_name_ok(k->unit, MLP_UNIT_LEN, true) ||
	    !mlp_knob_ok(&l, k->def))
		return -EINVAL;
	return 0;
}

static int mlp_check_ops(const struct mlp_subsys_ops *ops)
{
	unsigned int i;

	if (!ops || !mlp_name_ok(ops->name, MLP_NAME_LEN, false) ||
	    !ops->collect_state || !ops->apply || !ops->measure ||
	    ops->window_ms < MLP_WINDOW_MIN_MS ||
	    ops->window_ms > MLP_WINDOW_MAX_MS ||
	    ops->nr_features > MLP_MAX_FEATURES ||
	    (ops->nr_features && !ops->features) ||
	    !ops->nr_knobs || ops->nr_knobs > MLP_MAX_KNOBS || !ops->knobs)
		return -EINVAL;
	for (i = 0; i < ops->nr_features; i++)
		if (!mlp_name_ok(ops->features[i].name, MLP_NAME_LEN, false) ||
		    !mlp_name_ok(ops->features[i].unit, MLP_UNIT_LEN, true) ||
		    !ops->features[i].scale)
			return -EINVAL;
	for (i = 0; i < ops->nr_knobs; i++)
		if (mlp_check_knob(&ops->knobs[i]))
			return -EINVAL;
	return 0;
}

/**
 * mlp_register_subsystem - expose a subsystem to the user-space advisor
 * @ops: name, schemas and callbacks; must stay valid until unregistration
 *
 * The subsystem starts at epoch 0 in EMERGENCY (baseline only) with no
 * controller. Its first window starts from the window work (at once when a
 * file of the device is open, else at the first open).
 *
 * Return: the subsystem, or ERR_PTR(-EINVAL) for a bad description,
 * -EEXIST for a duplicate name, -ENOSPC beyond MLP_MAX_SUBSYS, -ENOMEM.
 */
struct mlp_subsys *mlp_register_subsystem(const struct mlp_subsys_ops *ops)
{
	struct mlp_subsys *s, *other;
	unsigned int i;
	int err;

	err = mlp_check_ops(ops);
	if (err) {
		pr_err("rejected subsystem %s: invalid description\n",
		       ops && ops->name ? ops->name : "(null)");
		return ERR_PTR(err);
	}
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->ops = ops;
	s->info.size = sizeof(s->info);
	s->info.nr_features = ops->nr_features;
	s->info.nr_knobs = ops->nr_knobs;
	s->info.window_ms = ops->window_ms;
	strscpy(s->info.name, ops->name, sizeof(s->info.name));
	for (i = 0; i < ops->nr_features; i++) {
		struct mlp_feature_desc *d = &s->info.features[i];

		strscpy(d->name, ops->features[i].name, sizeof(d->name));
		strscpy(d->unit, ops->features[i].unit, sizeof(d->unit));
		d->scale = ops->features[i].scale;
	}
	for (i = 0; i < ops->nr_knobs; i++) {
		struct mlp_knob_desc *d = &s->info.knobs[i];
		const struct mlp_knob_schema *k = &ops->knobs[i];

		strscpy(d->name, k->name, sizeof(d->name));
		strscpy(d->unit, k->unit, sizeof(d->unit));
		d->min = k->min;
		d->max = k->max;
		d->step = k->step;
		d->def = k->def;
		d->max_delta = k->max_delta;
		s->limits[i] = mlp_limits_of(k);
		s->last_advised[i] = k->def;
		s->knobs[i] = k->def;
	}
	mutex_init(&s->lock);
	seqcount_mutex_init(&s->seq, &s->lock);
	spin_lock_init(&s->pid_lock);
	INIT_DELAYED_WORK(&s->work, mlp_window_work);
	mlp_ladder_init(&s->lad);
	s->next_rec_id = 1;

	mutex_lock(&mlp_park_mutex);
	down_write(&mlp_registry_sem);
	err = mlp_subsys_count >= MLP_MAX_SUBSYS ? -ENOSPC : 0;
	list_for_each_entry(other, &mlp_subsys_list, node)
		if (!strcmp(other->info.name, s->info.name))
			err = -EEXIST;
	if (err) {
		up_write(&mlp_registry_sem);
		mutex_unlock(&mlp_park_mutex);
		pr_err("rejected subsystem %s: %s\n", s->info.name,
		       err == -EEXIST ? "name taken" : "too many subsystems");
		mutex_destroy(&s->lock);
		kfree(s);
		return ERR_PTR(err);
	}
	s->id = mlp_next_id++;
	s->info.id = s->id;
	s->parked = !mlp_open_files;
	mutex_lock(&s->lock);
	mlp_publish(s);
	mutex_unlock(&s->lock);
	list_add_tail(&s->node, &mlp_subsys_list);
	WRITE_ONCE(mlp_subsys_count, mlp_subsys_count + 1);
	atomic64_inc(&mlp_gen);
	up_write(&mlp_registry_sem);
	if (!s->parked)
		queue_delayed_work(mlp_wq, &s->work, 0);
	mutex_unlock(&mlp_park_mutex);
	pr_info("registered subsystem %s (id %u, %u features, %u knobs, %u ms windows)\n",
		s->info.name, s->id, s->info.nr_features, s->info.nr_knobs,
		s->info.window_ms);
	return s;
}
EXPORT_SYMBOL_GPL(mlp_register_subsystem);

/**
 * mlp_unregister_subsystem - remove a subsystem
 * @s: what mlp_register_subsystem() returned (an ERR_PTR or NULL is ignored)
 *
 * Stops the windows (waiting for one in progress), puts the baseline back in
 * force, sends a last record (MLP_REASON_GONE) to the files that speak ABI
 * 1.1 and frees everything. No callback runs after this returns.
 */
void mlp_unregister_subsystem(struct mlp_subsys *s)
{
	struct mlp_feedback fb = {};

	if (IS_ERR_OR_NULL(s))
		return;
	down_write(&mlp_registry_sem);
	list_del(&s->node);
	WRITE_ONCE(mlp_subsys_count, mlp_subsys_count - 1);
	atomic64_inc(&mlp_gen);
	up_write(&mlp_registry_sem);

	mutex_lock(&s->lock);
	s->stopping = true;
	if (s->controller)
		mlp_drop_controller(s);
	mutex_unlock(&s->lock);
	cancel_delayed_work_sync(&s->work);

	mutex_lock(&s->lock);
	mlp_apply_defaults(s, s->epoch + 1);
	fb.size = sizeof(fb);
	fb.subsys_id = s->id;
	fb.epoch = s->epoch;
	fb.mode = s->lad.mode;
	fb.reasons = MLP_REASON_GONE;
	fb.baseline_eff = s->lad.baseline_eff;
	fb.nr_knobs = s->info.nr_knobs;
	memcpy(fb.knobs, s->knobs, sizeof(fb.knobs));
	mlp_queue_feedback(s, &fb, true);
	mutex_unlock(&s->lock);
	pr_info("unregistered subsystem %s (id %u) after %llu windows\n",
		s->info.name, s->id, s->st.windows);
	mutex_destroy(&s->lock);
	kfree(s);
}
EXPORT_SYMBOL_GPL(mlp_unregister_subsystem);

int mlp_core_init(void)
{
	/* Windows are short bursts that must end on time: high priority, unbound. */
	mlp_wq = alloc_workqueue("mlproxy", WQ_HIGHPRI | WQ_UNBOUND | WQ_FREEZABLE,
				 0);
	return mlp_wq ? 0 : -ENOMEM;
}

void mlp_core_exit(void)
{
	destroy_workqueue(mlp_wq);
}
