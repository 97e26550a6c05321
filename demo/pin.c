// SPDX-License-Identifier: GPL-2.0
/*
 * mlp-pin: holds a fixed arm of the read-ahead demo (demo/bench.ts) at its setting.
 *
 *   mlp-pin SUBSYS_ID KNOB...
 *
 * Opens /dev/mlproxy, claims the subsystem, pins it in RECOMMENDATION and recommends
 * the given knob values for every window: after each feedback record of the
 * subsystem (window e has ended, e + 1 runs), one recommendation for window e + 2,
 * based on epoch e + 1, as an advisor does (the record carries the state of the
 * window that began). When a safety fall cleared the pin, it pins again and counts
 * it. Writes "ready" on stdout once it controls the subsystem; on SIGTERM or SIGINT
 * it hands control back without a fall (MLP_CLAIM_F_RELEASE), writes one JSON line
 * {"recs":N,"refused":N,"repins":N} and exits 0. The first five refusals are named on
 * stderr (the ioctl's error, or the verdict's reason bits). One is expected when the
 * previous arm's mlp-pin handed over with its last advice still pending (a release
 * keeps it, as it keeps the mode): the first recommendation then finds its target
 * window advised already (RATE_LIMIT), and that window runs the previous setting,
 * before the bench measures anything.
 *
 * Why a process of its own, in C: the bench is a Node process, and in the stalls
 * perf caught, its threads were in the kernel for seconds zeroing fresh anonymous
 * pages that V8's allocations faulted in (slow under QEMU's TCG), so its
 * recommendations missed windows that the module then rightly ran at the baseline
 * (docs/benchmarks.md; why V8 faulted so much in is not established). This process
 * does nothing between windows but wait in read(2) and allocates nothing after its
 * start.
 *
 * Built by demo/build-reader.sh against the UAPI header, the ABI's one source of truth.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/mlproxy.h>

/* User space: the C standard's type for a flag a signal handler sets. */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "mlp-pin: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int set_pinned(int fd, __u32 id)
{
	struct mlp_mode m = { .size = sizeof(m), .subsys_id = id,
			      .mode = MLP_MODE_RECOMMENDATION, .flags = MLP_MODE_F_PIN };

	return ioctl(fd, MLP_IOC_SET_MODE, &m);
}

