// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy readahead subsystem: controls the read-ahead of one block device
 * (module parameter ra_dev) and measures in the kernel how efficiently reads
 * are served: bytes delivered to readers (a kretprobe on filemap_read(), the
 * page-cache read path of files and of the block device itself) per
 * nanosecond the device spent serving reads (the block layer's counters).
 * docs/readahead.md defines and defends the formulas.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": readahead: " fmt

#include <linux/backing-dev.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kprobes.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/part_stat.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "mlproxy_internal.h"

/*
 * Opening the block device: blkdev_get_by_dev()/blkdev_put() up to 6.4, a
 * struct file from bdev_file_open_by_dev() since 6.9. Kbuild defines
 * MLP_HAVE_BDEV_FILE when the kernel's blkdev.h declares the latter (6.5 to
 * 6.8 had other interfaces and are not supported: Debian ships 6.1 and 6.12).
 */

static char *ra_dev = "";
module_param(ra_dev, charp, 0444);
MODULE_PARM_DESC(ra_dev,
		 "readahead: block device to control, e.g. vda or 254:0 (empty: no readahead subsystem)");

static unsigned int ra_window_ms = 500;
module_param(ra_window_ms, uint, 0444);
MODULE_PARM_DESC(ra_window_ms,
		 "readahead: window length in ms (50..60000, default 500)");

#define RA_KB_LOG2_MIN	4	/* 16 KiB */
#define RA_KB_LOG2_MAX	12	/* 4 MiB */

enum {
	RA_READ_KBPS,
	RA_MEAN_REQ_KB,
	RA_READ_LAT_US,
	RA_BUSY,
	RA_MERGED,
	RA_KB,
	RA_DELIVERED_KBPS,
	RA_DELIVERED_PER_READ,
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
};

static struct mlp_knob_schema ra_knobs[] = {
	{ .name = "ra_kb_log2", .unit = "log2(KiB)", .min = RA_KB_LOG2_MIN,
	  .max = RA_KB_LOG2_MAX, .step = 1, .max_delta = 2 },
};

/* Cumulative read counters of the device. */
struct ra_sample {
	u64 sectors;
	u64 ios;
	u64 merges;
	u64 nsecs;
	u64 io_ticks;			/* jiffies with a request in flight */
};

struct ra_ctx {
#ifdef MLP_HAVE_BDEV_FILE
	struct file *bdev_file;
#endif
	struct block_device *bdev;
	struct gendisk *disk;
	bool probed;			/* the kretprobe counts delivered bytes */
	atomic64_t delivered;		/* cumulative bytes read() returned */
	u64 last_delivered;
	u64 delta_delivered;
	struct backing_dev_info *bdi;
	unsigned long saved_ra_pages;
	struct ra_sample last;		/* at the start of the current window */
	struct ra_sample delta;		/* over the last window measured */
	u64 delta_ns;
};

static struct ra_ctx ra_ctx;
static struct mlp_subsys *ra_subsys;

/* Whether a file's page cache belongs to the controlled disk. */
static bool ra_file_on_disk(struct file *file)
{
	struct inode *host;
	struct block_device *b;

	if (!file || !file->f_mapping || !file->f_mapping->host)
		return false;
	host = file->f_mapping->host;
	b = S_ISBLK(host->i_mode) ? I_BDEV(host) : host->i_sb->s_bdev;
	return b && b->bd_disk == ra_ctx.disk;
}

/* filemap_read(struct kiocb *iocb, ...): follow only reads of our disk. */
static int ra_read_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kiocb *iocb = (struct kiocb *)regs_get_kernel_argument(regs, 0);

	return iocb && ra_file_on_disk(iocb->ki_filp) ? 0 : 1;
}

static int ra_read_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	long ret = (long)regs_return_value(regs);

	if (ret > 0)
		atomic64_add(ret, &ra_ctx.delivered);
	return 0;
}

