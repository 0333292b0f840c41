// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mount from a shell, as design.md promises it: touch creates, echo
 * adds through text/NAME, cat prints each consumed value (and blocks like
 * a read), setfattr/getfattr set the semaphore flag and peek at the value,
 * ls lists, rm removes, and a counter unlinked while open keeps working
 * for whoever holds it, shown in the status file as linked=0 until the
 * last holder closes it.  Commands run under evt_sh() (sh -c with a
 * timeout); nothing here blocks without a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ.h"

/* Read one line of text/NAME with a single read(2). */
#define ONE_LINE "dd if=%s/text/%s bs=64 count=1 2>/dev/null"

/* Run a shell command built from @fmt; its output goes to @out. */
static int __attribute__((format(printf, 3, 4)))
sh(char *out, size_t len, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_null(strchr(cmd, '\''), "evt_sh quotes with ' itself");
	return evt_sh(cmd, out, len);
}

/* Does @text have @line as one of its lines? */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

INTEG_TEST(shell, touch_echo_and_dd_through_text_view, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], out[512];

	evt_unique(name, sizeof(name), "sh");
	cr_assert_eq(sh(out, sizeof(out), "touch %s/%s", mnt, name), 0, "%s",
		     out);
	cr_assert_eq(sh(out, sizeof(out),
			"echo 3 > %s/text/%s && echo 4 > %s/text/%s", mnt, name,
			mnt, name),
		     0, "%s", out);
	cr_assert_eq(integ_field(mnt, name, "count"), 7);
	/* One read(2) of 64 bytes gets one line.  (head -n 1 prints the same
	 * but complains on stderr: it seeks back and the file is a stream,
	 * E53.) */
	cr_assert_eq(sh(out, sizeof(out), ONE_LINE, mnt, name), 0, "%s", out);
	cr_assert_str_eq(out, "7\n");
	cr_assert_eq(integ_field(mnt, name, "count"), 0);
	/* A multi-number line from the shell. */
	cr_assert_eq(sh(out, sizeof(out), "printf \"1 2\\n30\\n\" > %s/text/%s",
			mnt, name),
		     0, "%s", out);
	cr_assert_eq(sh(out, sizeof(out),
			"dd if=%s/text/%s bs=64 count=1 2>/dev/null", mnt,
			name),
		     0, "%s", out);
	cr_assert_str_eq(out, "33\n");
	cr_assert_eq(sh(out, sizeof(out), "rm %s/%s", mnt, name), 0, "%s", out);
}

INTEG_TEST(shell, background_cat_prints_values_as_written, 90)
{
	const char *mnt = evt_shared_mnt();
	char name[128], out[512], log[] = "/tmp/evfdfs-cat-XXXXXX", got[256];
	char want[256] = "";
	int lfd, i, st;
	pid_t cat;

	evt_unique(name, sizeof(name), "cat");
	lfd = mkstemp(log);
	cr_assert(lfd >= 0);
	close(lfd);
	cr_assert_eq(sh(out, sizeof(out), "touch %s/%s", mnt, name), 0, "%s",
		     out);
	cr_assert_eq(sh(out, sizeof(out),
			"cat %s/text/%s > %s 2>&1 < /dev/null & echo $!", mnt,
			name, log),
		     0, "%s", out);
	cat = (pid_t)atoi(out);
	cr_assert(cat > 0, "no pid from the shell: %s", out);
	integ_adopt(cat); /* ours now: we are the subreaper */

	for (i = 1; i <= 3; i++) {
		long long deadline = evt_now_ms() + INTEG_WAIT_MS;
		char add[16];

		cr_assert(integ_wait_field(mnt, name, "readers", 1,
					   INTEG_WAIT_MS),
			  "cat is not blocked in read before value %d", i);
		cr_assert_eq(sh(out, sizeof(out), "echo %d > %s/text/%s",
				i * 10, mnt, name),
			     0, "%s", out);
		snprintf(add, sizeof(add), "%d\n", i * 10);
		strcat(want, add);
		while (integ_read_file(log, got, sizeof(got)) >= 0 &&
		       strcmp(got, want) != 0 && evt_now_ms() < deadline)
			usleep(2000);
		cr_assert_str_eq(got, want, "cat printed");
	}
	cr_assert(integ_wait_field(mnt, name, "readers", 1, INTEG_WAIT_MS));
	cr_assert_eq(kill(cat, SIGTERM), 0);
	cr_assert_eq(integ_reap(cat, &st, INTEG_WAIT_MS), 0,
		     "cat ignored SIGTERM while blocked");
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	cr_assert(integ_wait_field(mnt, name, "opens", 0, INTEG_WAIT_MS));
	cr_assert_eq(integ_field(mnt, name, "readers"), 0);
	cr_assert_eq(integ_field(mnt, name, "count"), 0);
	unlink(log);
	cr_assert_eq(sh(out, sizeof(out), "rm %s/%s", mnt, name), 0, "%s", out);
}

