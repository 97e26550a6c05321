// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy: the misc device /dev/mlproxy, its ioctls, read() and poll() of the
 * per-file feedback rings, the module parameters and module init/exit.
 *
 * Every ioctl copies its struct in (copy_struct_from_user: the caller's size
 * is _IOC_SIZE of the command), works on a kernel copy, builds its answer in
 * zeroed memory and copies out after dropping every lock: no lock is held
 * across a user-space access, so a faulting or stalled caller cannot hold up
 * a window.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "mlproxy_internal.h"

/*
 * The parameters: names, defaults and ranges come from the one table,
 * mlproxy_params.h (the simulator reads the same table), and are read as
 * mlp_param[MLP_P_<NAME>]. Ranges and defaults: docs/kernel-module.md.
 */
#define MLP_PARAM(id, name, def, lo, hi, zero_ok) \
	[MLP_P_##id] = def,
u32 mlp_param[MLP_NR_PARAMS] = {
#include "mlproxy_params.h"
};

#undef MLP_PARAM

module_param_named(learning_period, mlp_param[MLP_P_LEARNING_PERIOD], uint, 0444);
MODULE_PARM_DESC(learning_period, "LEARNING: advice in windows w % learning_period == 0");

module_param_named(check_period, mlp_param[MLP_P_CHECK_PERIOD], uint, 0444);
MODULE_PARM_DESC(check_period,
		 "RECOMMENDATION: windows w % check_period == 0 run the baseline, the check the ladder judges advice against (0: none)");

module_param_named(promote_windows, mlp_param[MLP_P_PROMOTE_WINDOWS], uint, 0444);
MODULE_PARM_DESC(promote_windows, "consecutive good advice windows to promote one step");

module_param_named(promote_margin_pct, mlp_param[MLP_P_PROMOTE_MARGIN_PCT], uint, 0444);
MODULE_PARM_DESC(promote_margin_pct, "good: eff >= baseline * (100 + this) / 100");

module_param_named(demote_margin_pct, mlp_param[MLP_P_DEMOTE_MARGIN_PCT], uint, 0444);
MODULE_PARM_DESC(demote_margin_pct, "regression: eff < baseline * (100 - this) / 100");

module_param_named(collapse_pct, mlp_param[MLP_P_COLLAPSE_PCT], uint, 0444);
MODULE_PARM_DESC(collapse_pct, "collapse to EMERGENCY: eff < baseline * this / 100");

module_param_named(heartbeat_ms, mlp_param[MLP_P_HEARTBEAT_MS], uint, 0444);
MODULE_PARM_DESC(heartbeat_ms, "controller heartbeat timeout");

module_param_named(emergency_hold_windows, mlp_param[MLP_P_EMERGENCY_HOLD_WINDOWS], uint, 0444);
MODULE_PARM_DESC(emergency_hold_windows,
		 "windows with a live controller before EMERGENCY -> LEARNING");

module_param_named(max_epoch_lag, mlp_param[MLP_P_MAX_EPOCH_LAG], uint, 0444);
MODULE_PARM_DESC(max_epoch_lag, "recommendations may be based on a state this many windows old");

module_param_named(default_ttl_ms, mlp_param[MLP_P_DEFAULT_TTL_MS], uint, 0444);
MODULE_PARM_DESC(default_ttl_ms, "time to live of a recommendation with ttl_ms 0");

module_param_named(ring_records, mlp_param[MLP_P_RING_RECORDS], uint, 0444);
MODULE_PARM_DESC(ring_records, "feedback ring capacity per open file, in records");

module_param_named(max_open, mlp_param[MLP_P_MAX_OPEN], uint, 0444);
MODULE_PARM_DESC(max_open,
		 "open files per user without CAP_SYS_ADMIN; beyond, open() fails with EAGAIN");

static int mlp_check_params(void)
{
	const struct kernel_param *kp = THIS_MODULE->kp;
	bool same_name, same_slot;
	const struct mlp_param *p;
	u32 i, id, n;

	/*
	 * Each table parameter is declared above once, under its table name and
	 * for its own slot (the readahead subsystem's ra_* are not the table's).
	 */
	for (id = 0; id < MLP_NR_PARAMS; id++) {
		n = 0;
		for (i = 0; i < THIS_MODULE->num_kp; i++) {
			same_name = !strcmp(kp[i].name, mlp_params[id].name);
			same_slot = kp[i].arg == &mlp_param[id];
			if (same_name != same_slot) {
				pr_err("parameter %s is not declared as in mlproxy_params.h\n",
				       kp[i].name);
				return -EINVAL;
			}
			n += same_name;
		}
		if (n != 1) {
			pr_err("parameter %s is declared %u times\n",
			       mlp_params[id].name, n);
			return -EINVAL;
		}
	}
	for (i = 0; i < MLP_NR_PARAMS; i++) {
		if (mlp_param_ok(i, mlp_param[i]))
			continue;
		p = &mlp_params[i];
		pr_err("parameter %s=%u is out of range [%u, %u]%s\n", p->name,
		       mlp_param[i], p->lo, p->hi, p->zero_ok ? " (or 0)" : "");
		return -EINVAL;
	}
	return 0;
}

/*
 * Open files per unprivileged user: one user cannot take every slot, and root
 * (CAP_SYS_ADMIN, checked without an audit record) is never counted or refused.
 */
struct mlp_user {
	struct hlist_node node;
	kuid_t uid;
	unsigned int count;
};

static DEFINE_HASHTABLE(mlp_users, 5);
static DEFINE_SPINLOCK(mlp_users_lock);

static int mlp_user_get(struct mlp_file *f)
{
	kuid_t uid = current_uid();
	struct mlp_user *u, *fresh;
	int err = 0;

	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return -ENOMEM;
	spin_lock(&mlp_users_lock);
	hash_for_each_possible(mlp_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			break;
	if (!u) {
		u = fresh;
		fresh = NULL;
		u->uid = uid;
		hash_add(mlp_users, &u->node, __kuid_val(uid));
	}
	if (u->count >= mlp_param[MLP_P_MAX_OPEN])
		err = -EAGAIN;
	else
		u->count++;
	if (err && !u->count) {
		hash_del(&u->node);
		fresh = u;
	} else if (!err) {
		f->user = u;
	}
	spin_unlock(&mlp_users_lock);
	kfree(fresh);
	return err;
}

static void mlp_user_put(struct mlp_file *f)
{
	struct mlp_user *u = f->user;

	if (!u)
		return;
	spin_lock(&mlp_users_lock);
	if (--u->count)
		u = NULL;
	else
		hash_del(&u->node);
	spin_unlock(&mlp_users_lock);
	kfree(u);
}

/* The kernel copy of any ioctl struct (SUBSYS_INFO is allocated instead). */
union mlp_ioc_buf {
	u32 size;
	struct mlp_version version;
	struct mlp_state state;
	struct mlp_recommendation rec;
	struct mlp_mode mode;
	struct mlp_status status;
	struct mlp_claim claim;
	struct mlp_file_config config;
};

static long mlp_ioc_version(struct mlp_file *f, void *k)
{
	struct mlp_version *v = k;
	u32 major = v->abi_major, minor = v->abi_minor;

	if (v->__reserved)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	v->compatible = major == MLP_ABI_MAJOR;
	v->abi_major = MLP_ABI_MAJOR;
	v->abi_minor = MLP_ABI_MINOR;
	v->nr_subsys = mlp_nr_subsys();
	v->max_subsys = MLP_MAX_SUBSYS;
	v->max_features = MLP_MAX_FEATURES;
	v->max_knobs = MLP_MAX_KNOBS;
	v->ring_records = mlp_param[MLP_P_RING_RECORDS];
	v->sizeof_subsys_info = sizeof(struct mlp_subsys_info);
	v->sizeof_state = sizeof(struct mlp_state);
	v->sizeof_recommendation = sizeof(struct mlp_recommendation);
	v->sizeof_mode = sizeof(struct mlp_mode);
	v->sizeof_status = sizeof(struct mlp_status);
	v->sizeof_feedback = sizeof(struct mlp_feedback);
	v->sizeof_claim = sizeof(struct mlp_claim);
	v->sizeof_version = sizeof(struct mlp_version);
	v->sizeof_file_config = sizeof(struct mlp_file_config);
	v->generation = mlp_generation();
	/* The file speaks the caller's minor from now on (0 for another major). */
	WRITE_ONCE(f->minor, v->compatible ? min_t(u32, minor, MLP_ABI_MINOR) : 0);
	v->file_minor = READ_ONCE(f->minor);
	return 0;
}

static long mlp_ioc_subsys_info(struct mlp_file *f, void *k)
{
	struct mlp_subsys_info *info = k;
	u32 index = info->index, id = info->id, flags = info->flags;
	struct mlp_subsys *s;

	if (flags & ~MLP_INFO_F_BY_ID || info->__reserved)
		return -EINVAL;
	down_read(&mlp_registry_sem);
	s = flags & MLP_INFO_F_BY_ID ? mlp_find_by_id(id) :
				       mlp_find_by_index(index);
	if (s) {
		memcpy(info, &s->info, sizeof(*info));
		info->index = mlp_index_of(s);
		info->generation = mlp_generation();
		info->flags = flags;
	}
	up_read(&mlp_registry_sem);
	return s ? 0 : -ENOENT;
}

static long mlp_ioc_get_state(struct mlp_file *f, void *k)
{
	struct mlp_state *st = k;
	struct mlp_subsys *s;

	down_read(&mlp_registry_sem);
	s = mlp_find_by_id(st->subsys_id);
	if (s)
		mlp_fill_state(s, st);
	up_read(&mlp_registry_sem);
	return s ? 0 : -ENOENT;
}

static long mlp_ioc_recommend(struct mlp_file *f, void *k)
{
	struct mlp_recommendation *out = k, r = *out;
	struct mlp_subsys *s;
	int err = 0;

	if (r.flags & ~MLP_REC_F_STRICT || !r.propensity ||
	    r.propensity > MLP_PROB_SCALE || r.ttl_ms > MLP_TTL_MAX_MS ||
	    r.nr_knobs > MLP_MAX_KNOBS)
		return -EINVAL;
	if (!r.ttl_ms)
		r.ttl_ms = mlp_param[MLP_P_DEFAULT_TTL_MS];
	/* The answer: the caller's own fields echoed, the kernel's set, nothing else. */
	memset(out, 0, sizeof(*out));
	out->subsys_id = r.subsys_id;
	out->epoch = r.epoch;
	out->model_version = r.model_version;
	out->propensity = r.propensity;
	out->nr_knobs = r.nr_knobs;
	out->ttl_ms = r.ttl_ms;
	out->flags = r.flags;
	memcpy(out->knobs, r.knobs, sizeof(out->knobs));
	down_read(&mlp_registry_sem);
	s = mlp_find_by_id(r.subsys_id);
	if (s) {
		mutex_lock(&s->lock);
		err = mlp_recommend(s, f, &r);
		mutex_unlock(&s->lock);
	}
	up_read(&mlp_registry_sem);
	if (!s)
		return -ENOENT;
	if (err)
		return err;
	out->rec_id = r.rec_id;
	out->target_epoch = r.target_epoch;
	out->verdict = r.verdict;
	out->reasons = r.reasons;
	memcpy(out->applied, r.applied, sizeof(out->applied));
	return 0;
}

static long mlp_ioc_get_mode(struct mlp_file *f, void *k)
{
	struct mlp_mode *m = k;
	u32 id = m->subsys_id;
	struct mlp_subsys *s;
	struct mlp_snap sn;

	down_read(&mlp_registry_sem);
	s = mlp_find_by_id(id);
	if (s)
		mlp_read_snap(s, &sn);
	up_read(&mlp_registry_sem);
	if (!s)
		return -ENOENT;
	memset(m, 0, sizeof(*m));
	m->subsys_id = id;
	m->mode = sn.mode;
	m->flags = sn.pinned ? MLP_MODE_F_PIN : 0;
	return 0;
}

static long mlp_ioc_set_mode(struct mlp_file *f, void *k)
{
	struct mlp_mode *m = k;
	struct mlp_subsys *s;

	if (m->mode >= MLP_NR_MODES || m->flags & ~MLP_MODE_F_PIN)
		return -EINVAL;
	down_read(&mlp_registry_sem);
	s = mlp_find_by_id(m->subsys_id);
	if (s) {
		mutex_lock(&s->lock);
		mlp_set_mode(s, m->mode, m->flags);
		mutex_unlock(&s->lock);
	}
	up_read(&mlp_registry_sem);
	return s ? 0 : -ENOENT;
}

static long mlp_ioc_get_status(struct mlp_file *f, void *k)
{
	struct mlp_status *st = k;
	struct mlp_subsys *s;

	down_read(&mlp_registry_sem);
	s = mlp_find_by_id(st->subsys_id);
	if (s)
		mlp_fill_status(s, f, st);
	up_read(&mlp_registry_sem);
	return s ? 0 : -ENOENT;
}

static long mlp_ioc_claim_or_beat(struct mlp_file *f, void *k, bool beat)
{
	struct mlp_claim *c = k;
	struct mlp_subsys *s;
	int err = 0;

	if (c->__reserved || c->flags & ~(beat ? 0 : MLP_CLAIM_F_RELEASE))
		return -EINVAL;
	down_read(&mlp_registry_sem);
	s = mlp_find_by_id(c->subsys_id);
	if (s) {
		mutex_lock(&s->lock);
		err = beat ? mlp_heartbeat(s, f) : mlp_claim(s, f, c->flags);
		mutex_unlock(&s->lock);
	}
	up_read(&mlp_registry_sem);
	return s ? err : -ENOENT;
}

static long mlp_ioc_claim(struct mlp_file *f, void *k)
{
	return mlp_ioc_claim_or_beat(f, k, false);
}

static long mlp_ioc_heartbeat(struct mlp_file *f, void *k)
{
	return mlp_ioc_claim_or_beat(f, k, true);
}

#define MLP_FILE_FLAGS	(MLP_FILE_SET_RECORD_SIZE | MLP_FILE_SET_READ_TIMEOUT | \
			 MLP_FILE_SET_SUBSCRIBE | MLP_FILE_WAKE)

static long mlp_ioc_file(struct mlp_file *f, void *k)
{
	struct mlp_file_config *c = k, in = *c;
	u32 i;

	if (in.flags & ~MLP_FILE_FLAGS)
		return -EINVAL;
	if (in.flags & MLP_FILE_SET_RECORD_SIZE &&
	    (in.record_size < MLP_SIZEOF_FEEDBACK_VER0 ||
	     in.record_size > sizeof(struct mlp_feedback)))
		return -EINVAL;
	if (in.flags & MLP_FILE_SET_READ_TIMEOUT &&
	    in.read_timeout_ms > MLP_READ_TIMEOUT_MAX_MS &&
	    in.read_timeout_ms != MLP_READ_TIMEOUT_NONE)
		return -EINVAL;
	if (in.flags & MLP_FILE_SET_SUBSCRIBE) {
		if (in.nr_subscribed > MLP_MAX_SUBSYS)
			return -EINVAL;
		for (i = 0; i < in.nr_subscribed; i++)
			if (!in.subscribed[i])
				return -EINVAL;
	}
	memset(c, 0, sizeof(*c));
	spin_lock(&f->lock);
	/* record_size, read_timeout_ms and wake_seq are read by read() unlocked. */
	if (in.flags & MLP_FILE_SET_RECORD_SIZE)
		WRITE_ONCE(f->record_size, in.record_size);
	if (in.flags & MLP_FILE_SET_READ_TIMEOUT)
		WRITE_ONCE(f->read_timeout_ms, in.read_timeout_ms);
	if (in.flags & MLP_FILE_SET_SUBSCRIBE) {
		f->nr_subscribed = in.nr_subscribed;
		memcpy(f->subscribed, in.subscribed, sizeof(f->subscribed));
	}
	if (in.flags & MLP_FILE_WAKE)
		WRITE_ONCE(f->wake_seq, f->wake_seq + 1);
	c->flags = in.flags;
	c->record_size = f->record_size;
	c->read_timeout_ms = f->read_timeout_ms;
	c->queued = f->count;
	c->nr_subscribed = f->nr_subscribed;
	memcpy(c->subscribed, f->subscribed, sizeof(c->subscribed));
	c->dropped = f->dropped;
	spin_unlock(&f->lock);
	if (in.flags & MLP_FILE_WAKE)
		wake_up_interruptible(&f->wait);
	return 0;
}

/* One command: its direction, its kernel struct and the 1.0 size. */
struct mlp_ioc_desc {
	long (*fn)(struct mlp_file *f, void *k);
	u32 dir;
	u32 ksize;
	u32 minsize;
	bool control;			/* CAP_SYS_ADMIN and a file open for writing */
};

#define MLP_IOC(nr, f, d, type, min, ctl) \
	[nr] = { .fn = f, .dir = d, .ksize = sizeof(type), .minsize = min, \
		 .control = ctl }

static const struct mlp_ioc_desc mlp_iocs[] = {
	MLP_IOC(0x00, mlp_ioc_version, _IOC_READ | _IOC_WRITE,
		struct mlp_version, MLP_SIZEOF_VERSION_VER0, false),
	MLP_IOC(0x01, mlp_ioc_subsys_info, _IOC_READ | _IOC_WRITE,
		struct mlp_subsys_info, MLP_SIZEOF_SUBSYS_INFO_VER0, false),
	MLP_IOC(0x02, mlp_ioc_get_state, _IOC_READ | _IOC_WRITE,
		struct mlp_state, MLP_SIZEOF_STATE_VER0, false),
	MLP_IOC(0x03, mlp_ioc_recommend, _IOC_READ | _IOC_WRITE,
		struct mlp_recommendation, MLP_SIZEOF_RECOMMENDATION_VER0, true),
	MLP_IOC(0x04, mlp_ioc_get_mode, _IOC_READ | _IOC_WRITE,
		struct mlp_mode, MLP_SIZEOF_MODE_VER0, false),
	MLP_IOC(0x05, mlp_ioc_set_mode, _IOC_WRITE,
		struct mlp_mode, MLP_SIZEOF_MODE_VER0, true),
	MLP_IOC(0x06, mlp_ioc_get_status, _IOC_READ | _IOC_WRITE,
		struct mlp_status, MLP_SIZEOF_STATUS_VER0, false),
	MLP_IOC(0x07, mlp_ioc_claim, _IOC_WRITE,
		struct mlp_claim, MLP_SIZEOF_CLAIM_VER0, true),
	MLP_IOC(0x08, mlp_ioc_heartbeat, _IOC_WRITE,
		struct mlp_claim, MLP_SIZEOF_CLAIM_VER0, true),
	MLP_IOC(0x09, mlp_ioc_file, _IOC_READ | _IOC_WRITE,
		struct mlp_file_config, MLP_SIZEOF_FILE_CONFIG_VER0, false),
};

static long mlp_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mlp_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct mlp_ioc_desc *d;
	u32 usize = _IOC_SIZE(cmd), nr = _IOC_NR(cmd), out;
	union mlp_ioc_buf buf;
	void *k = &buf;
	long err;

	if (_IOC_TYPE(cmd) != MLP_IOC_MAGIC || nr >= ARRAY_SIZE(mlp_iocs))
		return -ENOTTY;
	d = &mlp_iocs[nr];
	if (!d->fn || _IOC_DIR(cmd) != d->dir)
		return -ENOTTY;
	if (d->control) {
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
	}
	if (usize < d->minsize)
		return -EINVAL;
	if (d->ksize > sizeof(buf)) {
		k = kmalloc(d->ksize, GFP_KERNEL);
		if (!k)
			return -ENOMEM;
	}
	err = copy_struct_from_user(k, d->ksize, uarg, usize);
	if (!err && *(u32 *)k != usize)
		err = -EINVAL;
	if (!err)
		err = d->fn(f, k);
	if (!err && d->dir & _IOC_READ) {
		out = min(usize, d->ksize);
		*(u32 *)k = out;
		if (copy_to_user(uarg, k, out))
			err = -EFAULT;
	}
	if (k != &buf)
		kfree(k);
	return err;
}

