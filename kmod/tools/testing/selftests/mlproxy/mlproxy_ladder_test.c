// SPDX-License-Identifier: GPL-2.0
/*
 * The mode ladder on the noiseless "selftest" subsystem of mlproxy_selftest.ko:
 * recover, two promotions, a failed apply, two demotions, a collapse, the pin kept
 * on a regression and cleared by a collapse, idle windows. Advice is judged against
 * the baseline windows on both sides of it (paired judgement), in RECOMMENDATION the
 * check windows, so these need a short check_period to be judged within a few
 * windows. Needs
 *   mlproxy.ko learning_period=2 promote_windows=3 emergency_hold_windows=2
 *              check_period=4
 *   mlproxy_selftest.ko idle_every=7
 * (mlproxy.sh loads them). Every wait counts windows, never time.
 */
#include "kselftest_harness.h"
#include "mlproxy_util.h"

#define REC	MLP_SIZEOF_FEEDBACK_VER0

FIXTURE(ladder) {
	int fd;
	unsigned int id;
};

FIXTURE_SETUP(ladder)
{
	ASSERT_EQ(0, mlp_fixture_open(&self->fd, &self->id, "selftest"));
	if (!self->id)
		SKIP(return, "mlproxy_selftest.ko is not loaded");
	ASSERT_EQ(2, mlp_param("mlproxy", "learning_period"));
	ASSERT_EQ(3, mlp_param("mlproxy", "promote_windows"));
	ASSERT_EQ(4, mlp_param("mlproxy", "check_period"));
	ASSERT_EQ(0, mlp_claim(self->fd, self->id, 0));
}

FIXTURE_TEARDOWN(ladder)
{
	close(self->fd);
}

/* Waits for the next selftest record, then advises x for the next window. */
static struct mlp_feedback step(int fd, unsigned int id, long long x,
				struct mlp_recommendation *out)
{
	struct mlp_recommendation r;
	struct mlp_feedback fb;
	struct mlp_state st;

	if (mlp_next_record(fd, id, REC, &fb, 10000))
		memset(&fb, 0, sizeof(fb));
	st = mlp_state(fd, id);
	mlp_recommend1(fd, id, st.epoch, x, &r);
	if (out)
		*out = r;
	return fb;
}

static unsigned int mode(int fd, unsigned int id)
{
	return mlp_status(fd, id).mode;
}

/* Advises x window by window until the mode is want, at most n windows. */
static int run_until(int fd, unsigned int id, long long x, unsigned int want, int n)
{
	int i;

	for (i = 0; i < n && mode(fd, id) != want; i++)
		step(fd, id, x, NULL);
	return mode(fd, id) == want;
}

