// SPDX-License-Identifier: GPL-2.0-only
/*
 * run_prog(): fork and exec a test program with its stdout and stderr
 * captured, natively or with libevfdfs-preload.so preloaded, and a
 * deadline after which it is killed.
 *
 * Sanitized builds (make SANITIZE=1): the programs and the shim are built
 * with ASan, and ASan insists on being the first library loaded; an
 * LD_PRELOAD of the shim alone puts the shim first and the program aborts
 * at start.  So when this test binary is itself sanitized, the ASan
 * runtime it was linked with is preloaded ahead of the shim, and the shim
 * runs under ASan like everything else.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/evtest.h"
#include "run.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

const char *build_path(char *buf, size_t len, const char *name)
{
	const char *b = getenv("B");

	snprintf(buf, len, "%s/%s", b && *b ? b : "build", name);
	return buf;
}

/* The ASan runtime this process runs with, from its own mappings. */
static const char *asan_runtime(char *buf, size_t len)
{
#ifdef SANITIZED
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];

	buf[0] = '\0';
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');

		if (p && strstr(p, "/libasan.so")) {
			p[strcspn(p, "\n")] = '\0';
			snprintf(buf, len, "%s", p);
			break;
		}
	}
	fclose(f);
	return buf[0] ? buf : NULL;
#else
	(void)buf;
	(void)len;
	return NULL;
#endif
}

static void append(char **buf, size_t *len, size_t *cap, const char *p,
		   size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
		cr_assert(*buf != NULL);
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
}

void run_prog(struct run *r, enum run_mode mode, const char *mnt,
	      const char *prog, const char *const *args,
	      const char *const *extra_env, int deadline_ms)
{
	char path[4096], shim[4096], asan[4096], preload[8300];
	const char *argv[32];
	int out[2], err[2], n = 0, status = 0;
	size_t olen = 0, ocap = 0, elen = 0, ecap = 0;
	long long deadline;
	bool done = false;

	memset(r, 0, sizeof(*r));
	build_path(path, sizeof(path), prog);
	cr_assert(access(path, X_OK) == 0, "%s: %s", path, strerror(errno));
	build_path(shim, sizeof(shim), "libevfdfs-preload.so");
	/* Absolute, so that a test may chdir(2) and a program may too. */
	{
		char abs[PATH_MAX];

		if (realpath(path, abs))
			snprintf(path, sizeof(path), "%s", abs);
		if (realpath(shim, abs))
			snprintf(shim, sizeof(shim), "%s", abs);
	}
	if (asan_runtime(asan, sizeof(asan)))
		snprintf(preload, sizeof(preload), "%s:%s", asan, shim);
	else
		snprintf(preload, sizeof(preload), "%s", shim);
	argv[n++] = path;
	while (args && *args && n < 30)
		argv[n++] = *args++;
	argv[n] = NULL;
	cr_assert(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0);

	r->pid = fork();
	cr_assert(r->pid >= 0, "fork: %s", strerror(errno));
	if (r->pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		unsetenv("EVFDFS_MOUNT");
		unsetenv("EVFDFS_PRELOAD_AIO");
		unsetenv("LD_PRELOAD");
		if (mode != RUN_NATIVE)
			setenv("LD_PRELOAD", preload, 1);
		if (mode == RUN_SHIM)
			setenv("EVFDFS_MOUNT", mnt, 1);
		while (extra_env && *extra_env)
			putenv((char *)*extra_env++);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	append(&r->out, &olen, &ocap, "", 0);
	append(&r->err, &elen, &ecap, "", 0);

	deadline = evt_now_ms() + deadline_ms;
	while (out[0] >= 0 || err[0] >= 0 || !done) {
		struct pollfd p[2] = { { .fd = out[0], .events = POLLIN },
				       { .fd = err[0], .events = POLLIN } };
		long long left = deadline - evt_now_ms();
		char buf[4096];
		ssize_t got;
		int i;

		if (left <= 0) {
			kill(r->pid, SIGKILL);
			waitpid(r->pid, NULL, 0);
			r->status = -1;
			break;
		}
		if (!done && waitpid(r->pid, &status, WNOHANG) == r->pid) {
			done = true;
			r->status = WIFEXITED(status) ? WEXITSTATUS(status)
						      : 128 + WTERMSIG(status);
		}
		if (out[0] < 0 && err[0] < 0) {
			usleep(5000);
			continue;
		}
		if (poll(p, 2, left < 50 ? (int)left : 50) <= 0)
			continue;
		for (i = 0; i < 2; i++) {
			int *fd = i ? &err[0] : &out[0];

			if (!p[i].revents)
				continue;
			got = read(*fd, buf, sizeof(buf));
			if (got > 0) {
				if (i)
					append(&r->err, &elen, &ecap, buf,
					       (size_t)got);
				else
					append(&r->out, &olen, &ocap, buf,
					       (size_t)got);
			} else {
				close(*fd);
				*fd = -1;
			}
		}
	}
	if (out[0] >= 0)
		close(out[0]);
	if (err[0] >= 0)
		close(err[0]);
}

void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

int count_str(const char *text, const char *needle)
{
	const char *p = text;
	int n = 0;

	while ((p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* ---- watching the mount's trace while a program runs ---------------- */

static void *tracer_main(void *arg)
{
	struct tracer *t = arg;
	size_t cap = 0;
	char buf[8192];

	append(&t->text, &t->len, &cap, "", 0);
	for (;;) {
		struct pollfd p = { .fd = t->fd, .events = POLLIN };
		bool last = atomic_load(&t->stop);
		ssize_t n;

		/* After stop, one last pass takes what is left: the daemon
		 * traced every event before answering the call behind it. */
		if (!last && poll(&p, 1, 20) <= 0)
			continue;
		while ((n = read(t->fd, buf, sizeof(buf))) > 0)
			append(&t->text, &t->len, &cap, buf, (size_t)n);
		if (last || n == 0 || errno != EAGAIN)
			break;
	}
	return NULL;
}

void tracer_start(struct tracer *t, const char *mnt)
{
	char path[4096];

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "%s/trace", mnt);
	/* Subscribed once open returns: events from now on are seen. */
	t->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(t->fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert(pthread_create(&t->thread, NULL, tracer_main, t) == 0);
}

const char *tracer_stop(struct tracer *t)
{
	atomic_store(&t->stop, true);
	pthread_join(t->thread, NULL);
	close(t->fd);
	return t->text;
}

void tracer_free(struct tracer *t)
{
	free(t->text);
	t->text = NULL;
}
