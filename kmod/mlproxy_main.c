// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy: the misc device /dev/mlproxy, its ioctls, read() and poll() of the
 * per-file feedback rings, the module parameters and module init/exit.
 *
 * Every ioctl copies its struct in, works on a kernel copy under the locks,
 * and copies out after dropping them: no lock is held across a user-space
 * access, so a faulting or stalled caller cannot hold up a window.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "mlproxy_internal.h"

unsigned int mlp_learning_period = 10;
module_param_named(learning_period, mlp_learning_period, uint, 0444);
MODULE_PARM_DESC(learning_period,
		 "LEARNING: advice in windows w % learning_period == 0 (2..1000, default 10)");

unsigned int mlp_check_period = 16;
module_param_named(check_period, mlp_check_period, uint, 0444);
MODULE_PARM_DESC(check_period,
		 "RECOMMENDATION: windows w % check_period == 0 run the baseline, the check the ladder judges advice against (0: none, else 2..100000, default 16)");

unsigned int mlp_promote_windows = 8;
module_param_named(promote_windows, mlp_promote_windows, uint, 0444);
MODULE_PARM_DESC(promote_windows,
		 "consecutive good advice windows to promote one step (1..100000, default 8)");

unsigned int mlp_promote_margin_pct = 2;
module_param_named(promote_margin_pct, mlp_promote_margin_pct, uint, 0444);
MODULE_PARM_DESC(promote_margin_pct,
		 "good: eff >= baseline * (100 + this) / 100 (0..100, default 2)");

unsigned int mlp_demote_margin_pct = 5;
module_param_named(demote_margin_pct, mlp_demote_margin_pct, uint, 0444);
MODULE_PARM_DESC(demote_margin_pct,
		 "regression: eff < baseline * (100 - this) / 100 (0..99, default 5)");

unsigned int mlp_collapse_pct = 50;
module_param_named(collapse_pct, mlp_collapse_pct, uint, 0444);
MODULE_PARM_DESC(collapse_pct,
		 "collapse to EMERGENCY: eff < baseline * this / 100 (0..100, default 50)");

unsigned int mlp_heartbeat_ms = 2000;
module_param_named(heartbeat_ms, mlp_heartbeat_ms, uint, 0444);
MODULE_PARM_DESC(heartbeat_ms,
		 "controller heartbeat timeout (10..600000, default 2000)");

unsigned int mlp_emergency_hold_windows = 10;
module_param_named(emergency_hold_windows, mlp_emergency_hold_windows, uint,
		   0444);
MODULE_PARM_DESC(emergency_hold_windows,
		 "windows with a live controller before EMERGENCY -> LEARNING (0..100000, default 10)");

unsigned int mlp_max_epoch_lag = 1;
module_param_named(max_epoch_lag, mlp_max_epoch_lag, uint, 0444);
MODULE_PARM_DESC(max_epoch_lag,
		 "recommendations may be based on a state this many windows old (0..1000, default 1)");

unsigned int mlp_default_ttl_ms = 1000;
module_param_named(default_ttl_ms, mlp_default_ttl_ms, uint, 0444);
MODULE_PARM_DESC(default_ttl_ms,
		 "time to live of a recommendation with ttl_ms 0 (1..60000, default 1000)");

unsigned int mlp_ring_records = 256;
module_param_named(ring_records, mlp_ring_records, uint, 0444);
MODULE_PARM_DESC(ring_records,
		 "feedback ring capacity per open file, in records (1..65536, default 256)");

static unsigned int mlp_max_open = 64;
module_param_named(max_open, mlp_max_open, uint, 0444);
MODULE_PARM_DESC(max_open,
		 "open files without CAP_SYS_ADMIN beyond which open() fails with EMFILE (1..65536, default 64)");

static atomic_t mlp_open_count = ATOMIC_INIT(0);

static int mlp_check_param(const char *name, unsigned int val,
			   unsigned int lo, unsigned int hi)
{
	if (val >= lo && val <= hi)
		return 0;
	pr_err("parameter %s=%u is out of range [%u, %u]\n", name, val, lo, hi);
	return -EINVAL;
}