INTEG_TEST(shell, setfattr_semaphore_then_reads_one_at_a_time, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], out[512];

	evt_unique(name, sizeof(name), "sem");
	cr_assert_eq(sh(out, sizeof(out), "touch %s/%s", mnt, name), 0, "%s",
		     out);
	cr_assert_eq(
		sh(out, sizeof(out),
		   "getfattr --absolute-names --only-values -n user.evfdfs.semaphore %s/%s",
		   mnt, name),
		0, "%s", out);
	cr_assert_str_eq(out, "0");
	cr_assert_eq(sh(out, sizeof(out),
			"setfattr -n user.evfdfs.semaphore -v 1 %s/%s", mnt,
			name),
		     0, "%s", out);
	cr_assert_eq(
		sh(out, sizeof(out),
		   "getfattr --absolute-names --only-values -n user.evfdfs.semaphore %s/%s",
		   mnt, name),
		0, "%s", out);
	cr_assert_str_eq(out, "1");
	cr_assert_eq(integ_field(mnt, name, "semaphore"), 1);
	cr_assert_eq(sh(out, sizeof(out), "echo 3 > %s/text/%s", mnt, name), 0,
		     "%s", out);
	cr_assert_eq(sh(out, sizeof(out), ONE_LINE, mnt, name), 0, "%s", out);
	cr_assert_str_eq(out, "1\n");
	cr_assert_eq(
		sh(out, sizeof(out),
		   "getfattr --absolute-names --only-values -n user.evfdfs.value %s/%s",
		   mnt, name),
		0, "%s", out);
	cr_assert_str_eq(out, "2");
	/* Set the value from the shell, through the text view's name. */
	cr_assert_eq(sh(out, sizeof(out),
			"setfattr -n user.evfdfs.value -v 10 %s/text/%s", mnt,
			name),
		     0, "%s", out);
	cr_assert_eq(integ_field(mnt, name, "count"), 10);
	/* Refused settings change nothing. */
	cr_assert_neq(sh(out, sizeof(out),
			 "setfattr -n user.evfdfs.semaphore -v 2 %s/%s", mnt,
			 name),
		      0);
	cr_assert_neq(sh(out, sizeof(out),
			 "setfattr -n user.evfdfs.value -v "
			 "18446744073709551615 %s/%s",
			 mnt, name),
		      0);
	cr_assert_eq(integ_field(mnt, name, "semaphore"), 1);
	cr_assert_eq(integ_field(mnt, name, "count"), 10);
	cr_assert_eq(sh(out, sizeof(out), "rm %s/%s", mnt, name), 0, "%s", out);
}

INTEG_TEST(shell, getfattr_value_peeks_without_consuming, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], out[512];
	uint64_t v = 0;
	int fd, i;

	evt_unique(name, sizeof(name), "peek");
	fd = evt_create_counter(mnt, name, 0, false, O_NONBLOCK);
	cr_assert_eq(sh(out, sizeof(out), "echo 5 > %s/text/%s", mnt, name), 0,
		     "%s", out);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(
			sh(out, sizeof(out),
			   "getfattr --absolute-names --only-values -n user.evfdfs.value "
			   "%s/%s",
			   mnt, name),
			0, "%s", out);
		cr_assert_str_eq(out, "5");
	}
	cr_assert_eq(integ_read_u64(fd, &v), 0);
	cr_assert_eq(v, 5);
	cr_assert_eq(
		sh(out, sizeof(out),
		   "getfattr --absolute-names --only-values -n user.evfdfs.value %s/%s",
		   mnt, name),
		0, "%s", out);
	cr_assert_str_eq(out, "0");
	/* getfattr -d shows both settings. */
	cr_assert_eq(sh(out, sizeof(out), "getfattr --absolute-names -d %s/%s",
			mnt, name),
		     0, "%s", out);
	cr_assert(strstr(out, "user.evfdfs.semaphore=\"0\""), "%s", out);
	cr_assert(strstr(out, "user.evfdfs.value=\"0\""), "%s", out);
	close(fd);
	cr_assert_eq(sh(out, sizeof(out), "rm %s/%s", mnt, name), 0, "%s", out);
}

