// SPDX-License-Identifier: GPL-2.0
/*
 * Efficiencies of a subsystem at or below zero: mlproxy_selftest.ko base_eff=0 (a
 * baseline of 0) or base_eff=-1000000 (negative efficiencies). The kernel clamps
 * every efficiency into [0, 10^15] and takes a reference <= 0 as none yet, so
 * advice windows are not judged: the mode neither promotes (0 once made any window
 * "good") nor collapses (a negative baseline once made an equal window a collapse).
 * Needs mlproxy.ko learning_period=2 promote_windows=3 emergency_hold_windows=2.
 */
#include "kselftest_harness.h"
#include "mlproxy_util.h"

FIXTURE(eff) {
	int fd;
	unsigned int id;
	long long base;
};

FIXTURE_SETUP(eff)
{
	ASSERT_EQ(0, mlp_fixture_open(&self->fd, &self->id, "selftest"));
	self->base = mlp_param("mlproxy_selftest", "base_eff");
	if (!self->id || self->base > 0)
		SKIP(return, "needs mlproxy_selftest.ko with base_eff <= 0");
	ASSERT_EQ(0, mlp_claim(self->fd, self->id, 0));
}

FIXTURE_TEARDOWN(eff)
{
	close(self->fd);
}

TEST_F_TIMEOUT(eff, no_reference_no_judgement, 180)
{
	/* x = 2 is 100000 above x = 0: "good" against a reference of 0. */
	long long x = self->base == 0 ? 2 : 0;
	struct mlp_feedback fb;
	struct mlp_status st;
	int i, advised = 0;

	for (i = 0; i < 40 && mlp_status(self->fd, self->id).mode != MLP_MODE_LEARNING; i++) {
		ASSERT_EQ(0, mlp_next_record(self->fd, self->id, MLP_SIZEOF_FEEDBACK_VER0, &fb,
					     10000));
		mlp_heartbeat(self->fd, self->id);
	}
	ASSERT_EQ(MLP_MODE_LEARNING, mlp_status(self->fd, self->id).mode);
	for (i = 0; i < 40 && advised < 8; i++) {
		ASSERT_EQ(0, mlp_next_record(self->fd, self->id, MLP_SIZEOF_FEEDBACK_VER0, &fb,
					     10000));
		EXPECT_LE(0, fb.eff);
		EXPECT_EQ(0, fb.baseline_eff);
		if (fb.applied)
			advised++;
		mlp_recommend1(self->fd, self->id, mlp_state(self->fd, self->id).epoch, x, NULL);
	}
	EXPECT_LE(8, advised);
	st = mlp_status(self->fd, self->id);
	EXPECT_EQ(MLP_MODE_LEARNING, st.mode);
	EXPECT_EQ(0, st.promotions);
	EXPECT_EQ(0, st.emergencies);
	EXPECT_EQ(0, st.baseline_eff);
}

TEST_HARNESS_MAIN
