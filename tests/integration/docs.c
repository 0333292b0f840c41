// SPDX-License-Identifier: GPL-2.0-only
/*
 * The documentation runs as written: every shell example of README.md and
 * the man pages (tests/integration/shell_examples.sh, which states the
 * convention, runs each on a fresh mount and checks its output), and the
 * guided demo (examples/demo.sh) unattended, with the trace it leaves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ.h"

/* At most this many examples may be marked not-run in the documents. */
#define MAX_NOT_RUN 3

/* The build directory, as the runner gives it (B=...). */
static const char *build_dir(void)
{
	const char *b = getenv("B");

	return b && *b ? b : "build";
}

/* Run @cmd under sh with an outer timeout of @secs; its combined output
 * goes to @out.  Returns the exit status, or -1. */
static int run(const char *cmd, int secs, char *out, size_t len)
{
	char full[8192];
	size_t n = 0, got;
	FILE *p;
	int st;

	snprintf(full, sizeof(full), "timeout -k 10 %d sh -c '%s' 2>&1 </dev/null",
		 secs, cmd);
	p = popen(full, "r");
	cr_assert_not_null(p);
	while (n + 1 < len && (got = fread(out + n, 1, len - 1 - n, p)) > 0)
		n += got;
	out[n] = '\0';
	if (n + 1 >= len) { /* keep the tail: the summary is the last line */
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

INTEG_TEST(docs, shell_examples_run_as_written, 900)
{
	static char out[1 << 18];
	char cmd[4096];
	const char *why = evt_fuse_missing(), *sum;
	int st, ran = -1, failed = -1, notrun = -1;

	if (why)
		cr_skip_test("%s", why);
	cr_assert(access("tests/integration/shell_examples.sh", X_OK) == 0);
	snprintf(cmd, sizeof(cmd), "B=%s tests/integration/shell_examples.sh",
		 build_dir());
	st = run(cmd, 800, out, sizeof(out));
	sum = strstr(out, "examples: ");
	cr_assert_not_null(sum, "no summary:\n%s", out);
	cr_assert_eq(sscanf(sum, "examples: %d run, %d failed, %d not-run",
			    &ran, &failed, &notrun),
		     3, "%s", out);
	cr_assert_eq(failed, 0, "%s", out);
	cr_assert_eq(st, 0, "the runner exited %d:\n%s", st, out);
	/* README's tour, its AIO example and idioms, evfdfs(7)'s and
	 * evfdfs(8)'s examples: fewer would mean the extractor lost some. */
	cr_assert_geq(ran, 9, "%s", out);
	cr_assert_leq(notrun, MAX_NOT_RUN, "%s", out);
}
