/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the mlproxy selftests: the device, its subsystems, the
 * feedback records of one subsystem, and a monotonic clock in milliseconds.
 */
#ifndef MLPROXY_UTIL_H
#define MLPROXY_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/mlproxy.h>

#define MLP_DEV		"/dev/mlproxy"

/* ioctl() as 0 or -errno. */
static inline int mlp_ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline __u64 mlp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void mlp_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* MLP_IOC_VERSION saying the caller speaks minor; returns the kernel's answer. */
static inline struct mlp_version mlp_version(int fd, unsigned int minor)
{
	struct mlp_version v = {
		.size = sizeof(v), .abi_major = MLP_ABI_MAJOR, .abi_minor = minor,
	};

	if (mlp_ioc(fd, MLP_IOC_VERSION, &v))
		v.compatible = 0;
	return v;
}

/* The id of the subsystem called name, 0 when it is not registered. */
static inline unsigned int mlp_find(int fd, const char *name)
{
	struct mlp_version v = mlp_version(fd, MLP_ABI_MINOR);
	struct mlp_subsys_info info;
	unsigned int i;

	for (i = 0; i < v.nr_subsys; i++) {
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		info.index = i;
		if (!mlp_ioc(fd, MLP_IOC_SUBSYS_INFO, &info) &&
		    !strcmp(info.name, name))
			return info.id;
	}
	return 0;
}

static inline struct mlp_state mlp_state(int fd, unsigned int id)
{
	struct mlp_state st = { .size = sizeof(st), .subsys_id = id };

	mlp_ioc(fd, MLP_IOC_GET_STATE, &st);
	return st;
}

static inline struct mlp_status mlp_status(int fd, unsigned int id)
{
	struct mlp_status st = { .size = sizeof(st), .subsys_id = id };

	mlp_ioc(fd, MLP_IOC_GET_STATUS, &st);
	return st;
}

static inline int mlp_claim(int fd, unsigned int id, unsigned int flags)
{
	struct mlp_claim c = { .size = sizeof(c), .subsys_id = id, .flags = flags };

	return mlp_ioc(fd, MLP_IOC_CLAIM, &c);
}

static inline int mlp_heartbeat(int fd, unsigned int id)
{
	struct mlp_claim c = { .size = sizeof(c), .subsys_id = id };

	return mlp_ioc(fd, MLP_IOC_HEARTBEAT, &c);
}

static inline int mlp_set_mode(int fd, unsigned int id, unsigned int mode,
			       unsigned int flags)
{
	struct mlp_mode m = {
		.size = sizeof(m), .subsys_id = id, .mode = mode, .flags = flags,
	};

	return mlp_ioc(fd, MLP_IOC_SET_MODE, &m);
}

/* MLP_IOC_FILE; the answer in *out when out is not NULL. */
static inline int mlp_file(int fd, unsigned int flags, unsigned int record_size,
			   unsigned int timeout_ms, unsigned int nr,
			   const unsigned int *ids, struct mlp_file_config *out)
{
	struct mlp_file_config c = {
		.size = sizeof(c), .flags = flags, .record_size = record_size,
		.read_timeout_ms = timeout_ms, .nr_subscribed = nr,
	};
	unsigned int i;
	int err;

	for (i = 0; i < nr && i < MLP_MAX_SUBSYS; i++)
		c.subscribed[i] = ids[i];
	err = mlp_ioc(fd, MLP_IOC_FILE, &c);
	if (out)
		*out = c;
	return err;
}

/* A one-knob recommendation for the window after the one in progress. */
static inline int mlp_recommend1(int fd, unsigned int id, __u64 epoch,
				 long long x, struct mlp_recommendation *out)
{
	struct mlp_recommendation r = {
		.size = sizeof(r), .subsys_id = id, .epoch = epoch,
		.propensity = MLP_PROB_SCALE, .nr_knobs = 1,
	};
	int err;

	r.knobs[0] = x;
	err = mlp_ioc(fd, MLP_IOC_RECOMMEND, &r);
	if (out)
		*out = r;
	return err;
}

/*
 * The next record of subsystem id (records of others are skipped), read whole at
 * the file's record size (rsize); 0, or -ETIMEDOUT after timeout_ms.
 */
static inline int mlp_next_record(int fd, unsigned int id, size_t rsize,
				  struct mlp_feedback *fb, int timeout_ms)
{
	__u64 deadline = mlp_now_ms() + timeout_ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[sizeof(struct mlp_feedback)];
	ssize_t n;

	while (mlp_now_ms() < deadline) {
		if (poll(&p, 1, 100) != 1)
			continue;
		n = read(fd, buf, rsize);
		if (n != (ssize_t)rsize)
			continue;
		memset(fb, 0, sizeof(*fb));
		memcpy(fb, buf, rsize);
		if (fb->subsys_id == id)
			return 0;
	}
	return -ETIMEDOUT;
}

/* A module parameter from sysfs as a number (0 when it cannot be read). */
static inline long long mlp_param(const char *module, const char *param)
{
	char path[256], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", module, param);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoll(buf, NULL, 10);
}

/* Opens the device read-write and looks up a subsystem (0: not registered). */
static inline int mlp_fixture_open(int *fd, unsigned int *id, const char *subsys)
{
	*fd = open(MLP_DEV, O_RDWR);
	if (*fd < 0)
		return -errno;
	*id = mlp_find(*fd, subsys);
	return 0;
}

/* Runs a shell command; 0 when it exited 0. */
static inline int mlp_sh(const char *cmd)
{
	int st = system(cmd);

	return st == 0 ? 0 : -1;
}

#endif /* MLPROXY_UTIL_H */
