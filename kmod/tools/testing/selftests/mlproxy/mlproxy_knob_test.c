// SPDX-License-Identifier: GPL-2.0
/*
 * Knob arithmetic at the widest legal bounds: mlproxy_selftest.ko wide=1 registers
 * "selftest_wide", one knob of min -2^62 + 1, max 2^62, step 1, max_delta 2^63 - 1,
 * whose apply() counts any value outside [min, max] (its feature "violations").
 * From the last advised value 2^62, last + max_delta does not fit an s64; the
 * kernel must still answer a value within the bounds (it once answered
 * -2^62 - 1 here).
 */
#include "kselftest_harness.h"
#include "mlproxy_util.h"

#define KMIN	(-0x4000000000000000LL + 1)
#define KMAX	0x4000000000000000LL

FIXTURE(knob) {
	int fd;
	unsigned int id;
};

FIXTURE_SETUP(knob)
{
	ASSERT_EQ(0, mlp_fixture_open(&self->fd, &self->id, "selftest_wide"));
	if (!self->id)
		SKIP(return, "mlproxy_selftest.ko was not loaded with wide=1");
	ASSERT_EQ(0, mlp_claim(self->fd, self->id, 0));
	ASSERT_EQ(0, mlp_set_mode(self->fd, self->id, MLP_MODE_RECOMMENDATION,
				  MLP_MODE_F_PIN));
}

FIXTURE_TEARDOWN(knob)
{
	close(self->fd);
}

/* Recommends x once the mode is in force; the answer; after its window ran. */
static struct mlp_recommendation advise(int fd, unsigned int id, long long x)
{
	struct mlp_recommendation r = { 0 };
	struct mlp_feedback fb;
	int i;

	for (i = 0; i < 20; i++) {
		mlp_next_record(fd, id, MLP_SIZEOF_FEEDBACK_VER0, &fb, 10000);
		mlp_recommend1(fd, id, mlp_state(fd, id).epoch, x, &r);
		if (r.verdict != MLP_VERDICT_REJECTED)
			break;
	}
	while (!mlp_next_record(fd, id, MLP_SIZEOF_FEEDBACK_VER0, &fb, 10000) &&
	       fb.epoch < r.target_epoch)
		;
	return r;
}

TEST_F_TIMEOUT(knob, extremes_stay_in_bounds, 120)
{
	struct mlp_recommendation r;

	r = advise(self->fd, self->id, KMAX);
	EXPECT_EQ(MLP_VERDICT_APPLIED, r.verdict);
	EXPECT_EQ(KMAX, r.applied[0]);
	/* 2^62 - (2^63 - 1) = min: no step limit, and nothing overflows. */
	r = advise(self->fd, self->id, KMIN);
	EXPECT_EQ(MLP_VERDICT_APPLIED, r.verdict);
	EXPECT_EQ(KMIN, r.applied[0]);
	r = advise(self->fd, self->id, INT64_MAX);
	EXPECT_EQ(MLP_VERDICT_CLAMPED, r.verdict);
	EXPECT_EQ(MLP_REASON_OUT_OF_BOUNDS, r.reasons);
	EXPECT_EQ(KMAX, r.applied[0]);
	r = advise(self->fd, self->id, INT64_MIN);
	EXPECT_EQ(MLP_VERDICT_CLAMPED, r.verdict);
	EXPECT_EQ(KMIN, r.applied[0]);
	r = advise(self->fd, self->id, 0);
	EXPECT_EQ(MLP_VERDICT_APPLIED, r.verdict);
	/* apply() never saw a value outside the bounds. */
	EXPECT_EQ(0, mlp_state(self->fd, self->id).features[0]);
}

TEST_HARNESS_MAIN