INTEG_TEST(shell, ls_lists_counters_and_fixed_files, 60)
{
	static const char *const fixed[] = { "aio", "aio.txt", "status", "text",
					     "trace" };
	const char *mnt = evt_shared_mnt();
	char a[128], b[128], out[1 << 16];
	size_t i;

	evt_unique(a, sizeof(a), "lsa");
	evt_unique(b, sizeof(b), "lsb");
	cr_assert_eq(sh(out, sizeof(out), "touch %s/%s %s/%s", mnt, a, mnt, b),
		     0, "%s", out);
	cr_assert_eq(sh(out, sizeof(out), "ls %s", mnt), 0, "%s", out);
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		cr_assert(has_line(out, fixed[i]), "ls lacks %s:\n%s", fixed[i],
			  out);
	cr_assert(has_line(out, a), "ls lacks %s:\n%s", a, out);
	cr_assert(has_line(out, b), "ls lacks %s:\n%s", b, out);
	/* text/ lists the counters, and only them. */
	cr_assert_eq(sh(out, sizeof(out), "ls %s/text", mnt), 0, "%s", out);
	cr_assert(has_line(out, a), "ls text lacks %s:\n%s", a, out);
	cr_assert(has_line(out, b), "ls text lacks %s:\n%s", b, out);
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		cr_assert_not(has_line(out, fixed[i]), "text/ lists %s",
			      fixed[i]);
	/* ls -l shows counters as regular files, text as a directory. */
	cr_assert_eq(sh(out, sizeof(out), "ls -ld %s/%s %s/text", mnt, a, mnt),
		     0, "%s", out);
	cr_assert(out[0] == '-' && strstr(out, "\nd"), "%s", out);
	cr_assert_eq(sh(out, sizeof(out), "rm %s/%s %s/%s", mnt, a, mnt, b), 0,
		     "%s", out);
}

INTEG_TEST(shell, rm_removes_counter_from_both_views, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], out[1 << 16], path[PATH_MAX];
	struct stat st;

	evt_unique(name, sizeof(name), "rm");
	cr_assert_eq(sh(out, sizeof(out), "touch %s/%s", mnt, name), 0, "%s",
		     out);
	cr_assert_eq(stat(evt_path(path, sizeof(path), mnt, name), &st), 0);
	cr_assert_eq(sh(out, sizeof(out), "rm %s/%s", mnt, name), 0, "%s", out);
	cr_assert_eq(stat(path, &st), -1);
	cr_assert_eq(errno, ENOENT);
	snprintf(path, sizeof(path), "%s/text/%s", mnt, name);
	cr_assert_eq(stat(path, &st), -1);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(sh(out, sizeof(out), "ls %s %s/text", mnt, mnt), 0, "%s",
		     out);
	cr_assert_not(has_line(out, name), "%s still listed", name);
	cr_assert_eq(integ_field(mnt, name, "count"), -1,
		     "status still lists %s", name);
	/* rm of what is gone fails like rm anywhere. */
	cr_assert_neq(sh(out, sizeof(out), "rm %s/%s", mnt, name), 0);
	/* The name is free again. */
	cr_assert_eq(sh(out, sizeof(out), "touch %s/%s && rm %s/%s", mnt, name,
			mnt, name),
		     0, "%s", out);
}

