// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy.ko alone (no test module, no ra_dev; mlproxy.sh loads it with
 * max_open=2): it registers no subsystem (the synthetic test landscape lives in
 * mlproxy_synthetic.ko), its node is 0600, and unprivileged opens are counted per
 * user: one user's files never take another's, the refusal is EAGAIN, and root is
 * never refused.
 */
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "mlproxy_util.h"

TEST(no_subsystem_without_a_test_module)
{
	int fd = open(MLP_DEV, O_RDONLY);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, mlp_version(fd, MLP_ABI_MINOR).nr_subsys);
	close(fd);
}

TEST(node_is_0600)
{
	struct stat st;

	ASSERT_EQ(0, stat(MLP_DEV, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	EXPECT_EQ(0, st.st_uid);
}

/* In a child as uid: opens n files; exits with the errno of the first refusal. */
static int opens_as(uid_t uid, int n)
{
	pid_t pid = fork();
	int i, st;

	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
			_exit(100);
		for (i = 0; i < n; i++)
			if (open(MLP_DEV, O_RDONLY) < 0)
				_exit(errno);
		/* Hold them while the parent looks. */
		mlp_sleep_ms(600);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

TEST(open_accounting_is_per_user)
{
	int max = mlp_param("mlproxy", "max_open"), fds[8], i;
	pid_t pid;

	ASSERT_EQ(2, max);
	/* As a udev rule might: let everyone open it for this test. */
	ASSERT_EQ(0, chmod(MLP_DEV, 0666));
	EXPECT_EQ(0, opens_as(65534, max));
	EXPECT_EQ(EAGAIN, opens_as(65534, max + 1));
	/* One user holding every slot leaves another user's alone. */
	pid = fork();
	if (pid == 0)
		_exit(opens_as(65534, max));
	mlp_sleep_ms(200);
	EXPECT_EQ(0, opens_as(65533, max));
	waitpid(pid, NULL, 0);
	/* Root (CAP_SYS_ADMIN) is neither counted nor refused. */
	for (i = 0; i < 8; i++) {
		fds[i] = open(MLP_DEV, O_RDONLY);
		EXPECT_LE(0, fds[i]);
	}
	for (i = 0; i < 8; i++)
		close(fds[i]);
	EXPECT_EQ(0, chmod(MLP_DEV, 0600));
}

TEST_HARNESS_MAIN
