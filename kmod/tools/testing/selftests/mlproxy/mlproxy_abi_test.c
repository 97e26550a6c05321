// SPDX-License-Identifier: GPL-2.0
/*
 * The ABI 1.1 parts of /dev/mlproxy a caller sees per open file: the record size
 * it reads, the read timeout and MLP_FILE_WAKE, the subscription, lookups by id
 * and the registry generation, GONE records only for files that speak 1.1.
 * Needs mlproxy_selftest.ko (window_ms 20 or so); the GONE test unloads and
 * reloads it (MLPROXY_SELFTEST_KO and MLPROXY_SELFTEST_ARGS, set by mlproxy.sh).
 */
#include <pthread.h>
#include "kselftest_harness.h"
#include "mlproxy_util.h"

FIXTURE(abi) {
	int fd;
	unsigned int id;
};

FIXTURE_SETUP(abi)
{
	ASSERT_EQ(0, mlp_fixture_open(&self->fd, &self->id, "selftest"));
	if (!self->id)
		SKIP(return, "mlproxy_selftest.ko is not loaded");
}

FIXTURE_TEARDOWN(abi)
{
	close(self->fd);
}

TEST_F(abi, record_size)
{
	struct mlp_feedback fb;
	struct mlp_file_config c;
	struct mlp_state st;
	unsigned int ids[1] = { self->id };

	/* A 1.0 reader gets 136-byte records without asking. */
	ASSERT_EQ(0, mlp_file(self->fd, MLP_FILE_SET_SUBSCRIBE, 0, 0, 1, ids, &c));
	EXPECT_EQ(MLP_SIZEOF_FEEDBACK_VER0, c.record_size);
	EXPECT_EQ(MLP_READ_TIMEOUT_NONE, c.read_timeout_ms);
	ASSERT_EQ(0, mlp_next_record(self->fd, self->id, MLP_SIZEOF_FEEDBACK_VER0, &fb, 5000));
	EXPECT_EQ(MLP_SIZEOF_FEEDBACK_VER0, fb.size);
	/* A 1.1 reader asks for the whole record: the next window's state comes with it. */
	ASSERT_EQ(0, mlp_file(self->fd, MLP_FILE_SET_RECORD_SIZE, sizeof(fb), 0, 0, NULL,
			      &c));
	EXPECT_EQ(sizeof(fb), c.record_size);
	ASSERT_EQ(0, mlp_next_record(self->fd, self->id, sizeof(fb), &fb, 5000));
	ASSERT_EQ(0, mlp_next_record(self->fd, self->id, sizeof(fb), &fb, 5000));
	EXPECT_EQ(sizeof(fb), fb.size);
	EXPECT_EQ(2, fb.nr_features);
	EXPECT_EQ(1, fb.nr_knobs);
	/* selftest's first feature is the epoch of the window. */
	EXPECT_EQ(fb.epoch + 1, fb.next_features[0]);
	st = mlp_state(self->fd, self->id);
	EXPECT_LE(fb.epoch + 1, st.epoch);
	EXPECT_LT(fb.window_start_ns + fb.window_ns, fb.next_end_ns);
	/* A read shorter than one record is refused; so are sizes outside 136..352. */
	EXPECT_EQ(-1, read(self->fd, &fb, MLP_SIZEOF_FEEDBACK_VER0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, mlp_file(self->fd, MLP_FILE_SET_RECORD_SIZE,
				    MLP_SIZEOF_FEEDBACK_VER0 - 1, 0, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, mlp_file(self->fd, MLP_FILE_SET_RECORD_SIZE, sizeof(fb) + 1, 0,
				    0, NULL, NULL));
	EXPECT_EQ(-EINVAL, mlp_file(self->fd, 1U << 7, 0, 0, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, mlp_file(self->fd, MLP_FILE_SET_READ_TIMEOUT,
				    0, MLP_READ_TIMEOUT_MAX_MS + 1, 0, NULL, NULL));
}

TEST_F(abi, read_timeout)
{
	unsigned int nobody[1] = { 0x7fffffff };
	char buf[sizeof(struct mlp_feedback)];
	__u64 t0, dt;

	/* Subscribed to no real subsystem: nothing ever comes. */
	ASSERT_EQ(0, mlp_file(self->fd, MLP_FILE_SET_SUBSCRIBE | MLP_FILE_SET_READ_TIMEOUT,
			      0, 100, 1, nobody, NULL));
	t0 = mlp_now_ms();
	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
	dt = mlp_now_ms() - t0;
	EXPECT_LE(90, dt);	/* not earlier than asked (less a clock tick) */
	EXPECT_GT(10000, dt);	/* and not forever */
	ASSERT_EQ(0, mlp_file(self->fd, MLP_FILE_SET_READ_TIMEOUT, 0, 0, 0, NULL, NULL));
	t0 = mlp_now_ms();
	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
	EXPECT_GT(5000, mlp_now_ms() - t0);
}

static void *blocked_reader(void *arg)
{
	char buf[sizeof(struct mlp_feedback)];
	int fd = *(int *)arg;

	return (void *)(long)read(fd, buf, sizeof(buf));
}

TEST_F(abi, wake_returns_a_blocked_reader)
{
	unsigned int nobody[1] = { 0x7fffffff };
	pthread_t t;
	void *ret;
	__u64 t0;

	ASSERT_EQ(0, mlp_file(self->fd, MLP_FILE_SET_SUBSCRIBE | MLP_FILE_SET_READ_TIMEOUT,
			      0, MLP_READ_TIMEOUT_NONE, 1, nobody, NULL));
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_reader, &self->fd));
	mlp_sleep_ms(200);
	t0 = mlp_now_ms();
	ASSERT_EQ(0, mlp_file(self->fd, MLP_FILE_WAKE, 0, 0, 0, NULL, NULL));
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(0, (long)ret);
	EXPECT_GT(10000, mlp_now_ms() - t0);
}

TEST_F(abi, subscription)
{
	unsigned int ids[1] = { self->id }, many[MLP_MAX_SUBSYS + 1];
	struct mlp_feedback fb[8], *rec;
	struct mlp_file_config c;
	int i, n, got = 0;

	ASSERT_EQ(0, mlp_file(self->fd, MLP_FILE_SET_SUBSCRIBE | MLP_FILE_SET_READ_TIMEOUT,
			      0, 2000, 1, ids, &c));
	EXPECT_EQ(1, c.nr_subscribed);
	EXPECT_EQ(self->id, c.subscribed[0]);
	while (got < 10) {
		n = read(self->fd, fb, sizeof(fb));
		ASSERT_LT(0, n);
		for (i = 0; i < n / MLP_SIZEOF_FEEDBACK_VER0; i++, got++) {
			rec = (struct mlp_feedback *)((char *)fb + i * MLP_SIZEOF_FEEDBACK_VER0);
			EXPECT_EQ(self->id, rec->subsys_id);
		}
	}
	memset(many, 0, sizeof(many));
	EXPECT_EQ(-EINVAL, mlp_file(self->fd, MLP_FILE_SET_SUBSCRIBE, 0, 0, 1, many, NULL));
	many[0] = self->id;
	EXPECT_EQ(-EINVAL, mlp_file(self->fd, MLP_FILE_SET_SUBSCRIBE, 0, 0,
				    MLP_MAX_SUBSYS + 1, many, NULL));
}

TEST_F(abi, lookup_by_id_and_generation)
{
	struct mlp_subsys_info a = { .size = sizeof(a) }, b = { .size = sizeof(b) };
	struct mlp_version v = mlp_version(self->fd, MLP_ABI_MINOR);
	unsigned int i;

	for (i = 0; i < v.nr_subsys; i++) {
		a.index = i;
		ASSERT_EQ(0, mlp_ioc(self->fd, MLP_IOC_SUBSYS_INFO, &a));
		if (a.id == self->id)
			break;
	}
	ASSERT_EQ(self->id, a.id);
	EXPECT_EQ(v.generation, a.generation);
	b.id = self->id;
	b.flags = MLP_INFO_F_BY_ID;
	ASSERT_EQ(0, mlp_ioc(self->fd, MLP_IOC_SUBSYS_INFO, &b));
	EXPECT_EQ(i, b.index);
	EXPECT_EQ(0, strcmp(a.name, b.name));
	b.id = 0x7fffffff;
	EXPECT_EQ(-ENOENT, mlp_ioc(self->fd, MLP_IOC_SUBSYS_INFO, &b));
	b.flags = 1U << 5;
	EXPECT_EQ(-EINVAL, mlp_ioc(self->fd, MLP_IOC_SUBSYS_INFO, &b));
}

/* Reads every queued record; returns how many were GONE records of id. */
static int gone_records(int fd, unsigned int id)
{
	char buf[MLP_SIZEOF_FEEDBACK_VER0 * 64];
	struct mlp_feedback *fb;
	int n, i, gone = 0;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n / MLP_SIZEOF_FEEDBACK_VER0; i++) {
			fb = (struct mlp_feedback *)(buf + i * MLP_SIZEOF_FEEDBACK_VER0);
			if (fb->subsys_id == id && fb->reasons & MLP_REASON_GONE)
				gone++;
		}
	}
	return gone;
}

