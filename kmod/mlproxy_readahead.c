// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy readahead subsystem: advises the read-ahead of one block device
 * (module parameter ra_dev) and measures, in the kernel, the bytes its readers
 * get per second. docs/readahead.md defines and defends the design; in short:
 *
 * The knob reaches the reads. A file copies the device's ra_pages when it is
 * opened, so writing bdi->ra_pages would reach only files opened later (and
 * fight the administrator). Instead, during advice windows only, kretprobes at
 * the read-ahead entry points page_cache_sync_ra() and page_cache_async_ra()
 * and at filemap_fault() (whose mmap read-around reads f_ra.ra_pages itself)
 * put the advised value into the file's read-ahead state for the duration of
 * the call and put the file's own value back on return. Only files on the
 * disk that follow the device's default are touched: a file whose value differs
 * (POSIX_FADV_SEQUENTIAL doubles it; one opened under an older default) or that
 * asked for random access (FMODE_RANDOM, VM_RAND_READ) keeps its own.
 *
 * The administrator keeps the last word. Baseline windows touch nothing, so the
 * baseline is the device's read_ahead_kb as the administrator set it (any value,
 * 0 included); the module never writes it. A change of it is seen at the next
 * window's end and adopted as the new baseline (mlproxy falls to EMERGENCY,
 * MLP_TRANS_BASELINE). The block device is opened once, at load, only to find
 * it: the module keeps a reference to the disk's inode (its memory, not the
 * device), so the driver can go away (rmmod brd); the subsystem then unregisters.
 *
 * The signal is what the readers see: bytes returned by filemap_read() (read(2),
 * minus already_read, no direct I/O) and pages delivered to mmap faults
 * (filemap_fault(), or the fault-around of filemap_map_pages()) for files on the
 * disk, per second of the window after its first ra_settle_ms (while the I/O the
 * previous window's setting issued completes, the readers see that setting, not
 * this one). A window in which a probe missed calls is reported unreliable.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": readahead: " fmt

#include <linux/atomic.h>
#include <linux/backing-dev.h>
#include <linux/blkdev.h>
#include <linux/cpumask.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kprobes.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/part_stat.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include "mlproxy_internal.h"

static char *ra_dev = "";
module_param(ra_dev, charp, 0444);
MODULE_PARM_DESC(ra_dev,
		 "readahead: block device to advise, e.g. vda, /dev/vda or 254:0 (empty: no readahead subsystem)");

static unsigned int ra_window_ms = 500;
module_param(ra_window_ms, uint, 0444);
MODULE_PARM_DESC(ra_window_ms,
		 "readahead: window length in ms (50..60000, default 500)");

static int ra_settle_ms = -1;
module_param(ra_settle_ms, int, 0444);
MODULE_PARM_DESC(ra_settle_ms,
		 "readahead: bytes delivered in the first ms of a window are not counted: I/O the previous window's setting issued is still completing (-1: min(100, ra_window_ms / 2); else 0 .. ra_window_ms / 2)");

static unsigned int ra_maxactive;
module_param(ra_maxactive, uint, 0444);
MODULE_PARM_DESC(ra_maxactive,
		 "readahead: calls each probe follows at once (0: max(256, 32 per possible CPU), else 1..4096)");

#define RA_KB_LOG2_MIN	4	/* 16 KiB */
#define RA_KB_LOG2_MAX	12	/* 4 MiB */
#define RA_MAXACTIVE_MAX	4096

enum {
	RA_READ_KBPS,
	RA_MEAN_REQ_KB,
	RA_READ_LAT_US,
	RA_BUSY,
	RA_MERGED,
	RA_KB,
	RA_DELIVERED_KBPS,
	RA_DELIVERED_PER_READ,
	RA_FAULT_SHARE,
	RA_SEQ_SHARE,
	RA_MAJOR_SHARE,
	RA_BASE_KB,
	RA_OWN_SHARE,
	RA_MISSED,
	RA_NR_FEATURES
};

