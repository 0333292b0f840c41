// SPDX-License-Identifier: GPL-2.0-only
/*
 * aio.txt, the text form of the AIO control file, driven from C and from
 * the shell: request lines in, completion lines out (the grammar is at
 * the top of fused/aio_text.c).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aio_lib.h"

static int open_txt(const char *mnt, int oflags)
{
	char path[PATH_MAX];
	int fd;

	evt_path(path, sizeof(path), mnt, "aio.txt");
	fd = open(path, O_RDWR | O_CLOEXEC | oflags);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

static ssize_t say(int fd, const char *line)
{
	ssize_t n = write(fd, line, strlen(line));

	return n < 0 ? -errno : n;
}

/* Read one completion line (bounded wait), without its newline. */
static void hear(int fd, char *line, size_t len)
{
	long long deadline = evt_now_ms() + 10000;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < len) {
		cr_assert(evt_now_ms() < deadline, "no line (got '%.*s')",
			  (int)n, line);
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (read(fd, line + n, 1) != 1)
			continue; /* one byte at a time: partial reads work */
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
}

Test(aio_text, pread_pwrite_and_escapes, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	int t = open_txt(mnt, O_NONBLOCK);
	char path[PATH_MAX], req[3 * PATH_MAX + 64], line[512], buf[32];
	int f;

	at_make_file(path, sizeof(path), "/dev/shm", 0);
	snprintf(req, sizeof(req),
		 "pwrite data=w %s 0 hi there\\x00\\\\\\n\\x7f!\n", path);
	cr_expect_eq(say(t, req), (ssize_t)strlen(req));
	hear(t, line, sizeof(line));
	cr_expect_str_eq(line, "w pwrite 13");
	f = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_eq(read(f, buf, sizeof(buf)), 13);
	cr_expect_eq(memcmp(buf, "hi there\0\\\n\x7f!", 13), 0);
	close(f);
	snprintf(req, sizeof(req), "pread %s 0 64 data=r\n", path);
	cr_expect_eq(say(t, req), (ssize_t)strlen(req));
	hear(t, line, sizeof(line));
	cr_expect_str_eq(line, "r pread 13 hi there\\x00\\\\\\n\\x7f!");
	/* default tags: the request's number in the context */
	snprintf(req, sizeof(req), "pread %s 3 5\nfsync %s\nfdsync %s\n", path,
		 path, path);
	cr_expect_eq(say(t, req), (ssize_t)strlen(req));
	hear(t, line, sizeof(line));
	cr_expect_str_eq(line, "3 pread 5 there");
	hear(t, line, sizeof(line));
	cr_expect(!strcmp(line, "4 fsync 0") || !strcmp(line, "5 fdsync 0"),
		  "%s", line);
	hear(t, line, sizeof(line));
	cr_expect(!strcmp(line, "4 fsync 0") || !strcmp(line, "5 fdsync 0"),
		  "%s", line);
	close(t);
	unlink(path);
}

Test(aio_text, errors_are_the_writes_errno, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	int t = open_txt(mnt, O_NONBLOCK);
	char path[PATH_MAX], req[PATH_MAX + 64], line[128];
	int ro;

	cr_expect_eq(say(t, "frobnicate /etc/hostname\n"), -EINVAL);
	cr_expect_eq(say(t, "pread /etc/hostname zero 8\n"), -EINVAL);
	cr_expect_eq(say(t, "pread /etc/hostname 0 8 color=red\n"), -EINVAL);
	cr_expect_eq(say(t, "pread /etc/hostname 0 99999999\n"), -EINVAL);
	cr_expect_eq(say(t, "pread /no/such/file 0 8\n"), -ENOENT);
	cr_expect_eq(say(t, "pread /proc/self/fd/0 0 8\n"), -ELOOP,
		     "no magic links: they would be the daemon's descriptors");
	cr_expect_eq(say(t, "setup 10\n"), -EINVAL, "setup comes first");
	cr_expect_eq(say(t, "cancel nosuchtag\n"), -EINVAL);
	/* a blank line and a comment are accepted and do nothing */
	cr_expect_eq(say(t, "\n# nothing\n"), 11);
	/* the first line's errno, or the lines before the failing one */
	at_make_file(path, sizeof(path), "/dev/shm", 8);
	snprintf(req, sizeof(req), "pread %s 0 4 data=ok\nbogus\n", path);
	cr_expect_eq(say(t, req), (ssize_t)strlen(req) - 6);
	hear(t, line, sizeof(line));
	cr_expect_str_eq(line, "ok pread 4 \\x00\\x01\\x02\\x03");
	/* completion errors come back in the line */
	ro = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(req, sizeof(req), "pread %s -1 4\n", path);
	cr_expect_eq(say(t, req), -EINVAL, "A30.6");
	close(ro);
	close(t);
	unlink(path);
}