static struct kretprobe ra_kretprobe = {
	.kp.symbol_name = "filemap_read",
	.entry_handler = ra_read_entry,
	.handler = ra_read_return,
	.maxactive = 64,
};

static void ra_read_sample(struct block_device *bdev, struct ra_sample *s)
{
	s->sectors = part_stat_read(bdev, sectors[STAT_READ]);
	s->ios = part_stat_read(bdev, ios[STAT_READ]);
	s->merges = part_stat_read(bdev, merges[STAT_READ]);
	s->nsecs = part_stat_read(bdev, nsecs[STAT_READ]);
	s->io_ticks = part_stat_read(bdev, io_ticks);
}

static unsigned long ra_pages_of(s64 kb_log2)
{
	u64 bytes = 1ULL << (kb_log2 + 10);

	return max_t(u64, bytes >> PAGE_SHIFT, 1);
}

static s64 ra_kb_now(struct ra_ctx *c)
{
	return (s64)READ_ONCE(c->bdi->ra_pages) * (PAGE_SIZE / 1024);
}

static void ra_collect(void *priv, const struct mlp_window *w, s64 *f)
{
	struct ra_ctx *c = priv;
	const struct ra_sample *d = &c->delta;

	memset(f, 0, RA_NR_FEATURES * sizeof(*f));
	f[RA_KB] = ra_kb_now(c);
	if (!c->delta_ns)
		return;
	f[RA_DELIVERED_KBPS] = mul_u64_u64_div_u64(c->delta_delivered,
						   NSEC_PER_SEC,
						   c->delta_ns * 1024);
	if (d->sectors)
		f[RA_DELIVERED_PER_READ] =
			min_t(u64, div64_u64(c->delta_delivered * 1000,
					     d->sectors * 512), 1000000);
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

static int ra_apply(void *priv, const struct mlp_window *w)
{
	struct ra_ctx *c = priv;
	s64 v = w->knobs[0];

	if (v < RA_KB_LOG2_MIN || v > RA_KB_LOG2_MAX)
		return -EINVAL;
	WRITE_ONCE(c->bdi->ra_pages, ra_pages_of(v));
	return 0;
}

/*
 * Efficiency: bytes delivered to readers per nanosecond the device spent
 * serving reads (the sum of the read requests' durations), in MLP_EFF_SCALE
 * units: 1000000 = 1 byte/ns = 1 GB/s of read service. Without the probe,
 * the bytes read from the device stand in for the delivered bytes. Idle
 * when the device served no read or nothing was delivered.
 */
static int ra_measure(void *priv, const struct mlp_window *w, s64 *eff)
{
	struct ra_ctx *c = priv;
	struct ra_sample now;
	u64 delivered = atomic64_read(&c->delivered);
	u64 bytes;

	c->delta_delivered = delivered - c->last_delivered;
	c->last_delivered = delivered;
	ra_read_sample(c->disk->part0, &now);
	c->delta.sectors = now.sectors - c->last.sectors;
	c->delta.ios = now.ios - c->last.ios;
	c->delta.merges = now.merges - c->last.merges;
	c->delta.nsecs = now.nsecs - c->last.nsecs;
	c->delta.io_ticks = now.io_ticks - c->last.io_ticks;
	c->delta_ns = w->len_ns;
	c->last = now;
	bytes = c->probed ? c->delta_delivered : c->delta.sectors * 512;
	if (!c->delta.ios || !c->delta.nsecs || !bytes)
		return -ENODATA;
	*eff = min_t(u64, mul_u64_u64_div_u64(bytes, MLP_EFF_SCALE,
					      c->delta.nsecs),
		     MLP_EFF_LIMIT);
	return 0;
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
};

/* "vda", "/dev/vda" or "254:0" to a device number; 0 when there is none. */
static dev_t ra_lookup(const char *name)
{
	unsigned int major, minor;
	char *path, end;
	dev_t devt = 0;

	if (sscanf(name, "%u:%u%c", &major, &minor, &end) == 2)
		return MKDEV(major, minor);
	path = strncmp(name, "/dev/", 5) ? kasprintf(GFP_KERNEL, "/dev/%s", name) :
					   kstrdup(name, GFP_KERNEL);
	if (!path)
		return 0;
	if (lookup_bdev(path, &devt))
		devt = 0;
	kfree(path);
	return devt;
}

static struct block_device *ra_open(struct ra_ctx *c, dev_t devt)
{
#ifdef MLP_HAVE_BDEV_FILE
	struct file *f = bdev_file_open_by_dev(devt, BLK_OPEN_READ, NULL, NULL);

	if (IS_ERR(f))
		return ERR_CAST(f);
	c->bdev_file = f;
	return file_bdev(f);
#else
	return blkdev_get_by_dev(devt, FMODE_READ, NULL);
#endif
}

static void ra_close(struct ra_ctx *c)
{
#ifdef MLP_HAVE_BDEV_FILE
	fput(c->bdev_file);
#else
	blkdev_put(c->bdev, FMODE_READ);
#endif
}

int mlp_readahead_init(void)
{
	struct ra_ctx *c = &ra_ctx;
	struct block_device *bdev;
	unsigned long kb;
	dev_t devt;
	int err;

	if (ra_window_ms < 50 || ra_window_ms > 60000) {
		pr_err("parameter ra_window_ms=%u is out of range [50, 60000]\n",
		       ra_window_ms);
		return -EINVAL;
	}
	if (!ra_dev || !*ra_dev) {
		pr_info("ra_dev is empty: subsystem not registered\n");
		return 0;
	}
	devt = ra_lookup(ra_dev);
	if (!devt) {
		pr_info("no block device %s: subsystem not registered\n",
			ra_dev);
		return 0;
	}
	memset(c, 0, sizeof(*c));
	bdev = ra_open(c, devt);
	if (IS_ERR(bdev)) {
		pr_info("cannot open %s (%ld): subsystem not registered\n",
			ra_dev, PTR_ERR(bdev));
		return 0;
	}
	c->bdev = bdev;
	c->disk = bdev->bd_disk;
	c->bdi = bdev->bd_disk->bdi;
	c->saved_ra_pages = READ_ONCE(c->bdi->ra_pages);
	kb = c->saved_ra_pages * (PAGE_SIZE / 1024);
	ra_knobs[0].def = clamp_t(s64, kb ? ilog2(kb) : 0, RA_KB_LOG2_MIN,
				  RA_KB_LOG2_MAX);
	ra_ops.window_ms = ra_window_ms;
	ra_read_sample(c->disk->part0, &c->last);
	err = register_kretprobe(&ra_kretprobe);
	c->probed = !err;
	if (err)
		pr_warn("no kretprobe on filemap_read (%d): efficiency falls back to bytes read from the device\n",
			err);

	ra_subsys = mlp_register_subsystem(&ra_ops);
	if (IS_ERR(ra_subsys)) {
		if (c->probed)
			unregister_kretprobe(&ra_kretprobe);
		WRITE_ONCE(c->bdi->ra_pages, c->saved_ra_pages);
		ra_close(c);
		return PTR_ERR(ra_subsys);
	}
	pr_info("controlling %s (%u:%u), read-ahead %lu KiB, baseline 2^%lld KiB\n",
		ra_dev, MAJOR(devt), MINOR(devt), kb, ra_knobs[0].def);
	return 0;
}

void mlp_readahead_exit(void)
{
	struct ra_ctx *c = &ra_ctx;

	if (IS_ERR_OR_NULL(ra_subsys))
		return;
	mlp_unregister_subsystem(ra_subsys);
	ra_subsys = NULL;
	if (c->probed) {
		unregister_kretprobe(&ra_kretprobe);
		if (ra_kretprobe.nmissed)
			pr_info("kretprobe missed %d reads\n",
				ra_kretprobe.nmissed);
	}
	WRITE_ONCE(c->bdi->ra_pages, c->saved_ra_pages);
	ra_close(c);
}
