// SPDX-License-Identifier: GPL-2.0-only
/*
 * tests/run-all.sh, the runner of `make check`, on a suite made for the
 * purpose (a Criterion program built here, with a passing test, a failing
 * one, a skipped one, a crashing one and one that times out): it names no
 * passing test (not even one whose name says "signal"), names every
 * failure with its assertion message and every skip with its reason,
 * labels its own lines "run-all:", sums up the suite, and exits non-zero.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/evtest.h"

static const char fake_suite[] =
	"#include <criterion/criterion.h>\n"
	"Test(fake, signal_passes) { cr_assert_eq(1, 1); }\n"
	"Test(fake, fails) { cr_assert_eq(1, 2, \"one is not %s\", \"two\"); }\n"
	"Test(fake, skipped) { cr_skip_test(\"no %s here\", \"widget\"); }\n"
	"Test(fake, crashes) { *(volatile int *)0 = 1; }\n"
	"Test(fake, times_out, .timeout = 1) { for (;;) ; }\n";

Test(runner, prints_failures_and_skips_and_no_passing_names, .timeout = 120)
{
	static char out[65536];
	char dir[] = "/tmp/evfdfs-runner-XXXXXX";
	char src[PATH_MAX], cmd[4 * PATH_MAX];
	const char *line, *end;
	size_t n;
	FILE *f;
	int st;

	cr_assert(access("tests/run-all.sh", X_OK) == 0,
		  "tests must run from the source tree");
	cr_assert(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/fake.c", dir);
	f = fopen(src, "w");
	cr_assert(f && fputs(fake_suite, f) >= 0 && fclose(f) == 0);
	snprintf(cmd, sizeof(cmd), "cc -o %s/test-fake %s -lcriterion 2>&1",
		 dir, src);
	cr_assert_eq(evt_sh(cmd, out, sizeof(out)), 0, "%s", out);

	/* BXFI_MAP would make it take itself for one of our workers. */
	snprintf(cmd, sizeof(cmd),
		 "env -u BXFI_MAP B=%s EVFDFS_TEST_JOBS=2 timeout -k 5 60 "
		 "tests/run-all.sh fake 2>&1",
		 dir);
	f = popen(cmd, "r");
	cr_assert(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	st = pclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	evt_sh(cmd, NULL, 0);

	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) != 0 &&
			  WEXITSTATUS(st) != 124,
		  "run-all.sh: status %#x (a failing suite must fail)", st);
	cr_expect(!strstr(out, "signal_passes"), "a passing test named:\n%s",
		  out);
	cr_expect(strstr(out, "FAIL fake::fails"), "%s", out);
	cr_expect(strstr(out, "one is not two"), "no assertion message:\n%s",
		  out);
	cr_expect(strstr(out, "FAIL fake::crashes"), "%s", out);
	/* Its TAP block is empty: the verbose log's lines stand in. */
	cr_expect(strstr(out, "Unexpected signal caught"), "%s", out);
	cr_expect(strstr(out, "FAIL fake::times_out"), "%s", out);
	cr_expect(strstr(out, "SKIP fake::skipped: no widget here\n"), "%s",
		  out);
	cr_expect(strstr(out, "run-all: fake: 1 passed, 3 failed, 1 skipped\n"),
		  "no summary line:\n%s", out);
	cr_expect(strstr(out, "check: 1 passed, 3 failed, 1 skipped\n"), "%s",
		  out);
	/* Every line is a result, a message under one, or labelled. */
	for (line = out; *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		cr_expect(!strncmp(line, "FAIL ", 5) ||
				  !strncmp(line, "SKIP ", 5) ||
				  !strncmp(line, "WARN ", 5) ||
				  !strncmp(line, "    ", 4) ||
				  !strncmp(line, "run-all: ", 9) ||
				  !strncmp(line, "check: ", 7),
			  "an unlabelled line: \"%.*s\" in:\n%s",
			  (int)(end - line), line, out);
		if (!*end)
			break;
	}
}