Test(aio_text, setup_first_line_and_capacity, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	int t = open_txt(mnt, O_NONBLOCK), w;
	char fifo[PATH_MAX], name[64], req[PATH_MAX + 64], line[128];

	evt_path(fifo, sizeof(fifo), "/dev/shm",
		 evt_unique(name, sizeof(name), "atf"));
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_expect_eq(say(t, "setup 2\n"), 8);
	snprintf(req, sizeof(req), "poll %s in\n", fifo);
	cr_expect_eq(say(t, req), (ssize_t)strlen(req));
	cr_expect_eq(say(t, req), (ssize_t)strlen(req));
	cr_expect_eq(say(t, req), -EAGAIN, "capacity 2");
	w = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(w >= 0, "open the FIFO: %s", strerror(errno));
	cr_assert_eq(write(w, "x", 1), 1);
	/*
	 * One write wakes both.  The kernel decides which completes first,
	 * and whether with the wake key (65, A45) or, completed from its
	 * workqueue, with the polled mask (1).
	 */
	hear(t, line, sizeof(line));
	hear(t, line + 64, sizeof(line) - 64);
	cr_expect(line[0] + line[64] == '1' + '2', "%s / %s", line, line + 64);
	cr_expect(!strcmp(line + 1, " poll 65 IN|RDNORM") ||
			  !strcmp(line + 1, " poll 1 IN"),
		  "%s", line);
	cr_expect(!strcmp(line + 65, " poll 65 IN|RDNORM") ||
			  !strcmp(line + 65, " poll 1 IN"),
		  "%s", line + 64);
	close(t);
	close(w);
	unlink(fifo);
}

Test(aio_text, poll_cancel_and_counters, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	int t = open_txt(mnt, O_NONBLOCK), c, r;
	char name[64], rname[64], req[256], line[256];
	uint64_t v = 5;

	c = evt_create_counter(mnt, evt_unique(name, sizeof(name), "atc"), 0,
			       false, O_NONBLOCK);
	r = evt_create_counter(mnt, evt_unique(rname, sizeof(rname), "atr"), 0,
			       false, O_NONBLOCK);
	/* A poll of a counter, by path in the mount, with a RESFD by name. */
	snprintf(req, sizeof(req), "poll %s/%s in data=p1 resfd=%s\n", mnt,
		 name, rname);
	cr_expect_eq(say(t, req), (ssize_t)strlen(req));
	cr_assert_eq(write(c, &v, 8), 8);
	hear(t, line, sizeof(line));
	cr_expect_str_eq(line, "p1 poll 1 IN");
	cr_expect_eq(at_peek(r), 1);
	/* A pread of the counter prints its value. */
	snprintf(req, sizeof(req), "pread %s/%s 0 8 data=v\n", mnt, name);
	cr_expect_eq(say(t, req), (ssize_t)strlen(req));
	hear(t, line, sizeof(line));
	cr_expect_str_eq(line, "v pread 8 5");
	/* A pending poll, cancelled by its tag: res 0, RESFD signalled. */
	snprintf(req, sizeof(req), "poll %s/%s in data=p2 resfd=%s\n", mnt,
		 name, rname);
	cr_expect_eq(say(t, req), (ssize_t)strlen(req));
	cr_expect_eq(say(t, "cancel p2\n"), 10);
	hear(t, line, sizeof(line));
	cr_expect_str_eq(line, "p2 poll 0");
	cr_expect_eq(at_peek(r), 2);
	cr_expect_eq(say(t, "cancel p2\n"), -EINVAL);
	/* Errors come back with their names. */
	snprintf(req, sizeof(req), "pread %s/%s 0 4 data=e\n", mnt, name);
	cr_expect_eq(say(t, req), (ssize_t)strlen(req));
	hear(t, line, sizeof(line));
	cr_expect_str_eq(line, "e pread -22 EINVAL");
	cr_expect_eq(say(t, "pread /dev/null 0 4 resfd=no-such-counter\n"),
		     -ENOENT);
	close(t);
	close(c);
	close(r);
}