static const struct mlp_feature_schema ra_features[RA_NR_FEATURES] = {
	[RA_READ_KBPS] = { .name = "read_kbps", .unit = "KiB/s", .scale = 1 },
	[RA_MEAN_REQ_KB] = { .name = "mean_read_kb", .unit = "KiB",
			     .scale = 1000 },
	[RA_READ_LAT_US] = { .name = "read_latency_us", .unit = "us",
			     .scale = 1 },
	[RA_BUSY] = { .name = "busy", .unit = "permille", .scale = 1000 },
	[RA_MERGED] = { .name = "merged_reads", .unit = "permille",
			.scale = 1000 },
	[RA_KB] = { .name = "ra_kb", .unit = "KiB", .scale = 1 },
	[RA_DELIVERED_KBPS] = { .name = "delivered_kbps", .unit = "KiB/s",
				.scale = 1 },
	[RA_DELIVERED_PER_READ] = { .name = "delivered_per_read",
				    .unit = "ratio", .scale = 1000 },
	[RA_FAULT_SHARE] = { .name = "fault_share", .unit = "permille",
			     .scale = 1000 },
	[RA_SEQ_SHARE] = { .name = "seq_read_share", .unit = "permille",
			   .scale = 1000 },
	[RA_MAJOR_SHARE] = { .name = "major_fault_share", .unit = "permille",
			     .scale = 1000 },
	[RA_BASE_KB] = { .name = "baseline_ra_kb", .unit = "KiB", .scale = 1 },
	[RA_OWN_SHARE] = { .name = "own_ra_share", .unit = "permille",
			   .scale = 1000 },
	[RA_MISSED] = { .name = "missed_calls", .unit = "", .scale = 1 },
};

static struct mlp_knob_schema ra_knobs[] = {
	{ .name = "ra_kb_log2", .unit = "log2(KiB)", .min = RA_KB_LOG2_MIN,
	  .max = RA_KB_LOG2_MAX, .step = 1, .max_delta = 0 },
};

/* Cumulative counters; the window's share is the difference of two samples. */
struct ra_sample {
	u64 sectors;			/* block layer, whole disk */
	u64 ios;
	u64 merges;
	u64 nsecs;
	u64 io_ticks;			/* jiffies with a request in flight */
	u64 read_bytes;			/* delivered by filemap_read() */
	u64 reads;
	u64 seq_reads;			/* ki_pos where the last read ended */
	u64 fault_bytes;		/* delivered by filemap_fault() */
	u64 faults;
	u64 major_faults;
	u64 ra_calls;			/* read-ahead calls in advice windows */
	u64 ra_own;			/* of them, left at the file's own value */
	u64 missed;			/* calls the probes could not follow */
	u64 calls;			/* reads and faults of disk files begun */
	u64 returns;			/* and ended */
};

struct ra_ctx {
	struct gendisk *disk;		/* alive while we hold inode */
	struct inode *inode;		/* the disk's block device inode */
	struct block_device *part0;
	struct backing_dev_info *bdi;
	dev_t devt;
	unsigned long base_pages;	/* the baseline: the administrator's */
	unsigned long advice_pages;	/* this window's advice; 0: baseline */
	u64 settle_ns;
	u64 count_from_ns;		/* deliveries before this are not counted */
	bool stopping;
	bool gone;			/* the disk was removed */
	atomic_t inflight;		/* substitutions not yet undone */
	wait_queue_head_t drained;
	atomic64_t read_bytes, reads, seq_reads;
	atomic64_t fault_bytes, faults, major_faults;
	atomic64_t ra_calls, ra_own;
	atomic64_t calls, returns;
	struct ra_sample last;		/* at the start of the current window */
	struct ra_sample delta;		/* over the last window measured */
	u64 delta_ns;
};

static struct ra_ctx ra_ctx;
static struct mlp_subsys *ra_subsys;
static DEFINE_MUTEX(ra_teardown_lock);
static void ra_gone_work(struct work_struct *work);
static DECLARE_WORK(ra_gone, ra_gone_work);

/* Whether a file's page cache belongs to the disk. */
static bool ra_file_on_disk(const struct file *file)
{
	struct inode *host;
	struct block_device *b;

	if (!file || !file->f_mapping || !file->f_mapping->host)
		return false;
	host = file->f_mapping->host;
	b = S_ISBLK(host->i_mode) ? I_BDEV(host) : host->i_sb->s_bdev;
	return b && b->bd_disk == ra_ctx.disk;
}