static int mlp_check_params(void)
{
	if (mlp_check_period == 1) {
		pr_err("parameter check_period=1 leaves no advice window: use 0 (no check windows) or 2..100000\n");
		return -EINVAL;
	}
	return mlp_check_param("learning_period", mlp_learning_period, 2, 1000) ?:
	       mlp_check_param("check_period", mlp_check_period, 0, 100000) ?:
	       mlp_check_param("promote_windows", mlp_promote_windows, 1, 100000) ?:
	       mlp_check_param("promote_margin_pct", mlp_promote_margin_pct, 0, 100) ?:
	       mlp_check_param("demote_margin_pct", mlp_demote_margin_pct, 0, 99) ?:
	       mlp_check_param("collapse_pct", mlp_collapse_pct, 0, 100) ?:
	       mlp_check_param("heartbeat_ms", mlp_heartbeat_ms, 10, 600000) ?:
	       mlp_check_param("emergency_hold_windows",
			       mlp_emergency_hold_windows, 0, 100000) ?:
	       mlp_check_param("max_epoch_lag", mlp_max_epoch_lag, 0, 1000) ?:
	       mlp_check_param("default_ttl_ms", mlp_default_ttl_ms, 1,
			       MLP_TTL_MAX_MS) ?:
	       mlp_check_param("ring_records", mlp_ring_records, 1, 65536) ?:
	       mlp_check_param("max_open", mlp_max_open, 1, 65536);
}

/* Copy a struct in and check its leading size field. */
static int mlp_copy_in(void *dst, const void __user *src, u32 size)
{
	if (copy_from_user(dst, src, size))
		return -EFAULT;
	return *(u32 *)dst == size ? 0 : -EINVAL;
}

static int mlp_copy_out(void __user *dst, const void *src, u32 size)
{
	return copy_to_user(dst, src, size) ? -EFAULT : 0;
}

static long mlp_ioc_version(void __user *arg)
{
	struct mlp_version v;
	int err = mlp_copy_in(&v, arg, sizeof(v));

	if (err)
		return err;
	v.compatible = v.abi_major == MLP_ABI_MAJOR;
	v.abi_major = MLP_ABI_MAJOR;
	v.abi_minor = MLP_ABI_MINOR;
	v.nr_subsys = mlp_nr_subsys();
	v.max_subsys = MLP_MAX_SUBSYS;
	v.max_features = MLP_MAX_FEATURES;
	v.max_knobs = MLP_MAX_KNOBS;
	v.ring_records = mlp_ring_records;
	v.sizeof_subsys_info = sizeof(struct mlp_subsys_info);
	v.sizeof_state = sizeof(struct mlp_state);
	v.sizeof_recommendation = sizeof(struct mlp_recommendation);
	v.sizeof_mode = sizeof(struct mlp_mode);
	v.sizeof_status = sizeof(struct mlp_status);
	v.sizeof_feedback = sizeof(struct mlp_feedback);
	v.sizeof_claim = sizeof(struct mlp_claim);
	return mlp_copy_out(arg, &v, sizeof(v));
}

static long mlp_ioc_subsys_info(void __user *arg)
{
	struct mlp_subsys_info *info;
	struct mlp_subsys *s;
	u32 index;
	int err;

	info = kmalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	err = mlp_copy_in(info, arg, sizeof(*info));
	if (err)
		goto out;
	index = info->index;
	down_read(&mlp_registry_sem);
	s = mlp_find_by_index(index);
	if (s)
		memcpy(info, &s->info, sizeof(*info));
	up_read(&mlp_registry_sem);
	if (!s) {
		err = -ENOENT;
		goto out;
	}
	info->index = index;
	err = mlp_copy_out(arg, info, sizeof(*info));
out:
	kfree(info);
	return err;
}

static long mlp_ioc_get_state(void __user *arg)
{
	struct mlp_state st;
	struct mlp_subsys *s;
	int err = mlp_copy_in(&st, arg, sizeof(st));

	if (err)
		return err;
	down_read(&mlp_registry_sem);
	s = mlp_find_by_id(st.subsys_id);
	if (s) {
		mutex_lock(&s->lock);
		mlp_fill_state(s, &st);
		mutex_unlock(&s->lock);
	}
	up_read(&mlp_registry_sem);
	return s ? mlp_copy_out(arg, &st, sizeof(st)) : -ENOENT;
}

