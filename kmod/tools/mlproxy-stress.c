// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy-stress: concurrency stress of /dev/mlproxy for module developers.
 * Five threads issue random ioctls (state, recommend, claim/release,
 * heartbeat, set mode, status), non-blocking reads, polls and re-opens on a
 * shared and an own file, while a sixth blocks in read(); subsystem ids 1 and
 * 2 are targeted. kmod/tools/stress-run.sh runs it with short windows while
 * mlproxy_selftest.ko is unloaded and reloaded underneath, then checks dmesg.
 *   gcc -O1 -pthread -I kmod/include/uapi -o /var/tmp/mlp-stress \
 *       kmod/tools/mlproxy-stress.c
 *   /var/tmp/mlp-stress [seconds, default 10]
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/mlproxy.h>
static volatile int stop;
static int shared_fd;
static unsigned long long xs(unsigned long long *x){*x^=*x<<13;*x^=*x>>7;*x^=*x<<17;return *x;}
static void *worker(void *arg)
{
	unsigned long long x = (unsigned long long)(long)arg * 7919 + 1;
	unsigned char buf[2048];
	long n = 0;
	int own = open("/dev/mlproxy", O_RDWR | O_NONBLOCK);
	while (!stop) {
		int fd = xs(&x) % 2 ? own : shared_fd;
		struct mlp_state st = { .size = sizeof(st), .subsys_id = 1 + xs(&x) % 2 };
		struct mlp_recommendation r = { .size = sizeof(r), .subsys_id = st.subsys_id, .propensity = 1, .nr_knobs = 1 };
		struct mlp_claim c = { .size = sizeof(c), .subsys_id = st.subsys_id, .flags = xs(&x) % 3 == 0 };
		struct mlp_mode m = { .size = sizeof(m), .subsys_id = st.subsys_id, .mode = xs(&x) % 4, .flags = xs(&x) % 2 };
		struct mlp_status s = { .size = sizeof(s), .subsys_id = st.subsys_id };
		switch (xs(&x) % 9) {
		case 0: ioctl(fd, MLP_IOC_GET_STATE, &st); r.epoch = st.epoch; r.knobs[0] = xs(&x) % 30 - 12; ioctl(fd, MLP_IOC_RECOMMEND, &r); break;
		case 1: ioctl(fd, MLP_IOC_CLAIM, &c); break;
		case 2: ioctl(fd, MLP_IOC_HEARTBEAT, &c); break;
		case 3: if (xs(&x) % 20 == 0) ioctl(fd, MLP_IOC_SET_MODE, &m); break;
		case 4: ioctl(fd, MLP_IOC_GET_STATUS, &s); break;
		case 5: read(fd, buf, sizeof(buf)); break;
		case 6: if (xs(&x) % 50 == 0) { close(own); own = open("/dev/mlproxy", O_RDWR | O_NONBLOCK); } break;
		case 7: { struct pollfd p = { .fd = fd, .events = POLLIN }; poll(&p, 1, 1); } break;
		default: ioctl(fd, MLP_IOC_GET_STATE, &st); break;
		}
		n++;
	}
	close(own);
	return (void *)n;
}
static void *blocker(void *arg)
{
	unsigned char buf[4096];
	int fd = open("/dev/mlproxy", O_RDONLY);
	while (!stop) read(fd, buf, sizeof(buf));
	close(fd);
	return NULL;
}
int main(int argc, char **argv)
{
	pthread_t t[6];
	long i, total = 0;
	void *ret;
	int secs = argc > 1 ? atoi(argv[1]) : 10;
	shared_fd = open("/dev/mlproxy", O_RDWR | O_NONBLOCK);
	for (i = 0; i < 5; i++) pthread_create(&t[i], NULL, worker, (void *)i);
	pthread_create(&t[5], NULL, blocker, NULL);
	sleep(secs);
	stop = 1;
	for (i = 0; i < 5; i++) { pthread_join(t[i], &ret); total += (long)ret; }
	pthread_join(t[5], NULL);
	close(shared_fd);
	printf("stress: %ld calls in %d s\n", total, secs);
	return 0;
}
