// SPDX-License-Identifier: GPL-2.0-only
/*
 * evfdfs-trace2svg, the picture to hand out: a trace captured from a
 * mount (a blocked reader, a write, an AIO completion signalling a
 * counter) and one written in the documented form (ids, "(unlinked)",
 * aio:CTX objects, ctx= on signal, a gap, an unknown event) become SVG
 * that is well-formed XML (xmllint), has exactly one lifeline per process,
 * counter and AIO context and one arrow per event, draws a signal from
 * its AIO context; and, where Chromium is installed, renders to a PNG.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "integ.h"
#include "toolrun.h"

#define XMLLINT "/usr/bin/xmllint"
#define CHROMIUM "/usr/bin/chromium"

static void need_xmllint(void)
{
	if (access(XMLLINT, X_OK) != 0)
		cr_skip_test("xmllint is not installed (package libxml2-utils; "
			     "scripts/deps.sh test installs it)");
}

/* A temporary file name; the test removes it. */
static char *tmpname(char *buf, size_t len, const char *suffix)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char name[64];

	snprintf(buf, len, "%s/%s%s", tmp,
		 evt_unique(name, sizeof(name), "t2s"), suffix);
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fputs(text, f) >= 0, true);
	cr_assert_eq(fclose(f), 0);
}

static void to_svg(const char *trace, const char *svg)
{
	char tool[PATH_MAX], out[4096];
	const char *argv[] = { tool, trace, NULL };
	int rc;

	tool_path("evfdfs-trace2svg", tool, sizeof(tool));
	rc = tool_run(argv, NULL, svg, NULL, 0, 30000);
	cr_assert_eq(rc, 0, "evfdfs-trace2svg exited %d", rc);
	{
		const char *lint[] = { XMLLINT, "--noout", svg, NULL };

		rc = tool_run(lint, NULL, NULL, out, sizeof(out), 30000);
		cr_assert_eq(rc, 0, "not well-formed XML:\n%s", out);
	}
}

/* An XPath expression's value, as xmllint prints it. */
static char *xpath(const char *svg, const char *expr, char *out, size_t len)
{
	const char *argv[] = { XMLLINT, "--xpath", expr, svg, NULL };
	int rc = tool_run(argv, NULL, NULL, out, len, 30000);

	cr_assert_eq(rc, 0, "xmllint --xpath '%s': %d %s", expr, rc, out);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static long xcount(const char *svg, const char *what)
{
	char expr[512], out[256];

	snprintf(expr, sizeof(expr), "count(//*[local-name()='g']%s)", what);
	return strtol(xpath(svg, expr, out, sizeof(out)), NULL, 10);
}

/*
 * What the trace holds, counted independently of the tool: events (not
 * gaps), distinct pids, distinct counters (by id=, else by name) and AIO
 * contexts (ctx=).
 */
struct census {
	int events, gaps;
	char pids[64][24], ctrs[64][140], ctxs[16][24];
	int npids, nctrs, nctxs;
};

static void note(char (*set)[140], int *n, const char *v, size_t size)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp((char *)set + (size_t)i * size, v))
			return;
	snprintf((char *)set + (size_t)(*n)++ * size, size, "%s", v);
}

static void census(const char *text, struct census *c)
{
	char line[1024];

	memset(c, 0, sizeof(*c));
	while (*text) {
		char *w[32], *save = NULL, *tok;
		size_t l = strcspn(text, "\n");
		int n = 0;

		snprintf(line, sizeof(line), "%.*s", (int)l, text);
		text += l + (text[l] == '\n');
		for (tok = strtok_r(line, " ", &save); tok && n < 32;
		     tok = strtok_r(NULL, " ", &save))
			w[n++] = tok;
		if (n >= 2 && (!strcmp(w[0], "-") || !strcmp(w[1], "-"))) {
			c->gaps++;
			continue;
		}
		if (n < 3)
			continue;
		c->events++;
		for (int i = 3; i < n; i++) {
			if (!strncmp(w[i], "pid=", 4))
				note((char(*)[140])c->pids, &c->npids, w[i] + 4,
				     sizeof(c->pids[0]));
			if (!strncmp(w[i], "ctx=", 4) &&
			    !strncmp(w[2], "aio-", 4))
				note((char(*)[140])c->ctxs, &c->nctxs, w[i] + 4,
				     sizeof(c->ctxs[0]));
		}
		if (strncmp(w[2], "aio-", 4) && n > 3 && !strchr(w[3], '=')) {
			const char *id = NULL;

			for (int i = 4; i < n; i++)
				if (!strncmp(w[i], "id=", 3))
					id = w[i];
			note(c->ctrs, &c->nctrs, id ? id : w[3],
			     sizeof(c->ctrs[0]));
		}
	}
}

