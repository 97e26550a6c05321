// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency stress of /dev/mlproxy: five threads issue random ioctls (state,
 * recommend, claim and release, heartbeat, set mode, status, file options) and
 * non-blocking reads, polls and re-opens on a shared file and their own, a sixth
 * blocks in read() (woken now and then), while mlproxy_selftest.ko is unloaded and
 * loaded again underneath (MLPROXY_SELFTEST_KO). The kernel must stay healthy:
 * mlproxy.sh checks the log afterwards. MLPROXY_STRESS_SECONDS (default 20).
 */
#include <pthread.h>
#include <stdatomic.h>
#include "kselftest_harness.h"
#include "mlproxy_util.h"

static atomic_int stop;
static int shared_fd;

static unsigned long long xorshift(unsigned long long *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void one_call(int fd, unsigned long long *x)
{
	unsigned int id = 1 + xorshift(x) % 4, ids[2] = { id, id + 1 };
	struct mlp_mode m = { .size = sizeof(m), .subsys_id = id };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned char buf[2048];
	struct mlp_state st;

	switch (xorshift(x) % 10) {
	case 0:
		st = mlp_state(fd, id);
		mlp_recommend1(fd, id, st.epoch, (long long)(xorshift(x) % 30) - 12, NULL);
		break;
	case 1:
		mlp_claim(fd, id, xorshift(x) % 3 == 0 ? MLP_CLAIM_F_RELEASE : 0);
		break;
	case 2:
		mlp_heartbeat(fd, id);
		break;
	case 3:
		m.mode = xorshift(x) % 4;
		m.flags = xorshift(x) % 2;
		if (xorshift(x) % 20 == 0)
			mlp_ioc(fd, MLP_IOC_SET_MODE, &m);
		break;
	case 4:
		mlp_status(fd, id);
		break;
	case 5:
		if (read(fd, buf, sizeof(buf)) < 0 && errno != EAGAIN && errno != EINVAL)
			abort();
		break;
	case 6:
		mlp_file(fd, MLP_FILE_SET_SUBSCRIBE | MLP_FILE_SET_RECORD_SIZE,
			 xorshift(x) % 2 ? MLP_SIZEOF_FEEDBACK_VER0 : sizeof(struct mlp_feedback),
			 0, xorshift(x) % 3, ids, NULL);
		break;
	case 7:
		poll(&p, 1, 1);
		break;
	default:
		mlp_state(fd, id);
		break;
	}
}

static void *worker(void *arg)
{
	unsigned long long x = (unsigned long long)(long)arg * 7919 + 1, n = 0;
	int own = open(MLP_DEV, O_RDWR | O_NONBLOCK);

	while (!atomic_load(&stop)) {
		one_call(xorshift(&x) % 2 ? own : shared_fd, &x);
		if (xorshift(&x) % 500 == 0) {
			close(own);
			own = open(MLP_DEV, O_RDWR | O_NONBLOCK);
		}
		n++;
	}
	close(own);
	return (void *)(long)n;
}

static void *blocker(void *arg)
{
	unsigned char buf[4096];
	int fd = open(MLP_DEV, O_RDONLY);

	mlp_file(fd, MLP_FILE_SET_READ_TIMEOUT, 0, 50, 0, NULL, NULL);
	while (!atomic_load(&stop))
		read(fd, buf, sizeof(buf));
	close(fd);
	return NULL;
}

static void *reloader(void *arg)
{
	const char *ko = getenv("MLPROXY_SELFTEST_KO");
	char cmd[512];
	int i = 0;

	while (ko && !atomic_load(&stop)) {
		mlp_sleep_ms(3000);
		if (atomic_load(&stop))
			break;
		mlp_sh("rmmod mlproxy_selftest");
		mlp_sleep_ms(500);
		snprintf(cmd, sizeof(cmd), "insmod %s window_ms=%d idle_every=3", ko, 5 + i++ % 4);
		mlp_sh(cmd);
	}
	return NULL;
}

FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, threads_and_reloads, 300)
{
	const char *env = getenv("MLPROXY_STRESS_SECONDS");
	int secs = env ? atoi(env) : 20, i;
	pthread_t t[7];
	long total = 0;
	void *ret;

	shared_fd = open(MLP_DEV, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, shared_fd);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker, (void *)(long)i));
	ASSERT_EQ(0, pthread_create(&t[5], NULL, blocker, NULL));
	ASSERT_EQ(0, pthread_create(&t[6], NULL, reloader, NULL));
	for (i = 0; i < secs * 10; i++) {
		mlp_sleep_ms(100);
		mlp_file(shared_fd, MLP_FILE_WAKE, 0, 0, 0, NULL, NULL);
	}
	atomic_store(&stop, 1);
	for (i = 0; i < 5; i++) {
		pthread_join(t[i], &ret);
		total += (long)ret;
	}
	pthread_join(t[5], NULL);
	pthread_join(t[6], NULL);
	close(shared_fd);
	TH_LOG("%ld calls in %d s", total, secs);
	EXPECT_LT(1000, total);
}

TEST_HARNESS_MAIN
