// SPDX-License-Identifier: GPL-2.0
/*
 * The readahead subsystem on a real block device (docs/readahead.md): takes
 * control, pins RECOMMENDATION and steps the read-ahead 7, 9, 11, 12, 12, 10, 8,
 * 6, 4, 4, 6, 8 (log2 KiB; four windows each, within max_delta 2) while
 * readahead.sh reads the device, printing every state, verdict and record.
 * Needs mlproxy.ko ra_dev=<disk>; skipped without the readahead subsystem.
 */
#include "kselftest_harness.h"
#include "mlproxy_util.h"

static const long long plan[] = { 7, 9, 11, 12, 12, 10, 8, 6, 4, 4, 6, 8 };

FIXTURE(ra) {
	int fd;
	unsigned int id;
};

FIXTURE_SETUP(ra)
{
	ASSERT_EQ(0, mlp_fixture_open(&self->fd, &self->id, "readahead"));
	if (!self->id)
		SKIP(return, "no readahead subsystem (load mlproxy.ko with ra_dev=<disk>)");
	ASSERT_EQ(0, mlp_claim(self->fd, self->id, 0));
	ASSERT_EQ(0, mlp_set_mode(self->fd, self->id, MLP_MODE_RECOMMENDATION,
				  MLP_MODE_F_PIN));
}

FIXTURE_TEARDOWN(ra)
{
	close(self->fd);
}

TEST_F_TIMEOUT(ra, stepped_plan, 600)
{
	struct mlp_recommendation r;
	struct mlp_feedback fb;
	struct mlp_status st;
	struct mlp_state s;
	unsigned int w, i;

	for (w = 0; w < 48; w++) {
		if (!mlp_next_record(self->fd, self->id, MLP_SIZEOF_FEEDBACK_VER0, &fb, 10000))
			TH_LOG("fb epoch %llu applied %u ra %lld eff %lld base %lld reasons %#x",
			       (unsigned long long)fb.epoch, fb.applied, (long long)fb.knobs[0],
			       (long long)fb.eff, (long long)fb.baseline_eff, fb.reasons);
		s = mlp_state(self->fd, self->id);
		for (i = 0; i < s.nr_features; i++)
			TH_LOG("state epoch %llu feature %u = %lld", (unsigned long long)s.epoch,
			       i, (long long)s.features[i]);
		ASSERT_EQ(0, mlp_recommend1(self->fd, self->id, s.epoch, plan[(w / 4) % 12], &r));
		EXPECT_NE(MLP_VERDICT_NONE, r.verdict);
		EXPECT_LE(4, r.applied[0]);
		EXPECT_GE(12, r.applied[0]);
	}
	st = mlp_status(self->fd, self->id);
	TH_LOG("windows %llu advice %llu recs %llu applied %llu transitions %llu",
	       (unsigned long long)st.windows, (unsigned long long)st.advice_windows,
	       (unsigned long long)st.recs, (unsigned long long)st.recs_applied,
	       (unsigned long long)st.transitions);
	EXPECT_LT(0, st.advice_windows);
}

TEST_HARNESS_MAIN