static void check_counts(const char *svg, const char *trace)
{
	struct census c;

	census(trace, &c);
	cr_assert_gt(c.events, 0);
	cr_assert_eq(xcount(svg, "[@class='lifeline'][@data-kind='pid']"),
		     c.npids, "pid lifelines for a trace of %d pids:\n%s",
		     c.npids, trace);
	cr_assert_eq(xcount(svg, "[@class='lifeline'][@data-kind='counter']"),
		     c.nctrs, "counter lifelines for %d counters:\n%s", c.nctrs,
		     trace);
	cr_assert_eq(xcount(svg, "[@class='lifeline'][@data-kind='aio']"),
		     c.nctxs, "AIO lifelines for %d contexts:\n%s", c.nctxs,
		     trace);
	cr_assert_eq(xcount(svg, "[@class='event']"), c.events,
		     "events drawn for %d events:\n%s", c.events, trace);
	/* each with exactly one arrow (a line, or a loop path) */
	cr_assert_eq(xcount(svg, "[@class='event'][count(*[local-name()='line'"
				 " or local-name()='path'])=1]"),
		     c.events);
	cr_assert_eq(xcount(svg, "[@class='gap']"), c.gaps);
	for (int i = 0; i < c.npids; i++) {
		char what[128];

		snprintf(what, sizeof(what),
			 "[@class='lifeline'][@data-id='%s']", c.pids[i]);
		cr_assert_eq(xcount(svg, what), 1, "pid %s", c.pids[i]);
	}
}

/* Append what the trace has now; wait (bounded) until a line holds all. */
static void trace_until(int tfd, char *buf, size_t len, size_t *have,
			const char *const *all)
{
	long long deadline = evt_now_ms() + INTEG_WAIT_MS;

	while (!text_line_with(buf, all) && evt_now_ms() < deadline) {
		struct pollfd p = { .fd = tfd, .events = POLLIN };
		ssize_t n;

		poll(&p, 1, 200);
		while ((n = read(tfd, buf + *have, len - 1 - *have)) > 0) {
			*have += (size_t)n;
			buf[*have] = '\0';
		}
	}
	cr_assert(text_line_with(buf, all), "no [%s%s] in the trace:\n%s",
		  all[0], all[1] ? " ..." : "", buf);
}

#define TRACE_UNTIL(...)                          \
	trace_until(tfd, buf, sizeof(buf), &have, \
		    (const char *const[]){ __VA_ARGS__, NULL })