static bool mlp_ring_peek(struct mlp_file *f, struct mlp_feedback *fb)
{
	bool some;

	spin_lock(&f->lock);
	some = f->count;
	if (some)
		*fb = f->ring[f->head];
	spin_unlock(&f->lock);
	return some;
}

static void mlp_ring_pop(struct mlp_file *f)
{
	spin_lock(&f->lock);
	if (++f->head == f->cap)
		f->head = 0;
	WRITE_ONCE(f->count, f->count - 1);	/* mlp_ring_ready() reads it unlocked */
	spin_unlock(&f->lock);
}

static bool mlp_ring_ready(struct mlp_file *f)
{
	return READ_ONCE(f->count) != 0;
}

static bool mlp_read_ready(struct mlp_file *f, u32 seq)
{
	return mlp_ring_ready(f) || READ_ONCE(f->wake_seq) != seq;
}

/*
 * Waits for a record: 0 when one is queued, -EAGAIN when the read timeout
 * passed or MLP_FILE_WAKE woke the reader (read() then returns 0). seq is the
 * wake count when read() began, so a wake at any moment after that counts.
 */
static int mlp_wait_record(struct mlp_file *f, u32 seq, long *left)
{
	long ret;

	if (*left == MAX_SCHEDULE_TIMEOUT) {
		ret = wait_event_interruptible(f->wait, mlp_read_ready(f, seq));
		if (ret)
			return ret;
	} else {
		ret = wait_event_interruptible_timeout(f->wait,
						       mlp_read_ready(f, seq),
						       *left);
		if (ret < 0)
			return ret;
		*left = ret;
		if (!ret && !mlp_ring_ready(f))
			return -EAGAIN;
	}
	return mlp_ring_ready(f) ? 0 : -EAGAIN;
}