/* What a probe remembers between the call and its return. */
struct ra_call {
	struct file_ra_state *ra;	/* substituted, or NULL */
	struct file *file;		/* referenced (faults only), or NULL */
	unsigned int own;		/* the file's own ra_pages */
	unsigned int adv;		/* what we put there */
	loff_t already;			/* filemap_read: bytes before the call */
	bool seq;
};

/*
 * In an advice window, put the advice into a file's read-ahead state for one
 * call, unless the file has its own value (not the device's default) or asked
 * for random access. Returns true when the caller must undo it on return.
 */
static bool ra_substitute(struct ra_ctx *c, struct file_ra_state *ra,
			  struct ra_call *call)
{
	unsigned int adv = READ_ONCE(c->advice_pages), own;

	if (!adv)
		return false;
	/*
	 * Counted in flight before stopping is checked (ra_stop_probes() sets it,
	 * then waits for the count): either the stop sees this call, or this call
	 * sees the stop.
	 */
	atomic_inc(&c->inflight);
	smp_mb__after_atomic();	/* pairs with ra_stop_probes() */
	if (READ_ONCE(c->stopping))
		goto out;
	atomic64_inc(&c->ra_calls);
	own = READ_ONCE(ra->ra_pages);
	if (own == adv)
		goto out;	/* already in force (a caller on the same file) */
	if (own != READ_ONCE(c->bdi->ra_pages) ||
	    cmpxchg(&ra->ra_pages, own, adv) != own) {
		atomic64_inc(&c->ra_own);
		goto out;
	}
	call->ra = ra;
	call->own = own;
	call->adv = adv;
	return true;
out:
	if (atomic_dec_and_test(&c->inflight))
		wake_up_all(&c->drained);
	return false;
}

/* Puts the file's own value back, unless someone changed it meanwhile. */
static void ra_restore(struct ra_ctx *c, struct ra_call *call)
{
	if (!call->ra)
		return;
	cmpxchg(&call->ra->ra_pages, call->adv, call->own);
	if (atomic_dec_and_test(&c->inflight))
		wake_up_all(&c->drained);
}

/* page_cache_sync_ra(ractl, ...) and page_cache_async_ra(ractl, folio, ...). */
static int ra_ra_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct readahead_control *ractl =
		(struct readahead_control *)regs_get_kernel_argument(regs, 0);
	struct ra_call *call = (struct ra_call *)ri->data;

	memset(call, 0, sizeof(*call));
	if (!ractl || !ractl->file || !ractl->ra ||
	    (ractl->file->f_mode & FMODE_RANDOM) ||
	    !ra_file_on_disk(ractl->file))
		return 1;
	return ra_substitute(&ra_ctx, ractl->ra, call) ? 0 : 1;
}

static int ra_ra_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	ra_restore(&ra_ctx, (struct ra_call *)ri->data);
	return 0;
}

/* filemap_read(iocb, iter, already_read): bytes returned to read(2). */
static int ra_read_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kiocb *iocb = (struct kiocb *)regs_get_kernel_argument(regs, 0);
	struct ra_call *call = (struct ra_call *)ri->data;
	struct file *file;

	if (!iocb || (iocb->ki_flags & IOCB_DIRECT))
		return 1;
	file = iocb->ki_filp;
	if (!ra_file_on_disk(file))
		return 1;
	memset(call, 0, sizeof(*call));
	call->already = (loff_t)regs_get_kernel_argument(regs, 2);
	call->seq = !iocb->ki_pos || iocb->ki_pos == file->f_ra.prev_pos;
	atomic64_inc(&ra_ctx.calls);
	return 0;
}

static int ra_read_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ra_call *call = (struct ra_call *)ri->data;
	long ret = (long)regs_return_value(regs);

	atomic64_inc(&ra_ctx.returns);
	if (ret <= call->already || ktime_get_ns() < READ_ONCE(ra_ctx.count_from_ns))
		return 0;
	atomic64_add(ret - call->already, &ra_ctx.read_bytes);
	atomic64_inc(&ra_ctx.reads);
	if (call->seq)
		atomic64_inc(&ra_ctx.seq_reads);
	return 0;
}