INTEG_TEST(trace2svg, captured_trace_one_lifeline_and_arrow_each, 120)
{
	struct evt_mount *m = integ_mount(NULL);
	static char buf[1 << 16];
	char tpath[PATH_MAX], spath[PATH_MAX], path[PATH_MAX];
	char line[PATH_MAX + 64];
	char want[64];
	size_t have = 0;
	int tfd, fd, done, aio, status;
	uint64_t v;
	pid_t rd;

	need_xmllint();
	evt_path(path, sizeof(path), m->dir, "trace");
	tfd = open(path, O_RDONLY | O_NONBLOCK);
	cr_assert(tfd >= 0, "%s: %s", path, strerror(errno));
	buf[0] = '\0';

	/* A reader blocks on jobs, a write releases it. */
	fd = evt_create_counter(m->dir, "jobs", 0, false, 0);
	rd = integ_fork();
	if (rd == 0) {
		int r = integ_open(m->dir, "jobs", false, O_RDONLY);

		_exit(read(r, &v, 8) == 8 ? 0 : 1);
	}
	cr_assert(
		integ_wait_field(m->dir, "jobs", "readers", 1, INTEG_WAIT_MS));
	cr_assert_eq(integ_write_u64(fd, 2), 0);
	cr_assert_eq(integ_reap(rd, &status, INTEG_WAIT_MS), 0);
	snprintf(want, sizeof(want), " pid=%d ", (int)rd);
	TRACE_UNTIL(" read jobs ", want);

	/* An AIO read whose completion signals done. */
	done = evt_create_counter(m->dir, "done", 0, false, 0);
	evt_path(path, sizeof(path), m->dir, "aio.txt");
	aio = open(path, O_RDWR);
	cr_assert(aio >= 0, "%s: %s", path, strerror(errno));
	tmpname(tpath, sizeof(tpath), ".in");
	write_file(tpath, "some data\n");
	snprintf(line, sizeof(line), "pread data=in resfd=done %s 0 16\n",
		 tpath);
	cr_assert_eq(write(aio, line, strlen(line)), (ssize_t)strlen(line));
	cr_assert_gt(read(aio, line, sizeof(line)), 0);
	close(aio);
	unlink(tpath);
	cr_assert_eq(integ_read_u64(done, &v), 0);
	cr_assert_eq(v, 1);
	TRACE_UNTIL(" signal done ");
	TRACE_UNTIL(" aio-release ");
	TRACE_UNTIL(" read done ");
	close(tfd);

	tmpname(tpath, sizeof(tpath), ".trace");
	tmpname(spath, sizeof(spath), ".svg");
	write_file(tpath, buf);
	to_svg(tpath, spath);
	check_counts(spath, buf);
	cr_assert_eq(xcount(spath, "[@data-event='park']"), 1);
	cr_assert_eq(xcount(spath, "[@data-event='signal']"), 1);
	unlink(tpath);
	unlink(spath);
	close(fd);
	close(done);
}

/* The documented form (man/evfdfs.7), with what a parser must survive. */
static const char documented[] =
	"1 0.000100 create jobs id=1 pid=100\n"
	"2 0.000200 create done id=2 pid=100\n"
	"3 0.001000 park jobs id=1 pid=200 op=read\n"
	"4 0.002000 poll done id=2 pid=300 events=IN\n"
	"5 0.003000 write jobs id=1 pid=100 val=3 count=3 text\n"
	"6 0.003001 notify jobs id=1 key=IN\n"
	"7 0.003002 wake jobs id=1 pid=200 op=read\n"
	"8 0.003003 read jobs id=1 pid=200 val=3 count=0\n"
	"9 0.004000 aio-open aio:4 ctx=4 pid=300 form=text\n"
	"10 0.004100 aio-setup aio:4 ctx=4 pid=300 nr=128\n"
	"11 0.004200 aio-submit aio:4 ctx=4 pid=300 op=pread key=in res=0 "
	"resfd=2\n"
	"12 0.004300 aio-complete aio:4 ctx=4 pid=300 op=pread key=in "
	"res=12\n"
	"13 0.004301 signal done id=2 pid=300 count=1 ctx=4\n"
	"14 - dropped 3\n"
	"18 0.005000 create (unlinked) id=3 pid=400\n"
	"19 0.005100 write (unlinked) id=3 pid=400 val=1 count=1\n"
	"20 0.006000 rename jobs id=1 pid=100 to=work\n"
	"21 0.006100 unlink work id=1 pid=100\n"
	"22 0.007000 aio-release aio:4 ctx=4 inflight=0 events=1\n"
	"23 0.008000 frobnicate done id=2 pid=100 newkey=1 newflag\n";

INTEG_TEST(trace2svg, documented_form, 60)
{
	char tpath[PATH_MAX], spath[PATH_MAX], a[64], b[64];

	need_xmllint();
	tmpname(tpath, sizeof(tpath), ".trace");
	tmpname(spath, sizeof(spath), ".svg");
	write_file(tpath, documented);
	to_svg(tpath, spath);
	check_counts(spath, documented);
	/* 4 pids, 3 counters (jobs renamed stays one), 1 context */
	cr_assert_eq(xcount(spath, "[@class='lifeline']"), 8);
	/* The signal starts on the AIO context's lifeline. */
	xpath(spath,
	      "string(//*[@data-event='signal']/*[local-name()='line']/@x1)", a,
	      sizeof(a));
	xpath(spath, "string(//*[@data-kind='aio']/*[local-name()='line']/@x1)",
	      b, sizeof(b));
	cr_assert_eq(abs(atoi(a) - atoi(b)), 6, "signal from x=%s, aio at %s",
		     a, b);
	unlink(tpath);
	unlink(spath);
}