TEST_F(abi, gone_needs_minor_1)
{
	const char *ko = getenv("MLPROXY_SELFTEST_KO");
	const char *args = getenv("MLPROXY_SELFTEST_ARGS");
	int old = open(MLP_DEV, O_RDONLY);
	unsigned int ids[1] = { self->id };
	char cmd[512];
	__u64 gen;

	if (!ko)
		SKIP(return, "MLPROXY_SELFTEST_KO is not set (mlproxy.sh sets it)");
	ASSERT_LE(0, old);
	EXPECT_EQ(1, mlp_version(self->fd, 1).file_minor);
	EXPECT_EQ(0, mlp_version(old, 0).file_minor);
	gen = mlp_version(self->fd, 1).generation;
	ASSERT_EQ(0, mlp_file(self->fd, MLP_FILE_SET_SUBSCRIBE | MLP_FILE_SET_READ_TIMEOUT,
			      0, 0, 1, ids, NULL));
	ASSERT_EQ(0, mlp_file(old, MLP_FILE_SET_SUBSCRIBE | MLP_FILE_SET_READ_TIMEOUT,
			      0, 0, 1, ids, NULL));
	ASSERT_EQ(0, mlp_sh("rmmod mlproxy_selftest"));
	EXPECT_EQ(1, gone_records(self->fd, self->id));
	EXPECT_EQ(0, gone_records(old, self->id));
	EXPECT_EQ(gen + 1, mlp_version(self->fd, 1).generation);
	snprintf(cmd, sizeof(cmd), "insmod %s %s", ko, args ? args : "");
	ASSERT_EQ(0, mlp_sh(cmd));
	EXPECT_LT(gen + 1, mlp_version(self->fd, 1).generation);
	EXPECT_NE(0, mlp_find(self->fd, "selftest"));
	close(old);
}

TEST_HARNESS_MAIN