static long mlp_ioc_recommend(struct mlp_file *f, void __user *arg)
{
	struct mlp_recommendation r;
	struct mlp_subsys *s;
	int err = mlp_copy_in(&r, arg, sizeof(r));

	if (err)
		return err;
	if (r.flags & ~MLP_REC_F_STRICT || !r.propensity ||
	    r.propensity > MLP_PROB_SCALE || r.ttl_ms > MLP_TTL_MAX_MS ||
	    r.nr_knobs > MLP_MAX_KNOBS)
		return -EINVAL;
	if (!r.ttl_ms)
		r.ttl_ms = mlp_default_ttl_ms;
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
	return err ?: mlp_copy_out(arg, &r, sizeof(r));
}

static long mlp_ioc_mode(struct mlp_file *f, void __user *arg, bool set)
{
	struct mlp_mode m;
	struct mlp_subsys *s;
	int err = mlp_copy_in(&m, arg, sizeof(m));

	if (err)
		return err;
	if (set && (m.mode >= MLP_NR_MODES || m.flags & ~MLP_MODE_F_PIN))
		return -EINVAL;
	down_read(&mlp_registry_sem);
	s = mlp_find_by_id(m.subsys_id);
	if (s) {
		mutex_lock(&s->lock);
		if (set)
			mlp_set_mode(s, m.mode, m.flags);
		m.mode = s->mode;
		m.flags = s->pinned ? MLP_MODE_F_PIN : 0;
		mutex_unlock(&s->lock);
	}
	up_read(&mlp_registry_sem);
	if (!s)
		return -ENOENT;
	return set ? 0 : mlp_copy_out(arg, &m, sizeof(m));
}

static long mlp_ioc_get_status(struct mlp_file *f, void __user *arg)
{
	struct mlp_status st;
	struct mlp_subsys *s;
	int err = mlp_copy_in(&st, arg, sizeof(st));

	if (err)
		return err;
	down_read(&mlp_registry_sem);
	s = mlp_find_by_id(st.subsys_id);
	if (s) {
		mutex_lock(&s->lock);
		mlp_fill_status(s, f, &st);
		mutex_unlock(&s->lock);
	}
	up_read(&mlp_registry_sem);
	return s ? mlp_copy_out(arg, &st, sizeof(st)) : -ENOENT;
}

static long mlp_ioc_claim(struct mlp_file *f, void __user *arg, bool beat)
{
	struct mlp_claim c;
	struct mlp_subsys *s;
	int err = mlp_copy_in(&c, arg, sizeof(c));

	if (err)
		return err;
	if (c.__reserved || c.flags & ~(beat ? 0 : MLP_CLAIM_F_RELEASE))
		return -EINVAL;
	down_read(&mlp_registry_sem);
	s = mlp_find_by_id(c.subsys_id);
	if (s) {
		mutex_lock(&s->lock);
		err = beat ? mlp_heartbeat(s, f) : mlp_claim(s, f, c.flags);
		mutex_unlock(&s->lock);
	}
	up_read(&mlp_registry_sem);
	return s ? err : -ENOENT;
}

static long mlp_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mlp_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case MLP_IOC_RECOMMEND:
	case MLP_IOC_SET_MODE:
	case MLP_IOC_CLAIM:
	case MLP_IOC_HEARTBEAT:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		break;
	}
	switch (cmd) {
	case MLP_IOC_VERSION:
		return mlp_ioc_version(uarg);
	case MLP_IOC_SUBSYS_INFO:
		return mlp_ioc_subsys_info(uarg);
	case MLP_IOC_GET_STATE:
		return mlp_ioc_get_state(uarg);
	case MLP_IOC_RECOMMEND:
		return mlp_ioc_recommend(f, uarg);
	case MLP_IOC_GET_MODE:
		return mlp_ioc_mode(f, uarg, false);
	case MLP_IOC_SET_MODE:
		return mlp_ioc_mode(f, uarg, true);
	case MLP_IOC_GET_STATUS:
		return mlp_ioc_get_status(f, uarg);
	case MLP_IOC_CLAIM:
		return mlp_ioc_claim(f, uarg, false);
	case MLP_IOC_HEARTBEAT:
		return mlp_ioc_claim(f, uarg, true);
	default:
		return -ENOTTY;
	}
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
	f->count--;
	spin_unlock(&f->lock);
}