int main(int argc, char **argv)
{
	struct mlp_version v = { .size = sizeof(v), .abi_major = MLP_ABI_MAJOR,
				 .abi_minor = MLP_ABI_MINOR };
	struct mlp_file_config fc = { .size = sizeof(fc) };
	struct mlp_claim c = { .size = sizeof(c) };
	struct mlp_state st = { .size = sizeof(st) };
	struct mlp_feedback recs[16];
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long recs_sent = 0, refused = 0, repins = 0;
	__s64 knobs[MLP_MAX_KNOBS];
	__u64 based_on;
	__u32 id, nr_knobs;
	int fd, i;
	char *end;

	if (argc < 3 || argc - 2 > MLP_MAX_KNOBS) {
		fprintf(stderr, "usage: mlp-pin SUBSYS_ID KNOB... (1 to %d knob values)\n",
			MLP_MAX_KNOBS);
		return 2;
	}
	id = (__u32)strtoul(argv[1], &end, 10);
	if (*end || !id) {
		fprintf(stderr, "mlp-pin: the subsystem id must be a positive integer, got '%s'\n",
			argv[1]);
		return 2;
	}
	nr_knobs = (__u32)(argc - 2);
	for (i = 0; i < (int)nr_knobs; i++) {
		knobs[i] = strtoll(argv[i + 2], &end, 10);
		if (*end || end == argv[i + 2]) {
			fprintf(stderr, "mlp-pin: knob values are integers, got '%s'\n",
				argv[i + 2]);
			return 2;
		}
	}
	/* No SA_RESTART: a signal ends the blocking read at once. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	fd = open("/dev/" MLP_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("opening /dev/" MLP_DEVICE_NAME);
	if (ioctl(fd, MLP_IOC_VERSION, &v))
		die("MLP_IOC_VERSION");
	if (!v.compatible) {
		fprintf(stderr, "mlp-pin: the module speaks ABI %u.%u, this binary %u.%u\n",
			v.abi_major, v.abi_minor, MLP_ABI_MAJOR, MLP_ABI_MINOR);
		return 2;
	}
	/* Whole records of this subsystem only; wake up at least every second. */
	fc.flags = MLP_FILE_SET_RECORD_SIZE | MLP_FILE_SET_READ_TIMEOUT | MLP_FILE_SET_SUBSCRIBE;
	fc.record_size = sizeof(struct mlp_feedback);
	fc.read_timeout_ms = 1000;
	fc.nr_subscribed = 1;
	fc.subscribed[0] = id;
	if (ioctl(fd, MLP_IOC_FILE, &fc))
		die("MLP_IOC_FILE");
	c.subsys_id = id;
	if (ioctl(fd, MLP_IOC_CLAIM, &c))
		die("MLP_IOC_CLAIM");
	if (set_pinned(fd, id))
		die("MLP_IOC_SET_MODE");
	st.subsys_id = id;
	if (ioctl(fd, MLP_IOC_GET_STATE, &st))
		die("MLP_IOC_GET_STATE");
	if (st.nr_knobs != nr_knobs) {
		fprintf(stderr, "mlp-pin: subsystem %u has %u knobs, %u values given\n", id,
			st.nr_knobs, nr_knobs);
		return 2;
	}
	based_on = st.epoch;
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		struct mlp_recommendation r = { .size = sizeof(r), .subsys_id = id,
						.epoch = based_on, .propensity = MLP_PROB_SCALE,
						.nr_knobs = nr_knobs };
		ssize_t n;
		int k, got = 0;

		memcpy(r.knobs, knobs, nr_knobs * sizeof(knobs[0]));
		if (ioctl(fd, MLP_IOC_RECOMMEND, &r)) {
			if (++refused <= 5)
				fprintf(stderr,
					"mlp-pin: recommendation based on window %llu: %s\n",
					(unsigned long long)based_on, strerror(errno));
		} else if (r.verdict == MLP_VERDICT_REJECTED) {
			if (++refused <= 5)
				fprintf(stderr,
					"mlp-pin: recommendation based on window %llu for window %llu rejected, reasons 0x%x\n",
					(unsigned long long)based_on,
					(unsigned long long)r.target_epoch, r.reasons);
		} else {
			recs_sent++;
		}
		/*
		 * The kernel targets the window after the one in progress, which is later
		 * than based_on + 1 when a window ended since the record (or the state) this
		 * was based on; a rate-limited one found that target advised already (by
		 * this process: it holds the claim). Either way the next recommendation is
		 * due once the window before the target has ended. (A failed ioctl left
		 * target_epoch 0; a stale one is retried after the next record.)
		 */
		if (r.target_epoch > based_on + 1 && !(r.reasons & MLP_REASON_STALE))
			based_on = r.target_epoch - 1;
		/* Until a record of a window after the one this advice was based on. */
		while (!stop && !got) {
			n = read(fd, recs, sizeof(recs));
			if (n < 0 && errno != EINTR)
				die("read");
			for (k = 0; n > 0 && k < (int)(n / (ssize_t)sizeof(recs[0])); k++) {
				if (recs[k].subsys_id != id || recs[k].epoch + 1 <= based_on)
					continue;
				if (recs[k].reasons & MLP_REASON_GONE) {
					fprintf(stderr, "mlp-pin: subsystem %u unregistered\n", id);
					return 1;
				}
				based_on = recs[k].epoch + 1;
				got = recs[k].next_mode != MLP_MODE_RECOMMENDATION ? 2 : 1;
			}
		}
		if (got == 2) {
			/* A safety fall cleared the pin: the arm's setting must hold. */
			repins++;
			if (set_pinned(fd, id))
				die("MLP_IOC_SET_MODE");
		}
	}
	c.flags = MLP_CLAIM_F_RELEASE;
	if (ioctl(fd, MLP_IOC_CLAIM, &c))
		die("releasing the claim");
	close(fd);
	printf("{\"recs\":%lu,\"refused\":%lu,\"repins\":%lu}\n", recs_sent, refused, repins);
	return 0;
}
