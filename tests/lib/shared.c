// SPDX-License-Identifier: GPL-2.0-only
/*
 * One mount per test binary ("mount once per configuration, run many
 * checks"): the Criterion runner mounts before any test runs and publishes
 * the mount point in EVFDFS_TEST_MNT, which every forked test inherits.
 * After the last test it unmounts and requires the daemon to exit 0 with a
 * clean log; if it does not, the binary exits non-zero so `make check`
 * fails even though every test passed.
 *
 * The daemon is a child of a keeper process that the runner forks, not of
 * the runner.  Criterion's runner (BoxFort) watches its children with
 * waitid(P_ALL, WNOWAIT): a child it did not start that exits, such as a
 * daemon that crashes mid-run, stays first in line unreaped, and the
 * runner never again sees a test worker end, so the binary hung until the
 * suite's time limit (seen with gdb: the runner in nn_recv, its child pump
 * in waitid, finished workers defunct).  The keeper lives until the
 * runner is done whatever the daemon does: a dead daemon makes the
 * remaining tests fail at once (ENOTCONN) and its exit status is reported
 * at the end.  If the runner dies, the keeper sees its pipe end and
 * unmounts.
 *
 * A binary that needs no mount (the unit tests) sets EVFDFS_NO_SHARED_MOUNT
 * through tests/run-all.sh.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evtest.h"

static pid_t keeper;
static int keeper_ctl = -1; /* the runner's end: a byte means "stop" */
static int keeper_rep = -1; /* the keeper's reports */
static char shared_why[PATH_MAX + 256];

/*
 * Criterion 2.4's runner leaks a 48-byte timeout record of its own
 * whenever a test with a shorter .timeout starts while one with a longer
 * .timeout is still running (reproduced with two empty tests of timeouts
 * 90 and 30, run with -j2).  Under make check SANITIZE=1, LeakSanitizer's
 * check at the runner's exit then fails the whole binary although every
 * test passed.  __lsan_is_turned_off() is LSan's documented hook for
 * skipping that check: it answers yes only in the runner, only once every
 * test has run.  The test workers (forked before) and the daemon keep
 * their leak checks.
 */
static volatile int runner_finished;

int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return runner_finished;
}

/*
 * A report is one write: '0' or '1' (success or failure), then a text:
 * the mount point after a successful start, else the reason.
 */
static void keeper_say(int fd, bool ok, const char *text)
{
	char msg[PATH_MAX + 1300];
	int n = snprintf(msg, sizeof(msg), "%c%s", ok ? '0' : '1', text);

	if (n >= (int)sizeof(msg))
		n = (int)sizeof(msg) - 1;
	if (write(fd, msg, (size_t)n) != n)
		_exit(2);
}

static void __attribute__((noreturn)) keeper_main(int ctl, int rep)
{
	struct evt_mount m;
	char why[PATH_MAX + 1200], c;

	if (evt_mount_start(&m, NULL, why, sizeof(why))) {
		keeper_say(rep, false, why);
		_exit(1);
	}
	keeper_say(rep, true, m.dir);
	/* the runner's byte, or the end of the pipe if the runner is gone */
	while (read(ctl, &c, 1) < 0 && errno == EINTR)
		;
	if (evt_mount_stop(&m, why, sizeof(why))) {
		keeper_say(rep, false, why);
		_exit(1);
	}
	keeper_say(rep, true, "");
	_exit(0);
}

/* The keeper's next report: its text in @buf, true if it says success. */
static bool keeper_hear(char *buf, size_t len)
{
	ssize_t n;
	bool ok;

	do
		n = read(keeper_rep, buf, len - 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		snprintf(buf, len, "the keeper process ended without a report");
		return false;
	}
	buf[n] = '\0';
	ok = buf[0] == '0';
	if (!ok && buf[0] != '1') {
		snprintf(buf, len, "the keeper's report is garbled");
		return false;
	}
	memmove(buf, buf + 1, (size_t)n); /* with the '\0' */
	return ok;
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	const char *missing;
	int ctl[2], rep[2];

	(void)set;
	if (getenv("EVFDFS_NO_SHARED_MOUNT"))
		return;
	missing = evt_fuse_missing();
	if (missing) {
		snprintf(shared_why, sizeof(shared_why), "%s", missing);
		return;
	}
	if (pipe2(ctl, O_CLOEXEC) || pipe2(rep, O_CLOEXEC)) {
		fprintf(stderr, "evfdfs tests: pipe: %s\n", strerror(errno));
		exit(1);
	}
	keeper = fork();
	if (keeper < 0) {
		fprintf(stderr, "evfdfs tests: fork: %s\n", strerror(errno));
		exit(1);
	}
	if (keeper == 0) {
		close(ctl[1]);
		close(rep[0]);
		keeper_main(ctl[0], rep[1]);
	}
	close(ctl[0]);
	close(rep[1]);
	keeper_ctl = ctl[1];
	keeper_rep = rep[0];
	if (!keeper_hear(shared_why, sizeof(shared_why))) {
		fprintf(stderr, "evfdfs tests: shared mount failed: %s\n",
			shared_why);
		waitpid(keeper, NULL, 0);
		exit(1);
	}
	setenv("EVFDFS_TEST_MNT", shared_why, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char why[PATH_MAX + 1300];
	bool ok;

	(void)stats;
	runner_finished = 1;
	if (!keeper)
		return;
	if (write(keeper_ctl, "", 1) != 1) {
		/* the keeper is gone; keeper_hear() says so */
	}
	ok = keeper_hear(why, sizeof(why));
	waitpid(keeper, NULL, 0);
	keeper = 0;
	if (!ok) {
		fprintf(stderr, "evfdfs tests: FAILED after the run: %s\n",
			why);
		fflush(NULL);
		_exit(1);
	}
}

const char *evt_shared_mnt(void)
{
	const char *mnt = getenv("EVFDFS_TEST_MNT");

	if (!mnt) {
		const char *missing = evt_fuse_missing();

		cr_skip_test("no shared mount: %s",
			     missing ? missing
				     : "the runner did not mount one");
	}
	return mnt;
}