INTEG_TEST(trace2svg, renders_in_headless_chromium, 180)
{
	char tpath[PATH_MAX], spath[PATH_MAX], png[PATH_MAX], prof[PATH_MAX];
	char w[32], h[32], size[80], shot[PATH_MAX + 16], url[PATH_MAX + 16];
	char prof_arg[PATH_MAX + 32], out[8192];
	unsigned char sig[8];
	struct stat st;
	FILE *f;
	int rc;

	need_xmllint();
	if (access(CHROMIUM, X_OK) != 0)
		cr_skip_test("no " CHROMIUM " (Debian package chromium) to "
			     "render the SVG with");
	tmpname(tpath, sizeof(tpath), ".trace");
	tmpname(spath, sizeof(spath), ".svg");
	tmpname(png, sizeof(png), ".png");
	tmpname(prof, sizeof(prof), ".chromium");
	write_file(tpath, documented);
	to_svg(tpath, spath);
	xpath(spath, "string(/*/@width)", w, sizeof(w));
	xpath(spath, "string(/*/@height)", h, sizeof(h));
	snprintf(size, sizeof(size), "--window-size=%s,%s", w, h);
	snprintf(shot, sizeof(shot), "--screenshot=%s", png);
	snprintf(url, sizeof(url), "file://%s", spath);
	snprintf(prof_arg, sizeof(prof_arg), "--user-data-dir=%s", prof);
	{
		const char *argv[] = { CHROMIUM,
				       "--headless",
				       "--no-sandbox",
				       "--disable-gpu",
				       "--hide-scrollbars",
				       "--no-first-run",
				       prof_arg,
				       size,
				       shot,
				       url,
				       NULL };

		rc = tool_run(argv, NULL, NULL, out, sizeof(out), 150000);
	}
	cr_assert_eq(rc, 0, "chromium exited %d:\n%s", rc, out);
	cr_assert_eq(stat(png, &st), 0, "no screenshot:\n%s", out);
	f = fopen(png, "rb");
	cr_assert(f);
	cr_assert_eq(fread(sig, 1, 8, f), 8u);
	fclose(f);
	cr_assert_eq(memcmp(sig, "\x89PNG\r\n\x1a\n", 8), 0, "not a PNG");
	/* A blank page of that size compresses to a few KiB; the diagram's
	 * text and arrows do not. */
	cr_assert_gt(st.st_size, 20000, "a %lld-byte PNG looks blank",
		     (long long)st.st_size);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", prof);
		evt_sh(cmd, NULL, 0);
	}
	unlink(tpath);
	unlink(spath);
	unlink(png);
}

/* make install puts both tools and their pages in place; uninstall
 * takes them away (tests/integration/install.c checks that nothing
 * else is left). */
Test(trace2svg, make_install_installs_the_tools_and_pages, .timeout = 120)
{
	char stage[] = "/tmp/evfdfs-tools-install-XXXXXX";
	char cmd[8192], out[16384];
	int st;

	cr_assert(access("Makefile", R_OK) == 0,
		  "tests must run from the source tree");
	cr_assert(mkdtemp(stage));
	snprintf(cmd, sizeof(cmd),
		 "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "
		 "--no-print-directory -s install %s DESTDIR=%s 2>&1 && "
		 "cd %s/usr/local && bin/evfdfs-top --version && "
		 "bin/evfdfs-trace2svg --version && "
		 "test -f share/man/man1/evfdfs-top.1 && "
		 "test -f share/man/man1/evfdfs-trace2svg.1",
#if defined(__SANITIZE_ADDRESS__)
		 "SANITIZE=1",
#else
		 "",
#endif
		 stage, stage);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "make install: %d\n%s", st, out);
	cr_assert(strstr(out, "evfdfs-top " EVFDFS_VERSION "\n"), "%s", out);
	cr_assert(strstr(out, "evfdfs-trace2svg " EVFDFS_VERSION "\n"), "%s",
		  out);
	snprintf(cmd, sizeof(cmd),
		 "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "
		 "--no-print-directory -s uninstall DESTDIR=%s 2>&1 && "
		 "find %s/usr -name \"evfdfs-t*\"",
		 stage, stage);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "make uninstall: %d\n%s", st, out);
	cr_assert_str_empty(out, "left after uninstall:\n%s", out);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", stage);
	evt_sh(cmd, NULL, 0);
}