/*
 * filemap_fault(vmf): a page delivered to a mapping, and the read-around of
 * do_sync_mmap_readahead(), which reads f_ra.ra_pages itself. The fault may
 * drop the mmap lock for I/O and so the VMA's reference to the file: a
 * substituting call holds its own until it has put the file's value back.
 */
static int ra_fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);
	struct ra_call *call = (struct ra_call *)ri->data;
	struct file *file;

	if (!vmf || !vmf->vma || !vmf->vma->vm_file)
		return 1;
	file = vmf->vma->vm_file;
	if (!ra_file_on_disk(file))
		return 1;
	memset(call, 0, sizeof(*call));
	if (!(vmf->vma->vm_flags & VM_RAND_READ) &&
	    ra_substitute(&ra_ctx, &file->f_ra, call))
		call->file = get_file(file);
	atomic64_inc(&ra_ctx.calls);
	return 0;
}

/* A fault that mapped the faulting page delivered one page to the reader. */
static void ra_count_fault(vm_fault_t ret, vm_fault_t delivered)
{
	if (ktime_get_ns() < READ_ONCE(ra_ctx.count_from_ns))
		return;
	if (ret & VM_FAULT_MAJOR)
		atomic64_inc(&ra_ctx.major_faults);
	if (!(ret & delivered))
		return;
	atomic64_add(PAGE_SIZE, &ra_ctx.fault_bytes);
	atomic64_inc(&ra_ctx.faults);
}

static int ra_fault_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ra_call *call = (struct ra_call *)ri->data;

	/*
	 * VM_FAULT_LOCKED: the page is delivered. VM_FAULT_RETRY (the lock was
	 * dropped for I/O): the retry delivers it, usually through the fault-around
	 * of filemap_map_pages() once the page is in the cache.
	 */
	atomic64_inc(&ra_ctx.returns);
	ra_count_fault((__force vm_fault_t)regs_return_value(regs), VM_FAULT_LOCKED);
	ra_restore(&ra_ctx, call);
	if (call->file)
		fput(call->file);
	return 0;
}

/*
 * filemap_map_pages(vmf, start, end): the fault-around maps cached pages around
 * a fault; VM_FAULT_NOPAGE when it mapped the faulting page itself (a fault on a
 * cached page, or the retry of one that waited for I/O), which then never reaches
 * filemap_fault().
 */
static int ra_map_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);

	return vmf && vmf->vma && ra_file_on_disk(vmf->vma->vm_file) ? 0 : 1;
}

static int ra_map_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	ra_count_fault((__force vm_fault_t)regs_return_value(regs), VM_FAULT_NOPAGE);
	return 0;
}

static struct kretprobe ra_probes[] = {
	{ .kp.symbol_name = "page_cache_sync_ra", .entry_handler = ra_ra_entry,
	  .handler = ra_ra_return, .data_size = sizeof(struct ra_call) },
	{ .kp.symbol_name = "page_cache_async_ra", .entry_handler = ra_ra_entry,
	  .handler = ra_ra_return, .data_size = sizeof(struct ra_call) },
	{ .kp.symbol_name = "filemap_fault", .entry_handler = ra_fault_entry,
	  .handler = ra_fault_return, .data_size = sizeof(struct ra_call) },
	{ .kp.symbol_name = "filemap_map_pages", .entry_handler = ra_map_entry,
	  .handler = ra_map_return },
	{ .kp.symbol_name = "filemap_read", .entry_handler = ra_read_entry,
	  .handler = ra_read_return, .data_size = sizeof(struct ra_call) },
};

static u64 ra_missed_now(void)
{
	u64 n = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ra_probes); i++)
		n += (u64)READ_ONCE(ra_probes[i].nmissed) +
		     READ_ONCE(ra_probes[i].kp.nmissed);
	return n;
}

