// SPDX-License-Identifier: GPL-2.0-only
/*
 * The examples (examples/) run against the shared mount as a user would
 * run them: each must exit 0 and say what it promises, and the shell
 * walk-through must go through every step.  An example that stops working
 * is a broken lesson.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/evtest.h"

/* Run build/examples/@name on the shared mount; its combined output goes
 * to @out.  Fails the test unless it exits 0. */
static void run_example(const char *name, char *out, size_t len)
{
	const char *mnt = evt_shared_mnt();
	const char *b = getenv("B");
	char cmd[8192];
	int status;

	snprintf(cmd, sizeof(cmd), "%s/examples/%s", b && *b ? b : "build",
		 name);
	cr_assert(access(cmd, X_OK) == 0, "%s is not built", cmd);
	snprintf(cmd, sizeof(cmd), "%s/examples/%s %s", b && *b ? b : "build",
		 name, mnt);
	status = evt_sh(cmd, out, len);
	cr_assert_eq(status, 0, "%s exited %d:\n%s", name, status, out);
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	while ((text = strstr(text, needle))) {
		n++;
		text += strlen(needle);
	}
	return n;
}

Test(examples, producer_consumer, .timeout = 60)
{
	static char out[65536];

	run_example("producer_consumer", out, sizeof(out));
	cr_assert_eq(count(out, "producer: item "), 10, "%s", out);
	cr_assert(strstr(out, "consumer: read "), "%s", out);
	cr_assert(strstr(out, "(10 of 10)\n"), "%s", out);
	cr_assert(strstr(out, "ok: the consumer got all 10 items\n"), "%s",
		  out);
}

Test(examples, semaphore_pool, .timeout = 60)
{
	static char out[65536];

	run_example("semaphore_pool", out, sizeof(out));
	cr_assert_eq(count(out, ": got a token ("), 8, "%s", out);
	cr_assert(strstr(out, "tokens back in the pool: 3\n"), "%s", out);
	cr_assert(strstr(out, "ok: the pool never gave out more than 3 "
			      "tokens\n"),
		  "%s", out);
}

Test(examples, epoll_counter_socket, .timeout = 60)
{
	static char out[65536];

	run_example("epoll_counter_socket", out, sizeof(out));
	cr_assert_eq(count(out, "socket: round "), 5, "%s", out);
	cr_assert(strstr(out, "(15 of 15)\n"), "%s", out);
	cr_assert(strstr(out, "socket: closed\n"), "%s", out);
	cr_assert(strstr(out, "ok: one epoll loop served the socket and all "
			      "15 units\n"),
		  "%s", out);
}

Test(examples, shell_walkthrough, .timeout = 60)
{
	static const char script[] = "examples/shell-walkthrough.sh";
	static char out[65536];
	char cmd[4096];
	int status;

	cr_assert(access(script, X_OK) == 0, "%s missing or not executable",
		  script);
	snprintf(cmd, sizeof(cmd), "%s %s", script, evt_shared_mnt());
	status = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(status, 0, "walk-through exited %d:\n%s", status, out);
	cr_assert_eq(count(out, "\n== "), 11, "steps:\n%s", out);
	cr_assert(strstr(out, "value: 6\n"), "%s", out);
	cr_assert(strstr(out, "read: 1 1\n"), "%s", out);
	cr_assert(strstr(out, "readers=1"), "%s", out);
	cr_assert(strstr(out, "the reader woke up and read: 1\n"), "%s", out);
	cr_assert(strstr(out, "read through the open descriptor: 1\n"), "%s",
		  out);
	cr_assert(strstr(out, "== Done: the tour behaved as described\n"), "%s",
		  out);
	cr_assert_null(strstr(out, "FAILED"), "%s", out);
}

Test(examples, aio_epoll, .timeout = 60)
{
	static char out[65536];

	run_example("aio_epoll", out, sizeof(out));
	cr_assert(strstr(out, "submitted 4 reads\n"), "%s", out);
	cr_assert(strstr(out, "aio: block 0 read 4096 bytes of 'a'\n"), "%s",
		  out);
	cr_assert(strstr(out, "aio: block 3 read 4096 bytes of 'd'\n"), "%s",
		  out);
	cr_assert(strstr(out, "(4 of 4)\n"), "%s", out);
	cr_assert_eq(count(out, "pipe: line "), 3, "%s", out);
	cr_assert(strstr(out, "ok: one epoll loop served 4 AIO completions "
			      "and 3 lines\n"),
		  "%s", out);
}

/* epoll_ready: readable only when the count is above 0, and it reads
 * nothing: the count is still there afterwards. */
Test(examples, epoll_ready, .timeout = 60)
{
	const char *mnt = evt_shared_mnt();
	const char *b = getenv("B");
	char name[128], path[4200], cmd[8800], out[1024];
	int fd, st;

	evt_unique(name, sizeof(name), "ready");
	fd = evt_create_counter(mnt, name, 0, false, 0);
	close(fd);
	evt_path(path, sizeof(path), mnt, name);
	snprintf(cmd, sizeof(cmd), "%s/examples/epoll_ready %s 0",
		 b && *b ? b : "build", path);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 1, "empty counter: exited %d: %s", st, out);
	cr_assert(strstr(out, ": not readable after 0 s\n"), "%s", out);
	snprintf(cmd, sizeof(cmd), "%s/examples/epoll_ready %s/text/%s 0",
		 b && *b ? b : "build", mnt, name);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 1, "empty text view: exited %d: %s", st, out);
	fd = open(path, O_RDWR | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, &(uint64_t){ 5 }, 8), 8);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s/examples/epoll_ready %s 5",
		 b && *b ? b : "build", path);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "counter at 5: exited %d: %s", st, out);
	cr_assert(strstr(out, ": readable\n"), "%s", out);
	cr_assert_eq(evt_xattr_value(path), 5, "epoll_ready consumed");
	cr_assert_eq(unlink(path), 0);
}
