// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy-smoke: a quick end-to-end check of /dev/mlproxy from C, for module
 * developers (the full suites are test/vm/). Build and run as root in a guest:
 *   gcc -Wall -I kmod/include/uapi -o /tmp/mlproxy-smoke kmod/tools/mlproxy-smoke.c
 *   /tmp/mlproxy-smoke
 * Exits 0 when every check passed, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/mlproxy.h>

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); printf("\n"); } \
	} while (0)

static int ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

int main(void)
{
	struct mlp_version v = { .size = sizeof(v), .abi_major = MLP_ABI_MAJOR };
	struct mlp_subsys_info info = { .size = sizeof(info) };
	struct mlp_state st = { .size = sizeof(st) };
	struct mlp_status status = { .size = sizeof(status) };
	struct mlp_claim claim = { .size = sizeof(claim) };
	struct mlp_mode mode = { .size = sizeof(mode) };
	struct mlp_recommendation rec;
	struct mlp_feedback fb[4];
	struct pollfd pfd;
	unsigned int i, synth = 0;
	int fd, fd2, err, n, got = 0;

	fd = open("/dev/mlproxy", O_RDWR);
	if (fd < 0) {
		perror("open /dev/mlproxy");
		return 1;
	}
	CHECK(ioc(fd, MLP_IOC_VERSION, &v) == 0 && v.compatible, "version");
	printf("ABI %u.%u, %u subsystems, ring %u\n", v.abi_major, v.abi_minor,
	       v.nr_subsys, v.ring_records);
	for (i = 0; i < v.nr_subsys; i++) {
		info.index = i;
		CHECK(ioc(fd, MLP_IOC_SUBSYS_INFO, &info) == 0, "info %u", i);
		printf("subsystem %u: id %u %s, %u features, %u knobs, %u ms\n",
		       i, info.id, info.name, info.nr_features, info.nr_knobs,
		       info.window_ms);
		if (!strcmp(info.name, "synthetic"))
			synth = info.id;
	}
	info.index = v.nr_subsys;
	CHECK(ioc(fd, MLP_IOC_SUBSYS_INFO, &info) == -ENOENT, "info past end");
	CHECK(synth, "synthetic registered");

	st.subsys_id = synth;
	CHECK(ioc(fd, MLP_IOC_GET_STATE, &st) == 0, "state");
	printf("state: epoch %llu mode %u load %lld hint %lld last_eff %lld level %lld\n",
	       (unsigned long long)st.epoch, st.mode, (long long)st.features[0],
	       (long long)st.features[1], (long long)st.features[2],
	       (long long)st.knobs[0]);
	st.size = 8;
	CHECK(ioc(fd, MLP_IOC_GET_STATE, &st) == -EINVAL, "bad size");
	CHECK(ioc(fd, _IO(MLP_IOC_MAGIC, 0x7f), &st) == -ENOTTY, "unknown cmd");

	claim.subsys_id = synth;
	CHECK(ioc(fd, MLP_IOC_CLAIM, &claim) == 0, "claim");
	fd2 = open("/dev/mlproxy", O_RDONLY);
	CHECK(ioc(fd2, MLP_IOC_CLAIM, &claim) == -EBUSY, "second claim");
	close(fd2);

	mode.subsys_id = synth;
	mode.mode = MLP_MODE_RECOMMENDATION;
	CHECK(ioc(fd, MLP_IOC_SET_MODE, &mode) == 0, "set mode");
	usleep(120000);		/* the new mode governs from the next window */

	st.size = sizeof(st);
	CHECK(ioc(fd, MLP_IOC_GET_STATE, &st) == 0, "state");
	memset(&rec, 0, sizeof(rec));
	rec.size = sizeof(rec);
	rec.subsys_id = synth;
	rec.epoch = st.epoch;
	rec.propensity = MLP_PROB_SCALE / 2;
	rec.nr_knobs = 1;
	rec.knobs[0] = 99;
	err = ioc(fd, MLP_IOC_RECOMMEND, &rec);
	CHECK(err == 0, "recommend: %d", err);
	printf("rec %llu -> window %llu verdict %u reasons %#x applied %lld\n",
	       (unsigned long long)rec.rec_id,
	       (unsigned long long)rec.target_epoch, rec.verdict, rec.reasons,
	       (long long)rec.applied[0]);
	CHECK(rec.verdict == MLP_VERDICT_CLAMPED && rec.applied[0] == 12,
	      "clamped to default + max_delta");
	err = ioc(fd, MLP_IOC_RECOMMEND, &rec);
	CHECK(err == 0 && rec.verdict == MLP_VERDICT_REJECTED &&
	      (rec.reasons & MLP_REASON_RATE_LIMIT), "rate limit");
	rec.epoch = st.epoch + 5;
	CHECK(ioc(fd, MLP_IOC_RECOMMEND, &rec) == -EINVAL, "future epoch");

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got < 8 && poll(&pfd, 1, 2000) == 1) {
		n = read(fd, fb, sizeof(fb));
		CHECK(n > 0 && n % sizeof(fb[0]) == 0, "read %d", n);
		for (i = 0; n > 0 && i < n / sizeof(fb[0]); i++, got++)
			printf("feedback: subsys %u epoch %llu rec %llu mode %u applied %u verdict %u eff %lld base %lld level %lld\n",
			       fb[i].subsys_id, (unsigned long long)fb[i].epoch,
			       (unsigned long long)fb[i].rec_id, fb[i].mode,
			       fb[i].applied, fb[i].verdict,
			       (long long)fb[i].eff, (long long)fb[i].baseline_eff,
			       (long long)fb[i].knobs[0]);
	}
	CHECK(got >= 8, "feedback records");
	CHECK(read(fd, fb, 8) < 0 && errno == EINVAL, "short read");

	status.subsys_id = synth;
	CHECK(ioc(fd, MLP_IOC_GET_STATUS, &status) == 0, "status");
	printf("status: mode %u flags %#x windows %llu recs %llu transitions %llu pid %d dropped %llu\n",
	       status.mode, status.flags, (unsigned long long)status.windows,
	       (unsigned long long)status.recs,
	       (unsigned long long)status.transitions, status.controller_pid,
	       (unsigned long long)status.feedback_dropped);
	CHECK(status.controller_pid == getpid(), "controller pid");
	close(fd);
	printf(failures ? "smoke: %d failures\n" : "smoke: ok\n", failures);
	return failures ? 1 : 0;
}
