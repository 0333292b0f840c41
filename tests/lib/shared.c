// SPDX-License-Identifier: GPL-2.0-only
/*
 * One mount per test binary ("mount once per configuration, run many
 * checks"): the Criterion runner mounts before any test runs and publishes
 * the mount point in EVFDFS_TEST_MNT, which every forked test inherits.
 * After the last test it unmounts and requires the daemon to exit 0 with a
 * clean log; if it does not, the binary exits non-zero so `make check`
 * fails even though every test passed.
 *
 * A binary that needs no mount (the unit tests) sets EVFDFS_NO_SHARED_MOUNT
 * through tests/run-all.sh.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "evtest.h"

static struct evt_mount shared;
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

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	const char *missing;

	(void)set;
	if (getenv("EVFDFS_NO_SHARED_MOUNT"))
		return;
	missing = evt_fuse_missing();
	if (missing) {
		snprintf(shared_why, sizeof(shared_why), "%s", missing);
		return;
	}
	if (evt_mount_start(&shared, NULL, shared_why, sizeof(shared_why))) {
		fprintf(stderr, "evfdfs tests: shared mount failed: %s\n",
			shared_why);
		exit(1);
	}
	setenv("EVFDFS_TEST_MNT", shared.dir, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char why[PATH_MAX + 1200];

	(void)stats;
	runner_finished = 1;
	if (!shared.pid)
		return;
	if (evt_mount_stop(&shared, why, sizeof(why)) != 0) {
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