static void ra_read_sample(struct ra_ctx *c, struct ra_sample *s)
{
	struct block_device *b = c->part0;

	s->sectors = part_stat_read(b, sectors[STAT_READ]);
	s->ios = part_stat_read(b, ios[STAT_READ]);
	s->merges = part_stat_read(b, merges[STAT_READ]);
	s->nsecs = part_stat_read(b, nsecs[STAT_READ]);
	s->io_ticks = part_stat_read(b, io_ticks);
	s->read_bytes = atomic64_read(&c->read_bytes);
	s->reads = atomic64_read(&c->reads);
	s->seq_reads = atomic64_read(&c->seq_reads);
	s->fault_bytes = atomic64_read(&c->fault_bytes);
	s->faults = atomic64_read(&c->faults);
	s->major_faults = atomic64_read(&c->major_faults);
	s->ra_calls = atomic64_read(&c->ra_calls);
	s->ra_own = atomic64_read(&c->ra_own);
	s->missed = ra_missed_now();
	s->returns = atomic64_read(&c->returns);
	s->calls = atomic64_read(&c->calls);
}

static unsigned long ra_pages_of(s64 kb_log2)
{
	return max_t(unsigned long, (1UL << (kb_log2 + 10)) >> PAGE_SHIFT, 1);
}

static s64 ra_kb_of(unsigned long pages)
{
	return (s64)pages * (PAGE_SIZE / 1024);
}

/* The grid value nearest to a read-ahead of `pages` (on a log scale). */
static s64 ra_grid_of(unsigned long pages)
{
	u64 kb = ra_kb_of(pages);
	s64 k;

	if (kb <= 1ULL << RA_KB_LOG2_MIN)
		return RA_KB_LOG2_MIN;
	if (kb >= 1ULL << RA_KB_LOG2_MAX)
		return RA_KB_LOG2_MAX;
	k = ilog2(kb);
	/* kb >= 2^(k + 1/2): nearer to 2^(k + 1) */
	if (kb * kb >= 1ULL << (2 * k + 1))
		k++;
	return clamp_t(s64, k, RA_KB_LOG2_MIN, RA_KB_LOG2_MAX);
}

static u64 ra_permille(u64 part, u64 whole)
{
	return whole ? div64_u64(part * 1000, whole) : 0;
}

static void ra_collect(void *priv, const struct mlp_window *w, s64 *f)
{
	struct ra_ctx *c = priv;
	const struct ra_sample *d = &c->delta;
	u64 delivered = d->read_bytes + d->fault_bytes;
	u64 counted_ns = c->delta_ns > c->settle_ns ? c->delta_ns - c->settle_ns : 0;

	memset(f, 0, RA_NR_FEATURES * sizeof(*f));
	f[RA_BASE_KB] = ra_kb_of(c->base_pages);
	f[RA_KB] = w->advice ? ra_kb_of(c->advice_pages) : f[RA_BASE_KB];
	if (!c->delta_ns)
		return;
	if (counted_ns)
		f[RA_DELIVERED_KBPS] = mul_u64_u64_div_u64(delivered, NSEC_PER_SEC,
							   counted_ns * 1024);
	if (d->sectors)
		f[RA_DELIVERED_PER_READ] =
			min_t(u64, div64_u64(delivered * 1000, d->sectors * 512),
			      1000000);
	f[RA_FAULT_SHARE] = ra_permille(d->faults, d->faults + d->reads);
	f[RA_SEQ_SHARE] = ra_permille(d->seq_reads, d->faults + d->reads);
	f[RA_MAJOR_SHARE] = ra_permille(d->major_faults, d->faults);
	f[RA_OWN_SHARE] = ra_permille(d->ra_own, d->ra_calls);
	f[RA_MISSED] = min_t(u64, d->missed, S32_MAX);
	f[RA_READ_KBPS] = mul_u64_u64_div_u64(d->sectors * 512, NSEC_PER_SEC,
					      c->delta_ns * 1024);
	f[RA_BUSY] = min_t(u64, div64_u64(jiffies_to_nsecs(d->io_ticks) * 1000,
					  c->delta_ns), 1000);
	if (!d->ios)
		return;
	f[RA_MEAN_REQ_KB] = div64_u64(d->sectors * 512 * 1000, d->ios * 1024);
	f[RA_READ_LAT_US] = div64_u64(d->nsecs, d->ios * 1000);
	f[RA_MERGED] = div64_u64(d->merges * 1000, d->ios + d->merges);
}