/* The shell, as the README shows it (a script: evt_sh quotes with '). */
Test(aio_text, shell_session, .timeout = 60)
{
	const char *mnt = evt_shared_mnt();
	char path[PATH_MAX], name[64], script[PATH_MAX], cmd[PATH_MAX + 16],
		out[4096], sname[64];
	FILE *f;
	int c;

	at_make_file(path, sizeof(path), "/dev/shm", 0);
	f = fopen(path, "w");
	cr_assert(f);
	fputs("hello, shell\n", f);
	fclose(f);
	c = evt_create_counter(mnt, evt_unique(name, sizeof(name), "ash"), 0,
			       false, 0);
	evt_path(script, sizeof(script), "/dev/shm",
		 evt_unique(sname, sizeof(sname), "ash.sh"));
	f = fopen(script, "w");
	cr_assert(f);
	fprintf(f,
		"set -e\n"
		"cd /dev/shm\n"
		"exec 3<>%s/aio.txt\n"
		"echo 'pread %s 0 64 data=h resfd=%s' >&3\n"
		"read -r l <&3; printf '[%%s]\\n' \"$l\"\n"
		"rm -f %s.out\n"
		"echo 'pwrite %s.out 0 written\\x21' >&3 2>/dev/null || "
		"echo nofile\n"
		": > %s.out\n"
		"echo 'pwrite %s.out 0 written\\x21' >&3\n"
		"read -r l <&3; printf '[%%s]\\n' \"$l\"\n"
		"cat %s.out; echo\n"
		"getfattr -n user.evfdfs.value --only-values %s/%s 2>/dev/null\n"
		"echo\n"
		"exec 3>&-\n",
		mnt, path, name, sname, sname, sname, sname, sname, mnt, name);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "sh %s", script);
	cr_expect_eq(evt_sh(cmd, out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "[h pread 13 hello, shell\\n]\n"), "%s", out);
	cr_expect(strstr(out, "nofile"),
		  "a relative path names the writer's directory: %s", out);
	cr_expect(strstr(out, "[2 pwrite 8]\nwritten!\n1\n"), "%s", out);
	snprintf(cmd, sizeof(cmd), "/dev/shm/%s.out", sname);
	unlink(cmd);
	unlink(script);
	unlink(path);
	close(c);
}

Test(aio_text, status_shows_text_contexts, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	int t = open_txt(mnt, 0);
	/* the shared mount's status lists every other test's counters too */
	static char buf[1 << 20];
	char path[PATH_MAX], want[128];

	cr_expect_eq(say(t, "setup 3\n"), 8);
	at_slurp(evt_path(path, sizeof(path), mnt, "status"), buf, sizeof(buf));
	snprintf(want, sizeof(want), "pid=%d form=text open=1 nr_events=3 ",
		 (int)getpid());
	cr_expect(strstr(buf, want), "no '%s' in\n%s", want, buf);
	close(t);
}
