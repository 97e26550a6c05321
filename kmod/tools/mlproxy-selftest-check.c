// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy-selftest-check: drives the noiseless "selftest" subsystem of
 * mlproxy_selftest.ko through the whole mode ladder and its edge cases.
 * Load first (as root, in a guest):
 *   insmod mlproxy.ko learning_period=2 promote_windows=3 emergency_hold_windows=2
 *   insmod mlproxy_selftest.ko idle_every=7
 *   gcc -Wall -I kmod/include/uapi -o /var/tmp/mlproxy-selftest-check \
 *       kmod/tools/mlproxy-selftest-check.c && /var/tmp/mlproxy-selftest-check
 * Exits 0 when every check passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/mlproxy.h>

static int fd, failures;
static unsigned int id;

#define CHECK(cond, ...) do { \
	if (!(cond)) { failures++; printf("FAIL line %d: ", __LINE__); \
		printf(__VA_ARGS__); printf("\n"); } \
	} while (0)

static struct mlp_status status(void)
{
	struct mlp_status st = { .size = sizeof(st), .subsys_id = id };

	if (ioctl(fd, MLP_IOC_GET_STATUS, &st))
		perror("status");
	return st;
}

static unsigned int mode(void)
{
	return status().mode;
}

/* Waits for the next selftest record; recommends x for the next window. */
static struct mlp_feedback step(long long x, struct mlp_recommendation *out)
{
	struct mlp_feedback fb;
	struct mlp_state st = { .size = sizeof(st), .subsys_id = id };
	struct mlp_recommendation r = { .size = sizeof(r), .subsys_id = id };
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		if (poll(&p, 1, 5000) != 1) {
			printf("no feedback\n");
			failures++;
			memset(&fb, 0, sizeof(fb));
			return fb;
		}
		if (read(fd, &fb, sizeof(fb)) == sizeof(fb) &&
		    fb.subsys_id == id)
			break;
	}
	ioctl(fd, MLP_IOC_GET_STATE, &st);
	r.epoch = st.epoch;
	r.propensity = MLP_PROB_SCALE;
	r.nr_knobs = 1;
	r.knobs[0] = x;
	if (ioctl(fd, MLP_IOC_RECOMMEND, &r))
		perror("recommend");
	if (out)
		*out = r;
	return fb;
}

/* Runs windows advising x until the mode is want (or n windows passed). */
static int run_until(long long x, unsigned int want, int n)
{
	int i;

	for (i = 0; i < n && mode() != want; i++)
		step(x, NULL);
	return mode() == want;
}

int main(void)
{
	struct mlp_version v = { .size = sizeof(v), .abi_major = MLP_ABI_MAJOR };
	struct mlp_subsys_info info = { .size = sizeof(info) };
	struct mlp_claim c = { .size = sizeof(c) };
	struct mlp_mode m = { .size = sizeof(m) };
	struct mlp_recommendation r;
	struct mlp_feedback fb;
	struct mlp_status st;
	unsigned int i, idle = 0;

	fd = open("/dev/mlproxy", O_RDWR);
	if (fd < 0 || ioctl(fd, MLP_IOC_VERSION, &v))
		return perror("/dev/mlproxy"), 1;
	for (i = 0; i < v.nr_subsys; i++) {
		info.index = i;
		if (!ioctl(fd, MLP_IOC_SUBSYS_INFO, &info) &&
		    !strcmp(info.name, "selftest"))
			id = info.id;
	}
	if (!id)
		return printf("no selftest subsystem\n"), 1;
	c.subsys_id = id;
	CHECK(!ioctl(fd, MLP_IOC_CLAIM, &c), "claim");

	/* EMERGENCY -> LEARNING after the hold, with a live controller. */
	CHECK(run_until(0, MLP_MODE_LEARNING, 40), "recover to learning");
	CHECK(status().last_transition == MLP_TRANS_RECOVER, "recover reason");
	/* x = 2 beats the baseline by 10%: LEARNING -> COLLABORATION -> RECOMMENDATION. */
	CHECK(run_until(2, MLP_MODE_COLLABORATION, 60), "promote to collaboration");
	CHECK(run_until(2, MLP_MODE_RECOMMENDATION, 60), "promote to recommendation");
	st = status();
	CHECK(st.promotions == 2 && st.last_transition == MLP_TRANS_PROMOTE,
	      "promotions %llu", (unsigned long long)st.promotions);
	CHECK(st.baseline_eff == 1000000, "baseline %lld", (long long)st.baseline_eff);

	/* Applying x = 12 fails: the window runs the baseline. */
	for (i = 0; i < 6; i++) {
		fb = step(12, &r);
		if (r.verdict == MLP_VERDICT_APPLIED)
			break;
	}
	CHECK(r.verdict == MLP_VERDICT_APPLIED, "x=12 accepted");
	while (fb.epoch < r.target_epoch && fb.size)
		fb = step(2, NULL);
	CHECK(fb.epoch == r.target_epoch && !fb.applied && fb.knobs[0] == 0,
	      "failed apply ran the baseline (epoch %llu applied %u x %lld)",
	      (unsigned long long)fb.epoch, fb.applied, (long long)fb.knobs[0]);

	/* x = -2 is 10% worse: one step down at once. */
	CHECK(run_until(-2, MLP_MODE_COLLABORATION, 20), "demote");
	CHECK(status().last_transition == MLP_TRANS_REGRESSION, "demote reason");
	/* x = -12 is 60% worse: collapse to EMERGENCY. */
	CHECK(run_until(-12, MLP_MODE_EMERGENCY, 20), "collapse");
	st = status();
	CHECK(st.last_transition == MLP_TRANS_COLLAPSE && st.emergencies == 1,
	      "collapse reason %u emergencies %llu", st.last_transition,
	      (unsigned long long)st.emergencies);

	/* Pinned RECOMMENDATION: no demotion on regression; collapse clears the pin. */
	m.subsys_id = id;
	m.mode = MLP_MODE_RECOMMENDATION;
	m.flags = MLP_MODE_F_PIN;
	CHECK(!ioctl(fd, MLP_IOC_SET_MODE, &m), "set mode");
	for (i = 0; i < 6; i++)
		step(-2, NULL);
	CHECK(mode() == MLP_MODE_RECOMMENDATION, "pinned mode kept");
	CHECK(run_until(-12, MLP_MODE_EMERGENCY, 20), "collapse while pinned");
	CHECK(!(status().flags & MLP_STATUS_F_PINNED), "pin cleared");

	/* Idle windows: flagged, eff = baseline, not evaluated. */
	for (i = 0; i < 16; i++) {
		fb = step(0, NULL);
		if (fb.reasons & MLP_REASON_IDLE) {
			idle++;
			CHECK(fb.eff == fb.baseline_eff && fb.epoch % 7 == 6,
			      "idle record epoch %llu", (unsigned long long)fb.epoch);
		}
	}
	CHECK(idle >= 2, "idle windows seen: %u", idle);

	st = status();
	printf("selftest: windows %llu transitions %llu promotions %llu demotions %llu emergencies %llu\n",
	       (unsigned long long)st.windows, (unsigned long long)st.transitions,
	       (unsigned long long)st.promotions, (unsigned long long)st.demotions,
	       (unsigned long long)st.emergencies);
	close(fd);
	printf(failures ? "selftest-check: %d failures\n" : "selftest-check: ok\n",
	       failures);
	return failures ? 1 : 0;
}