/*
 * Advice windows: what the probes substitute. Baseline windows: nothing. Either
 * way the window's deliveries count from its start plus the settle time.
 */
static int ra_apply(void *priv, const struct mlp_window *w)
{
	struct ra_ctx *c = priv;
	s64 v = w->knobs[0];

	WRITE_ONCE(c->count_from_ns, w->start_ns + c->settle_ns);
	if (!w->advice) {
		WRITE_ONCE(c->advice_pages, 0);
		return 0;
	}
	if (v < RA_KB_LOG2_MIN || v > RA_KB_LOG2_MAX)
		return -EINVAL;
	WRITE_ONCE(c->advice_pages, ra_pages_of(v));
	return 0;
}

/* The administrator's read_ahead_kb (or blockdev --setra), read each window. */
static bool ra_baseline_changed(void *priv, s64 *def)
{
	struct ra_ctx *c = priv;
	unsigned long now = READ_ONCE(c->bdi->ra_pages);

	if (now == c->base_pages)
		return false;
	pr_info("read_ahead_kb of %s changed from %lld to %lld KiB outside mlproxy: the new baseline\n",
		ra_dev, ra_kb_of(c->base_pages), ra_kb_of(now));
	c->base_pages = now;
	def[0] = ra_grid_of(now);
	return true;
}

/*
 * Efficiency: the bytes the readers got (read(2) and mmap faults of files on
 * the disk) per second of the window after its settle time, in MLP_EFF_SCALE units of MiB/s
 * (1000000 = 1 MiB/s). Idle when the readers did nothing (no read or fault of a
 * disk file begun or running, no device read, nothing delivered) or the disk is
 * gone; unreliable when a probe missed calls.
 */
static int ra_measure(void *priv, const struct mlp_window *w, s64 *eff)
{
	struct ra_ctx *c = priv;
	struct ra_sample now;
	u64 delivered;
	bool busy;

	if (!c->gone && !disk_live(c->disk)) {
		c->gone = true;
		pr_info("%s was removed: the subsystem unregisters\n", ra_dev);
		schedule_work(&ra_gone);
	}
	ra_read_sample(c, &now);
	c->delta.sectors = now.sectors - c->last.sectors;
	c->delta.ios = now.ios - c->last.ios;
	c->delta.merges = now.merges - c->last.merges;
	c->delta.nsecs = now.nsecs - c->last.nsecs;
	c->delta.io_ticks = now.io_ticks - c->last.io_ticks;
	c->delta.read_bytes = now.read_bytes - c->last.read_bytes;
	c->delta.reads = now.reads - c->last.reads;
	c->delta.seq_reads = now.seq_reads - c->last.seq_reads;
	c->delta.fault_bytes = now.fault_bytes - c->last.fault_bytes;
	c->delta.faults = now.faults - c->last.faults;
	c->delta.major_faults = now.major_faults - c->last.major_faults;
	c->delta.ra_calls = now.ra_calls - c->last.ra_calls;
	c->delta.ra_own = now.ra_own - c->last.ra_own;
	c->delta.missed = now.missed - c->last.missed;
	c->delta_ns = w->len_ns;
	/*
	 * Idle only when the readers did nothing: a window in which reads or faults
	 * were waiting (begun in it, or still running from before) but nothing was
	 * delivered measured 0, which is what a slow setting does.
	 */
	busy = now.calls != c->last.calls || c->last.calls != c->last.returns ||
	       c->delta.ios;
	c->last = now;
	delivered = c->delta.read_bytes + c->delta.fault_bytes;
	if (c->gone || !(delivered || busy) ||
	    w->len_ns < c->settle_ns + NSEC_PER_MSEC)
		return -ENODATA;
	*eff = min_t(u64, mul_u64_u64_div_u64(delivered,
					      (u64)MLP_EFF_SCALE * NSEC_PER_SEC,
					      (w->len_ns - c->settle_ns) << 20),
		     MLP_EFF_LIMIT);
	return c->delta.missed ? MLP_MEASURE_UNRELIABLE : 0;
}