static ssize_t mlp_read(struct file *file, char __user *buf, size_t count,
			loff_t *ppos)
{
	struct mlp_file *f = file->private_data;
	u32 seq = READ_ONCE(f->wake_seq);
	u32 rsize = READ_ONCE(f->record_size);
	u32 tmo = READ_ONCE(f->read_timeout_ms);
	long left = tmo == MLP_READ_TIMEOUT_NONE ? MAX_SCHEDULE_TIMEOUT :
						   msecs_to_jiffies(tmo);
	struct mlp_feedback fb;
	size_t done = 0;
	ssize_t ret;

	if (count < rsize)
		return -EINVAL;
	for (;;) {
		if (mutex_lock_interruptible(&f->read_mutex))
			return -ERESTARTSYS;
		if (mlp_ring_peek(f, &fb))
			break;
		mutex_unlock(&f->read_mutex);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (!left)
			return 0;
		ret = mlp_wait_record(f, seq, &left);
		if (ret == -EAGAIN)
			return 0;
		if (ret)
			return ret;
	}
	/* Only this reader pops, so the peeked record stays at the head. */
	do {
		fb.size = rsize;
		if (copy_to_user(buf + done, &fb, rsize)) {
			ret = done ? done : -EFAULT;
			goto out;
		}
		mlp_ring_pop(f);
		done += rsize;
	} while (done + rsize <= count && mlp_ring_peek(f, &fb));
	ret = done;
out:
	mutex_unlock(&f->read_mutex);
	return ret;
}