TEST_F_TIMEOUT(ladder, walk, 300)
{
	struct mlp_recommendation r;
	struct mlp_feedback fb;
	struct mlp_status st;
	int i;

	/* EMERGENCY -> LEARNING after the hold, with a live controller. */
	ASSERT_TRUE(run_until(self->fd, self->id, 0, MLP_MODE_LEARNING, 40));
	EXPECT_EQ(MLP_TRANS_RECOVER, mlp_status(self->fd, self->id).last_transition);
	/* x = 2 beats the baseline by 10%: two promotions. */
	ASSERT_TRUE(run_until(self->fd, self->id, 2, MLP_MODE_COLLABORATION, 60));
	ASSERT_TRUE(run_until(self->fd, self->id, 2, MLP_MODE_RECOMMENDATION, 60));
	st = mlp_status(self->fd, self->id);
	EXPECT_EQ(2, st.promotions);
	EXPECT_EQ(MLP_TRANS_PROMOTE, st.last_transition);
	EXPECT_EQ(1000000, st.baseline_eff);

	/* Applying x = 12 fails: the window runs the baseline. */
	for (i = 0; i < 6; i++) {
		fb = step(self->fd, self->id, 12, &r);
		if (r.verdict == MLP_VERDICT_APPLIED)
			break;
	}
	ASSERT_EQ(MLP_VERDICT_APPLIED, r.verdict);
	while (fb.epoch < r.target_epoch && fb.size)
		fb = step(self->fd, self->id, 2, NULL);
	EXPECT_EQ(r.target_epoch, fb.epoch);
	EXPECT_EQ(0, fb.applied);
	EXPECT_EQ(0, fb.knobs[0]);

	/* x = -2 is 10% worse: one step down at once; x = -12: collapse. */
	ASSERT_TRUE(run_until(self->fd, self->id, -2, MLP_MODE_COLLABORATION, 20));
	EXPECT_EQ(MLP_TRANS_REGRESSION, mlp_status(self->fd, self->id).last_transition);
	ASSERT_TRUE(run_until(self->fd, self->id, -12, MLP_MODE_EMERGENCY, 20));
	st = mlp_status(self->fd, self->id);
	EXPECT_EQ(MLP_TRANS_COLLAPSE, st.last_transition);
	EXPECT_EQ(1, st.emergencies);

	/* Pinned RECOMMENDATION: no demotion on regression; a collapse clears the pin. */
	ASSERT_EQ(0, mlp_set_mode(self->fd, self->id, MLP_MODE_RECOMMENDATION,
				  MLP_MODE_F_PIN));
	for (i = 0; i < 6; i++)
		step(self->fd, self->id, -2, NULL);
	EXPECT_EQ(MLP_MODE_RECOMMENDATION, mode(self->fd, self->id));
	ASSERT_TRUE(run_until(self->fd, self->id, -12, MLP_MODE_EMERGENCY, 20));
	EXPECT_FALSE(mlp_status(self->fd, self->id).flags & MLP_STATUS_F_PINNED);
}

TEST_F_TIMEOUT(ladder, idle_windows, 120)
{
	struct mlp_feedback fb;
	int i, idle = 0;

	for (i = 0; i < 16; i++) {
		fb = step(self->fd, self->id, 0, NULL);
		if (!(fb.reasons & MLP_REASON_IDLE))
			continue;
		idle++;
		EXPECT_EQ(fb.baseline_eff, fb.eff);
		EXPECT_EQ(6, fb.epoch % 7);
	}
	EXPECT_LE(2, idle);
}

TEST_F(ladder, verdicts)
{
	struct mlp_recommendation r, again;
	struct mlp_feedback fb;
	struct mlp_state st;
	int i;

	ASSERT_EQ(0, mlp_set_mode(self->fd, self->id, MLP_MODE_RECOMMENDATION,
				  MLP_MODE_F_PIN));
	for (i = 0; i < 20; i++) {
		/* Two windows end: no recommendation of ours is pending any more. */
		mlp_next_record(self->fd, self->id, REC, &fb, 10000);
		mlp_next_record(self->fd, self->id, REC, &fb, 10000);
		st = mlp_state(self->fd, self->id);
		/* 99: out of bounds, clamped to 12 (max_delta 24 allows it). */
		ASSERT_EQ(0, mlp_recommend1(self->fd, self->id, st.epoch, 99, &r));
		ASSERT_EQ(0, mlp_recommend1(self->fd, self->id, st.epoch, 2, &again));
		if (again.target_epoch == r.target_epoch)
			break;
	}
	EXPECT_EQ(MLP_VERDICT_CLAMPED, r.verdict);
	EXPECT_EQ(MLP_REASON_OUT_OF_BOUNDS, r.reasons);
	EXPECT_EQ(12, r.applied[0]);
	EXPECT_EQ(MLP_VERDICT_REJECTED, again.verdict);
	EXPECT_EQ(MLP_REASON_RATE_LIMIT, again.reasons);
	EXPECT_EQ(-EINVAL, mlp_recommend1(self->fd, self->id, st.epoch + 5, 0, NULL));
	EXPECT_EQ(getpid(), mlp_status(self->fd, self->id).controller_pid);
	ASSERT_EQ(0, mlp_set_mode(self->fd, self->id, MLP_MODE_EMERGENCY, 0));
}

TEST_HARNESS_MAIN
