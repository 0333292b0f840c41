// SPDX-License-Identifier: GPL-2.0-only
/*
 * evbench plumbing: clocks, 8-byte reads and writes, channels on each
 * backend, a task's scheduler state, and interleave(), which runs one
 * figure on every backend in turns so that they share the same round.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "../evbench.h"

const char *const bk_name[NBK] = { "kernel", "pipe", "barefuse", "evfdfs" };

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bench_warn(struct ctx *cx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "evbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	cx->failures++;
}

bool have(const struct ctx *cx, int bk)
{
	return bk == BK_KERNEL || bk == BK_PIPE || cx->mnt[bk];
}

bool section_on(const struct ctx *cx, const char *name)
{
	const char *p = cx->sections;
	size_t n = strlen(name);

	if (!p)
		return true;
	while (*p) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || !p[n]))
			return true;
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return false;
}

int write_u64(int fd, uint64_t v)
{
	ssize_t n = write(fd, &v, sizeof(v));

	if (n == sizeof(v))
		return 0;
	return n < 0 ? -errno : -EIO;
}

int read_u64(int fd, uint64_t *v)
{
	ssize_t n = read(fd, v, sizeof(*v));

	if (n == sizeof(*v))
		return 0;
	return n < 0 ? -errno : -EIO;
}

void path_of(const struct ctx *cx, int bk, const char *name, char *buf,
	     size_t len)
{
	snprintf(buf, len, "%s/%s", cx->mnt[bk], name);
}

int chan_open(const struct ctx *cx, int bk, const char *name, int flags,
	      struct chan *c)
{
	char path[PATH_MAX];
	int p[2];

	c->own = true;
	switch (bk) {
	case BK_KERNEL:
		c->rfd = eventfd(
			0, EFD_CLOEXEC |
				   (flags & O_NONBLOCK ? EFD_NONBLOCK : 0) |
				   (strcmp(name, "sem") ? 0 : EFD_SEMAPHORE));
		c->wfd = c->rfd;
		return c->rfd < 0 ? -errno : 0;
	case BK_PIPE:
		if (pipe2(p, O_CLOEXEC | flags))
			return -errno;
		c->rfd = p[0];
		c->wfd = p[1];
		return 0;
	default:
		path_of(cx, bk, name, path, sizeof(path));
		c->rfd = open(path, O_RDWR | O_CLOEXEC | flags);
		c->wfd = c->rfd;
		return c->rfd < 0 ? -errno : 0;
	}
}

/* The same channel seen by another party: FUSE files are opened again
 * (their own open file), kernel objects are shared as they must be. */
int chan_reopen(const struct ctx *cx, int bk, const char *name,
		const struct chan *base, struct chan *c)
{
	if (bk == BK_KERNEL || bk == BK_PIPE) {
		*c = *base;
		c->own = false;
		return 0;
	}
	return chan_open(cx, bk, name, 0, c);
}

/* Empty a FUSE counter (kernel objects and pipes are new every time). */
int chan_drain(const struct ctx *cx, int bk, const char *name)
{
	struct chan c;
	uint64_t v;
	int ret;

	if (bk == BK_KERNEL || bk == BK_PIPE)
		return 0;
	ret = chan_open(cx, bk, name, O_NONBLOCK, &c);
	if (ret)
		return ret;
	while ((ret = read_u64(c.rfd, &v)) == 0)
		;
	chan_close(&c);
	return ret == -EAGAIN ? 0 : ret;
}

void chan_close(struct chan *c)
{
	if (!c->own)
		return;
	close(c->rfd);
	if (c->wfd != c->rfd)
		close(c->wfd);
	c->own = false;
}

/* The first three fields of /proc/loadavg, or "?". */
void loadavg(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "re");
	double a, b, c;

	if (f && fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
		snprintf(buf, len, "%.2f %.2f %.2f", a, b, c);
	else
		snprintf(buf, len, "?");
	if (f)
		fclose(f);
}

/* State letter of a task: 'S' sleeping, 'R' running, ... */
char task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
		 (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

const int all_bks[NBK] = { BK_KERNEL, BK_PIPE, BK_BARE, BK_EVFDFS };

/*
 * One round of one figure on every backend.  The machine's noise changes
 * by the second, so the round is cut in chunks and the backends take turns
 * chunk by chunk (in a rotating order): each one sees the same weather.
 */
void interleave(struct ctx *cx, const char *what, enum merit merit,
		const int *bks, int nbks, measure_fn fn, int variant,
		long iters)
{
	int chunks = cx->quick ? 2 : 5, c, j, bk;
	long per = iters / chunks, n[NBK] = { 0 }, got;
	double el[NBK] = { 0 }, e;
	int64_t *lat[NBK] = { NULL };
	bool failed[NBK] = { false };

	for (j = 0; j < nbks; j++) {
		lat[bks[j]] = malloc((size_t)iters * sizeof(int64_t));
		if (!lat[bks[j]]) {
			bench_warn(cx, "out of memory");
			goto out_free;
		}
	}
	for (c = 0; c < chunks; c++) {
		for (j = 0; j < nbks; j++) {
			bk = bks[(j + c) % nbks];
			if (!have(cx, bk) || failed[bk])
				continue;
			e = 0;
			got = fn(cx, bk, variant, per, lat[bk] + n[bk], &e);
			if (got < 0) {
				bench_warn(cx, "%s on %s: %s", what,
					   bk_name[bk], strerror((int)-got));
				failed[bk] = true;
				continue;
			}
			n[bk] += got;
			el[bk] += e;
		}
	}
	for (j = 0; j < nbks; j++) {
		struct sample s;

		bk = bks[j];
		if (!have(cx, bk) || failed[bk])
			continue;
		if (n[bk] < 10) {
			bench_warn(cx, "%s on %s: too few samples", what,
				   bk_name[bk]);
			continue;
		}
		summarize(lat[bk], n[bk], el[bk], &s);
		record(cx, what, merit, bk, &s);
	}
out_free:
	for (j = 0; j < nbks; j++)
		free(lat[bks[j]]);
}