static __poll_t mlp_poll(struct file *file, poll_table *wait)
{
	struct mlp_file *f = file->private_data;

	poll_wait(file, &f->wait, wait);
	return mlp_ring_ready(f) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int mlp_open(struct inode *inode, struct file *file)
{
	struct mlp_file *f;
	int err;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	if (!ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN)) {
		err = mlp_user_get(f);
		if (err) {
			kfree(f);
			return err;
		}
	}
	f->ring = kvcalloc(mlp_param[MLP_P_RING_RECORDS], sizeof(*f->ring),
			   GFP_KERNEL_ACCOUNT);
	if (!f->ring) {
		mlp_user_put(f);
		kfree(f);
		return -ENOMEM;
	}
	spin_lock_init(&f->lock);
	init_waitqueue_head(&f->wait);
	mutex_init(&f->read_mutex);
	f->cap = mlp_param[MLP_P_RING_RECORDS];
	f->record_size = MLP_SIZEOF_FEEDBACK_VER0;
	f->read_timeout_ms = MLP_READ_TIMEOUT_NONE;
	file->private_data = f;
	mlp_file_open(f);
	return stream_open(inode, file);
}

static void mlp_file_free(struct rcu_head *rcu)
{
	struct mlp_file *f = container_of(rcu, struct mlp_file, rcu);

	kvfree(f->ring);
	kfree(f);
}