static struct mlp_subsys_ops ra_ops = {
	.name = "readahead",
	.nr_features = RA_NR_FEATURES,
	.features = ra_features,
	.nr_knobs = ARRAY_SIZE(ra_knobs),
	.knobs = ra_knobs,
	.priv = &ra_ctx,
	.collect_state = ra_collect,
	.apply = ra_apply,
	.measure = ra_measure,
	.baseline_changed = ra_baseline_changed,
};

/* "vda", "/dev/vda" or "254:0". */
static int ra_lookup(const char *name, dev_t *devt)
{
	unsigned int maj, min;
	char *path, end;
	int err;

	if (strchr(name, ':')) {
		if (sscanf(name, "%u:%u%c", &maj, &min, &end) != 2 ||
		    maj > MAJOR(~0U) || min > MINOR(~0U))
			return -EINVAL;
		*devt = MKDEV(maj, min);
		return 0;
	}
	path = name[0] == '/' ? kstrdup(name, GFP_KERNEL) :
				kasprintf(GFP_KERNEL, "/dev/%s", name);
	if (!path)
		return -ENOMEM;
	err = lookup_bdev(path, devt);
	kfree(path);
	return err;
}

/*
 * Opens the device once, only to take a reference to its disk's inode, and
 * closes it: the module holds no open block device. Kbuild detects the kernel's
 * interfaces in its headers (not by version number, so backports work):
 * MLP_HAVE_BDEV_FILE, a struct file from bdev_file_open_by_dev() (6.9 on;
 * blkdev_get_by_dev() and blkdev_put() with an fmode_t before 6.5; 6.5 to 6.8
 * had other interfaces and are not supported: Debian ships 6.1 and 6.12), and
 * MLP_HAVE_BD_MAPPING, the inode found through bd_mapping (bd_inode before).
 */
static struct inode *ra_disk_inode(struct block_device *b)
{
#ifdef MLP_HAVE_BD_MAPPING
	return igrab(b->bd_disk->part0->bd_mapping->host);
#else
	return igrab(b->bd_disk->part0->bd_inode);
#endif
}

static struct inode *ra_grab_disk(dev_t devt)
{
	struct inode *inode;
#ifdef MLP_HAVE_BDEV_FILE
	struct file *f = bdev_file_open_by_dev(devt, BLK_OPEN_READ, NULL, NULL);

	if (IS_ERR(f))
		return ERR_CAST(f);
	inode = ra_disk_inode(file_bdev(f));
	fput(f);
#else
	struct block_device *b = blkdev_get_by_dev(devt, FMODE_READ, NULL);

	if (IS_ERR(b))
		return ERR_CAST(b);
	inode = ra_disk_inode(b);
	blkdev_put(b, FMODE_READ);
#endif
	return inode ?: ERR_PTR(-ENODEV);
}

static int ra_register_probes(void)
{
	unsigned int i, n = ra_maxactive;
	int err;

	if (!n)
		n = max_t(unsigned int, 256, 32 * num_possible_cpus());
	n = min_t(unsigned int, n, RA_MAXACTIVE_MAX);
	for (i = 0; i < ARRAY_SIZE(ra_probes); i++) {
		ra_probes[i].maxactive = n;
		err = register_kretprobe(&ra_probes[i]);
		if (err) {
			pr_err("cannot probe %s (%d): subsystem not registered\n",
			       ra_probes[i].kp.symbol_name, err);
			while (i--)
				unregister_kretprobe(&ra_probes[i]);
			return err;
		}
	}
	return 0;
}

/*
 * Stops the probes: no new substitution, wait (bounded) for those in flight
 * to be undone by their return handlers, then unregister. A call still in
 * flight after that keeps the advised value until its file is closed; this is
 * logged (it needs a read blocked for seconds).
 */
static void ra_stop_probes(struct ra_ctx *c)
{
	unsigned int i;

	WRITE_ONCE(c->advice_pages, 0);
	WRITE_ONCE(c->stopping, true);
	smp_mb();	/* pairs with ra_substitute() */
	if (!wait_event_timeout(c->drained, !atomic_read(&c->inflight),
				10 * HZ))
		pr_warn("%d read-ahead calls still in flight at unload keep the advised value\n",
			atomic_read(&c->inflight));
	for (i = 0; i < ARRAY_SIZE(ra_probes); i++)
		unregister_kretprobe(&ra_probes[i]);
}