static bool mlp_ring_ready(struct mlp_file *f)
{
	return READ_ONCE(f->count) != 0;
}

static ssize_t mlp_read(struct file *file, char __user *buf, size_t count,
			loff_t *ppos)
{
	struct mlp_file *f = file->private_data;
	struct mlp_feedback fb;
	size_t done = 0;
	ssize_t ret;

	if (count < sizeof(fb))
		return -EINVAL;
	for (;;) {
		if (mutex_lock_interruptible(&f->read_mutex))
			return -ERESTARTSYS;
		if (mlp_ring_peek(f, &fb))
			break;
		mutex_unlock(&f->read_mutex);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(f->wait, mlp_ring_ready(f));
		if (ret)
			return ret;
	}
	/* Only this reader pops, so the peeked record stays at the head. */
	do {
		if (copy_to_user(buf + done, &fb, sizeof(fb))) {
			ret = done ? done : -EFAULT;
			goto out;
		}
		mlp_ring_pop(f);
		done += sizeof(fb);
	} while (done + sizeof(fb) <= count && mlp_ring_peek(f, &fb));
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

	if (atomic_inc_return(&mlp_open_count) > mlp_max_open &&
	    !capable(CAP_SYS_ADMIN)) {
		atomic_dec(&mlp_open_count);
		return -EMFILE;
	}
	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (f)
		f->ring = kvcalloc(mlp_ring_records, sizeof(*f->ring),
				   GFP_KERNEL_ACCOUNT);
	if (!f || !f->ring) {
		kfree(f);
		atomic_dec(&mlp_open_count);
		return -ENOMEM;
	}
	spin_lock_init(&f->lock);
	init_waitqueue_head(&f->wait);
	mutex_init(&f->read_mutex);
	f->cap = mlp_ring_records;
	file->private_data = f;
	spin_lock(&mlp_files_lock);
	list_add_tail(&f->node, &mlp_files);
	spin_unlock(&mlp_files_lock);
	return stream_open(inode, file);
}

static int mlp_release(struct inode *inode, struct file *file)
{
	struct mlp_file *f = file->private_data;

	spin_lock(&mlp_files_lock);
	list_del(&f->node);
	spin_unlock(&mlp_files_lock);
	mlp_file_closed(f);
	kvfree(f->ring);
	kfree(f);
	atomic_dec(&mlp_open_count);
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
	.llseek = no_llseek,
};

static struct miscdevice mlp_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = MLP_DEVICE_NAME,
	.fops = &mlp_fops,
	.mode = 0644,
};

static int __init mlp_init(void)
{
	int err = mlp_check_params();

	if (err)
		return err;
	err = mlp_synthetic_init();
	if (err)
		return err;
	err = mlp_readahead_init();
	if (err)
		goto out_synth;
	err = misc_register(&mlp_misc);
	if (err)
		goto out_ra;
	pr_info("ABI %u.%u, /dev/%s ready, %u subsystems\n", MLP_ABI_MAJOR,
		MLP_ABI_MINOR, MLP_DEVICE_NAME, mlp_nr_subsys());
	return 0;
out_ra:
	mlp_readahead_exit();
out_synth:
	mlp_synthetic_exit();
	return err;
}

static void __exit mlp_exit(void)
{
	misc_deregister(&mlp_misc);
	mlp_readahead_exit();
	mlp_synthetic_exit();
	pr_info("unloaded\n");
}

module_init(mlp_init);
module_exit(mlp_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("mlproxy developers");
MODULE_DESCRIPTION("ML proxy: kernel-controlled advice from a user-space learner");
MODULE_VERSION("1.0");