static int mlp_release(struct inode *inode, struct file *file)
{
	struct mlp_file *f = file->private_data;

	mlp_file_release(f);
	mlp_user_put(f);
	mutex_destroy(&f->read_mutex);
	/* The window work may still be walking mlp_files past f. */
	call_rcu(&f->rcu, mlp_file_free);
	return 0;
}

static const struct file_operations mlp_fops = {
	.owner = THIS_MODULE,
	.open = mlp_open,
	.release = mlp_release,
	.read = mlp_read,
	.poll = mlp_poll,
	.unlocked_ioctl = mlp_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/*
 * 0600: the records (efficiencies, the readahead subsystem's delivered bytes)
 * are a page-cache hit signal of the whole system. A udev rule may give a
 * group read access; control needs CAP_SYS_ADMIN whatever the mode.
 */
static struct miscdevice mlp_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = MLP_DEVICE_NAME,
	.fops = &mlp_fops,
	.mode = 0600,
};

static int __init mlp_init(void)
{
	int err = mlp_check_params();

	if (err)
		return err;
	err = mlp_core_init();
	if (err)
		return err;
	err = mlp_readahead_init();
	if (err)
		goto out_core;
	err = misc_register(&mlp_misc);
	if (err)
		goto out_ra;
	pr_info("ABI %u.%u, /dev/%s ready, %u subsystems\n", MLP_ABI_MAJOR,
		MLP_ABI_MINOR, MLP_DEVICE_NAME, mlp_nr_subsys());
	return 0;
out_ra:
	mlp_readahead_exit();
out_core:
	mlp_core_exit();
	return err;
}

static void __exit mlp_exit(void)
{
	misc_deregister(&mlp_misc);
	mlp_readahead_exit();
	mlp_core_exit();
	rcu_barrier();		/* the last files' mlp_file_free() */
	pr_info("unloaded\n");
}

module_init(mlp_init);
module_exit(mlp_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("mlproxy developers");
MODULE_DESCRIPTION("ML proxy: kernel-controlled advice from a user-space learner");
MODULE_VERSION("1.1");
