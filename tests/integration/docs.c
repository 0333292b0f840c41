// SPDX-License-Identifier: GPL-2.0-only
/*
 * The documentation runs as written: every shell example of README.md and
 * the man pages (tests/integration/shell_examples.sh, which states the
 * convention, runs each on a fresh mount and checks its output), and the
 * guided demo (examples/demo.sh) unattended, with the trace it leaves; and
 * every test docs/conformance.md cites exists.
 */
#include <fcntl.h>
#include <stdbool.h>
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

	snprintf(full, sizeof(full),
		 "timeout -k 10 %d sh -c '%s' 2>&1 </dev/null", secs, cmd);
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

/*
 * docs/conformance.md maps every spec item and difference to the tests
 * that check it: each test it cites must exist in the built programs
 * (tests/integration/cited_tests.sh lists them and compares).
 */
INTEG_TEST(docs, conformance_page_cites_only_tests_that_exist, 120)
{
	static char out[1 << 14];
	char cmd[4096];
	int st;

	cr_assert(access("tests/integration/cited_tests.sh", X_OK) == 0);
	snprintf(cmd, sizeof(cmd), "tests/integration/cited_tests.sh %s",
		 build_dir());
	st = run(cmd, 100, out, sizeof(out));
	cr_assert_eq(st, 0, "exit %d:\n%s", st, out);
}

/* Does the trace @t have a line with event @ev on object @obj? */
static bool has_event(const char *t, const char *ev, const char *obj)
{
	char pat[256];

	snprintf(pat, sizeof(pat), " %s %s ", ev, obj);
	return strstr(t, pat) != NULL;
}

/* How many lines of @t have event @ev on @obj with @key (e.g. "val=1")? */
static int count_events(const char *t, const char *ev, const char *obj,
			const char *key)
{
	char pat[256];
	int n = 0;

	snprintf(pat, sizeof(pat), " %s %s ", ev, obj);
	while ((t = strstr(t, pat))) {
		const char *eol = strchr(t, '\n');
		const char *k = strstr(t, key);

		if (k && (!eol || k < eol))
			n++;
		t += strlen(pat);
	}
	return n;
}

/*
 * The guided demo, unattended (DEMO_DELAY=0), on a mount of its own whose
 * trace was opened before it started: it exits 0, goes through every
 * step, and the trace holds the events each step promises, and nothing on
 * any counter but the demo's (no bookkeeping of its own).
 */