static void ra_teardown(void)
{
	struct ra_ctx *c = &ra_ctx;

	mutex_lock(&ra_teardown_lock);
	if (!IS_ERR_OR_NULL(ra_subsys)) {
		mlp_unregister_subsystem(ra_subsys);
		ra_subsys = NULL;
		ra_stop_probes(c);
		if (ra_missed_now())
			pr_info("the probes missed %llu calls in all\n",
				ra_missed_now());
		iput(c->inode);
		c->inode = NULL;
	}
	mutex_unlock(&ra_teardown_lock);
}

static void ra_gone_work(struct work_struct *work)
{
	ra_teardown();
}

int mlp_readahead_init(void)
{
	struct ra_ctx *c = &ra_ctx;
	struct inode *inode;
	dev_t devt;
	int err;

	if (ra_window_ms < 50 || ra_window_ms > 60000) {
		pr_err("parameter ra_window_ms=%u is out of range [50, 60000]\n",
		       ra_window_ms);
		return -EINVAL;
	}
	if (ra_settle_ms < -1 || ra_settle_ms > (int)ra_window_ms / 2) {
		pr_err("parameter ra_settle_ms=%d is out of range [0, ra_window_ms / 2 = %u] (-1: automatic)\n",
		       ra_settle_ms, ra_window_ms / 2);
		return -EINVAL;
	}
	if (ra_maxactive > RA_MAXACTIVE_MAX) {
		pr_err("parameter ra_maxactive=%u is out of range [1, %u] (0: automatic)\n",
		       ra_maxactive, RA_MAXACTIVE_MAX);
		return -EINVAL;
	}
	if (!ra_dev || !*ra_dev) {
		pr_info("ra_dev is empty: subsystem not registered\n");
		return 0;
	}
	err = ra_lookup(ra_dev, &devt);
	if (err) {
		pr_info("no block device %s (%d): subsystem not registered\n",
			ra_dev, err);
		return 0;
	}
	inode = ra_grab_disk(devt);
	if (IS_ERR(inode)) {
		pr_info("cannot open %s (%ld): subsystem not registered\n",
			ra_dev, PTR_ERR(inode));
		return 0;
	}
	memset(c, 0, sizeof(*c));
	c->inode = inode;
	c->part0 = I_BDEV(inode);
	c->disk = c->part0->bd_disk;
	c->bdi = c->disk->bdi;
	c->devt = devt;
	c->settle_ns = (u64)(ra_settle_ms >= 0 ? ra_settle_ms :
			     min(100U, ra_window_ms / 2)) * NSEC_PER_MSEC;
	init_waitqueue_head(&c->drained);
	c->base_pages = READ_ONCE(c->bdi->ra_pages);
	ra_knobs[0].def = ra_grid_of(c->base_pages);
	ra_ops.window_ms = ra_window_ms;

	err = ra_register_probes();
	if (err) {
		iput(inode);
		return 0;
	}
	ra_read_sample(c, &c->last);
	ra_subsys = mlp_register_subsystem(&ra_ops);
	if (IS_ERR(ra_subsys)) {
		err = PTR_ERR(ra_subsys);
		ra_stop_probes(c);
		iput(inode);
		return err;
	}
	pr_info("advising %s (%u:%u, disk %s): baseline read-ahead %lld KiB (knob def 2^%lld KiB), settle %llu ms, maxactive %d\n",
		ra_dev, MAJOR(devt), MINOR(devt), c->disk->disk_name,
		ra_kb_of(c->base_pages), ra_knobs[0].def,
		div_u64(c->settle_ns, NSEC_PER_MSEC), ra_probes[0].maxactive);
	return 0;
}

void mlp_readahead_exit(void)
{
	cancel_work_sync(&ra_gone);
	ra_teardown();
	/* The last window may have found the disk gone and queued it again. */
	cancel_work_sync(&ra_gone);
}
