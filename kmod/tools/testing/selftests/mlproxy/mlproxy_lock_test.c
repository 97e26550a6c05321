// SPDX-License-Identifier: GPL-2.0
/*
 * Readers never wait for a window: mlproxy_selftest.ko hold_ms=300 makes its
 * measure() sleep 300 ms, so the window work holds the subsystem's lock nearly all
 * the time. GET_STATE, GET_STATUS and GET_MODE read a published snapshot and must
 * answer at once; closing a file that controls nothing must not take the lock
 * either. (They once waited up to the whole 300 ms: 144-151 ms p99 with 5 ms
 * windows under 32 looping readers.) The bound below is half the hold: a reader
 * that waited for the lock even once in 30 tries would cross it.
 */
#include "kselftest_harness.h"
#include "mlproxy_util.h"

#define BOUND_MS	150

FIXTURE(lock) {
	int fd;
	unsigned int id;
};

FIXTURE_SETUP(lock)
{
	ASSERT_EQ(0, mlp_fixture_open(&self->fd, &self->id, "selftest"));
	if (!self->id || mlp_param("mlproxy_selftest", "hold_ms") < 2 * BOUND_MS)
		SKIP(return, "needs mlproxy_selftest.ko hold_ms=300");
}

FIXTURE_TEARDOWN(lock)
{
	close(self->fd);
}

TEST_F_TIMEOUT(lock, read_only_ioctls_never_wait, 120)
{
	struct mlp_mode m = { .size = sizeof(m), .subsys_id = self->id };
	__u64 t0, dt, worst = 0;
	int i;

	for (i = 0; i < 30; i++) {
		t0 = mlp_now_ms();
		mlp_state(self->fd, self->id);
		mlp_status(self->fd, self->id);
		ASSERT_EQ(0, mlp_ioc(self->fd, MLP_IOC_GET_MODE, &m));
		dt = mlp_now_ms() - t0;
		if (dt > worst)
			worst = dt;
		mlp_sleep_ms(37);
	}
	TH_LOG("slowest GET_STATE + GET_STATUS + GET_MODE: %llu ms",
	       (unsigned long long)worst);
	EXPECT_GT(BOUND_MS, worst);
}

TEST_F_TIMEOUT(lock, closing_a_reader_never_waits, 120)
{
	__u64 t0, dt, worst = 0;
	int i, fd;

	/* self->fd stays open, so these closes are not the last (no park). */
	for (i = 0; i < 20; i++) {
		fd = open(MLP_DEV, O_RDONLY);
		ASSERT_LE(0, fd);
		mlp_sleep_ms(23);
		t0 = mlp_now_ms();
		close(fd);
		dt = mlp_now_ms() - t0;
		if (dt > worst)
			worst = dt;
	}
	TH_LOG("slowest close: %llu ms", (unsigned long long)worst);
	EXPECT_GT(BOUND_MS, worst);
}

TEST_HARNESS_MAIN