INTEG_TEST(docs, demo_runs_unattended_and_traces_only_its_counters, 300)
{
	static const char *const argv[] = { "-o", "trace_buf=1048576", NULL };
	static char out[1 << 16], tr[1 << 20];
	struct evt_mount *m = integ_mount(argv);
	char cmd[8192], path[4200];
	size_t n = 0;
	ssize_t got;
	char *line, *save;
	int fd, st, bad = 0;

	cr_assert(access("examples/demo.sh", X_OK) == 0);
	snprintf(path, sizeof(path), "%s/trace", m->dir);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(fd >= 0, "open %s: %m", path);
	snprintf(
		cmd, sizeof(cmd),
		"DEMO_DELAY=0 EVFDFS_EXAMPLES_BIN=%s/examples examples/demo.sh %s",
		build_dir(), m->dir);
	st = run(cmd, 240, out, sizeof(out));
	cr_assert_eq(st, 0, "the demo exited %d:\n%s", st, out);
	for (int i = 1; i <= 9; i++) {
		char title[16];

		snprintf(title, sizeof(title), "== %d. ", i);
		cr_assert(strstr(out, title), "no step %d:\n%s", i, out);
	}
	cr_assert(strstr(out, "evfdfs-top"), "%s", out);
	cr_assert(strstr(out, "/trace"), "%s", out);
	cr_assert(strstr(out, "\nDone."), "%s", out);
	cr_assert(strstr(out, "$ epoll_ready demo-ready"), "%s", out);
	cr_assert(strstr(out, "poller: demo-ready: readable"), "%s", out);
	while (n + 1 < sizeof(tr) &&
	       (got = read(fd, tr + n, sizeof(tr) - 1 - n)) > 0)
		n += (size_t)got;
	tr[n] = '\0';
	close(fd);

	/* Each step's events. */
	cr_assert(has_event(tr, "create", "demo-jobs"), "%s", tr);
	cr_assert(has_event(tr, "park", "demo-jobs"), "%s", tr);
	cr_assert(has_event(tr, "wake", "demo-jobs"), "%s", tr);
	cr_assert_eq(count_events(tr, "read", "demo-jobs", " val=3 "), 1, "%s",
		     tr);
	cr_assert(has_event(tr, "set", "demo-sem"), "%s", tr);
	cr_assert_eq(count_events(tr, "park", "demo-sem", "op=read"), 3, "%s",
		     tr);
	cr_assert_eq(count_events(tr, "read", "demo-sem", " val=1 "), 3, "%s",
		     tr);
	cr_assert(has_event(tr, "poll", "demo-ready"), "%s", tr);
	cr_assert(has_event(tr, "notify", "demo-ready"), "%s", tr);
	cr_assert_eq(count_events(tr, "read", "demo-ready", " val=1 "), 1, "%s",
		     tr);
	cr_assert(strstr(tr, " aio-submit "), "%s", tr);
	cr_assert(strstr(tr, " aio-complete "), "%s", tr);
	cr_assert(has_event(tr, "signal", "demo-done"), "%s", tr);
	cr_assert_eq(count_events(tr, "read", "demo-done", " val=1 "), 1, "%s",
		     tr);
	cr_assert(has_event(tr, "interrupt", "demo-victim"), "%s", tr);
	cr_assert_eq(count_events(tr, "read", "demo-victim", "val="), 0, "%s",
		     tr);
	cr_assert(has_event(tr, "unlink", "demo-victim"), "%s", tr);

	/* Nothing else: every counter event is on a demo counter, and no
	 * event was dropped. */
	for (line = strtok_r(tr, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char seq[32], ev[64], obj[256];

		if (sscanf(line, "%31s %*s %63s %255s", seq, ev, obj) < 3) {
			cr_log_error("short trace line: %s", line);
			bad++;
			continue;
		}
		if (!strncmp(ev, "aio-", 4))
			continue;
		if (strncmp(obj, "demo-", 5) != 0) {
			cr_log_error("not the demo's: %s", line);
			bad++;
		}
	}
	cr_assert_eq(bad, 0, "events outside the demo's counters (see log)");
	integ_unmount();
}

/*
 * The runner itself: an example whose output differs fails, "..." matches
 * what varies, a background job's output counts where it appears, $? and
 * the directory carry from one command to the next, and a block marked
 * not-run is counted and not run.
 */
INTEG_TEST(docs, shell_examples_runner_checks_what_it_runs, 300)
{
	static char out[1 << 16];
	char doc[] = "/tmp/evfdfs-doc-XXXXXX.md", cmd[8192];
	const char *why = evt_fuse_missing();
	FILE *f;
	int fd, st;

	if (why)
		cr_skip_test("%s", why);
	fd = mkstemps(doc, 3);
	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs("Right:\n\n"
	      "    $ cd /tmp/evfdfs && touch c\n"
	      "    $ cat text/c &\n"
	      "    $ echo 4 > text/c\n"
	      "    4\n"
	      "    $ false\n"
	      "    $ echo \"rc=$? in $(basename $PWD) at $(date)\"\n"
	      "    rc=1 in ... at ...\n"
	      "    ...\n"
	      "\nWrong:\n\n"
	      "    $ echo 5\n"
	      "    6\n"
	      "\n<!-- not-run: a test of the marker -->\n\n"
	      "    $ exit 1\n",
	      f);
	cr_assert_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd),
		 "B=%s tests/integration/shell_examples.sh %s", build_dir(),
		 doc);
	st = run(cmd, 240, out, sizeof(out));
	unlink(doc);
	cr_assert_neq(st, 0, "%s", out);
	cr_assert(strstr(out, "examples: 2 run, 1 failed, 1 not-run\n"), "%s",
		  out);
	cr_assert(strstr(out, "ok /tmp/evfdfs-doc-"), "%s", out);
	cr_assert(strstr(out, ".md:14: command 1:"), "%s", out);
	cr_assert(strstr(out, "not-run: /tmp/evfdfs-doc-"), "%s", out);
}