INTEG_TEST(shell, unlinked_counter_keeps_working_while_open, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], out[512];
	uint64_t v = 0;
	long long id;
	int fd, fd2, other;

	evt_unique(name, sizeof(name), "anon");
	fd = evt_create_counter(mnt, name, 2, false, O_NONBLOCK);
	fd2 = integ_open(mnt, name, false, O_RDWR | O_NONBLOCK);
	id = integ_field(mnt, name, "id");
	cr_assert(id > 0);
	cr_assert_eq(integ_field(mnt, name, "linked"), 1);

	cr_assert_eq(sh(out, sizeof(out), "rm %s/%s", mnt, name), 0, "%s", out);
	cr_assert_eq(integ_field(mnt, name, "count"), -1, "name still listed");
	cr_assert_eq(integ_field_by_id(mnt, (uint64_t)id, "linked"), 0);
	cr_assert_eq(integ_field_by_id(mnt, (uint64_t)id, "opens"), 2);
	cr_assert_eq(integ_field_by_id(mnt, (uint64_t)id, "count"), 2);

	/* Both descriptors still reach the same counter. */
	cr_assert_eq(integ_write_u64(fd, 40), 0);
	cr_assert_eq(integ_read_u64(fd2, &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(integ_read_u64(fd, &v), -EAGAIN);

	/* A new counter of the same name is another counter. */
	other = evt_create_counter(mnt, name, 0, false, O_NONBLOCK);
	cr_assert_neq(integ_field(mnt, name, "id"), id);
	cr_assert_eq(integ_write_u64(fd, 1), 0);
	cr_assert_eq(integ_read_u64(other, &v), -EAGAIN);
	close(other);

	close(fd2);
	cr_assert(integ_wait_field_by_id(mnt, (uint64_t)id, "opens", 1,
					 INTEG_WAIT_MS));
	cr_assert_eq(integ_field_by_id(mnt, (uint64_t)id, "linked"), 0);
	close(fd);
	/* Gone once the last descriptor is released (and the kernel has
	 * forgotten the inode). */
	cr_assert(integ_wait_field_by_id(mnt, (uint64_t)id, "linked", -1,
					 INTEG_WAIT_MS),
		  "the unlinked counter outlived its last descriptor");
	cr_assert_eq(sh(out, sizeof(out), "rm %s/%s", mnt, name), 0, "%s", out);
}

/*
 * rm after the counter was used through text/NAME: the kernel may keep
 * the text view's inode cached for a long time (no FORGET yet), but the
 * counter is gone for every user and must be gone from the status file.
 */
INTEG_TEST(shell, rm_after_text_use_leaves_no_ghost_in_status, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], out[512];
	long long id;

	evt_unique(name, sizeof(name), "ghost");
	cr_assert_eq(sh(out, sizeof(out), "touch %s/%s && echo 4 > %s/text/%s",
			mnt, name, mnt, name),
		     0, "%s", out);
	id = integ_field(mnt, name, "id");
	cr_assert_gt(id, 0);
	cr_assert_eq(
		sh(out, sizeof(out), "rm %s/%s && ls %s/text", mnt, name, mnt),
		0, "%s", out);
	cr_assert(integ_wait_field_by_id(mnt, (uint64_t)id, "count", -1,
					 INTEG_WAIT_MS),
		  "status still shows the removed counter: count=%lld",
		  integ_field_by_id(mnt, (uint64_t)id, "count"));
}

/*
 * The shell's `read` takes one byte at a time: a text read shorter than its
 * line consumes the value and leaves the rest of the line on the handle, so
 * `while read v` works; a reader that closes mid-line gives the value back.
 */
INTEG_TEST(shell, while_read_loop_reads_whole_values, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], out[512];

	evt_unique(name, sizeof(name), "rd");
	cr_assert_eq(sh(out, sizeof(out), "echo 15 > %s/text/%s", mnt, name), 0,
		     "%s", out);
	cr_assert_eq(
		sh(out, sizeof(out),
		   "setfattr -n user.evfdfs.semaphore -v 1 %s/%s && "
		   "echo 2 > %s/text/%s && "
		   "{ read a; read b; read c; echo \"$a,$b,$c\"; } < %s/text/%s",
		   mnt, name, mnt, name, mnt, name),
		0, "%s", out);
	cr_assert_str_eq(out, "1,1,1\n");
	cr_assert_eq(
		evt_xattr_value(evt_path((char[4096]){ 0 }, 4096, mnt, name)),
		14);
}

INTEG_TEST(shell, reader_closing_mid_line_gives_the_value_back, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], path[4096], c;
	int fd;

	evt_unique(name, sizeof(name), "mid");
	snprintf(path, sizeof(path), "%s/text/%s", mnt, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, "123\n", 4), 4);
	cr_assert_eq(read(fd, &c, 1), 1);
	cr_assert_eq(c, '1');
	evt_path(path, sizeof(path), mnt, name);
	cr_assert_eq(evt_xattr_value(path), 0, "the value left the counter");
	cr_assert_eq(read(fd, &c, 1), 1);
	cr_assert_eq(c, '2', "the rest comes from the same line");
	cr_assert_eq(close(fd), 0);
	cr_assert_eq(evt_xattr_value(path), 123,
		     "an unfinished line is returned");
	cr_assert_eq(unlink(path), 0);
}
