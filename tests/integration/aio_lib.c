// SPDX-License-Identifier: GPL-2.0-only
/* Records by hand and the kernel/mount pair for the AIO tests (aio_lib.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "aio_lib.h"

#define READ_BUF (2u << 20)

static void rec_put(struct at_rec *r, const void *p, size_t n)
{
	if (r->len + n > r->cap) {
		r->cap = (r->len + n) * 2 + 256;
		r->buf = realloc(r->buf, r->cap);
		cr_assert(r->buf);
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
}

static void rec_pad(struct at_rec *r)
{
	static const unsigned char zero[8];

	rec_put(r, zero, EVFDFS_WIRE_ALIGN(r->len) - r->len);
}

void at_rec_raw(struct at_rec *r, const void *p, size_t n)
{
	rec_put(r, p, n);
}

void at_rec_free(struct at_rec *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

void at_rec_setup(struct at_rec *r, uint32_t nr_events, uint32_t flags)
{
	struct evfdfs_wire_setup st = {
		.hdr = { EVFDFS_WIRE_VERSION, EVFDFS_WIRE_SETUP, sizeof(st) },
		.nr_events = nr_events,
		.flags = flags,
	};

	rec_put(r, &st, sizeof(st));
}

static bool vectored(const struct iocb *cb)
{
	return cb->aio_lio_opcode == IOCB_CMD_PREADV ||
	       cb->aio_lio_opcode == IOCB_CMD_PWRITEV;
}

void at_rec_submit(struct at_rec *r, const struct iocb *cb, uint32_t flags)
{
	struct evfdfs_wire_submit sub;
	const struct iovec *iov = (const struct iovec *)(uintptr_t)cb->aio_buf;
	size_t start = r->len, i;
	uint32_t nsegs = 0;
	uint64_t seg;
	bool faults =
		flags & (EVFDFS_WIRE_SUB_BUF_FAULT | EVFDFS_WIRE_SUB_BUF_RANGE |
			 EVFDFS_WIRE_SUB_IOV_FAULT);

	memset(&sub, 0, sizeof(sub));
	sub.hdr.version = EVFDFS_WIRE_VERSION;
	sub.hdr.type = EVFDFS_WIRE_SUBMIT;
	sub.flags = flags;
	sub.obj = (uintptr_t)cb;
	sub.iocb = *cb;
	if (vectored(cb) && !(flags & EVFDFS_WIRE_SUB_IOV_FAULT) &&
	    cb->aio_nbytes <= 1024)
		nsegs = (uint32_t)cb->aio_nbytes;
	sub.nsegs = nsegs;
	rec_put(r, &sub, sizeof(sub));
	for (i = 0; i < nsegs; i++) {
		seg = iov[i].iov_len;
		rec_put(r, &seg, sizeof(seg));
	}
	if (!faults && (int64_t)cb->aio_nbytes >= 0) {
		if (cb->aio_lio_opcode == IOCB_CMD_PWRITE)
			rec_put(r, (const void *)(uintptr_t)cb->aio_buf,
				cb->aio_nbytes);
		else if (cb->aio_lio_opcode == IOCB_CMD_PWRITEV)
			for (i = 0; i < nsegs; i++)
				rec_put(r, iov[i].iov_base, iov[i].iov_len);
	}
	rec_pad(r);
	((struct evfdfs_wire_hdr *)(r->buf + start))->len =
		(uint32_t)(r->len - start);
}

void at_rec_cancel(struct at_rec *r, uint64_t obj, uint32_t key, uint32_t flags)
{
	struct evfdfs_wire_cancel c = {
		.hdr = { EVFDFS_WIRE_VERSION, EVFDFS_WIRE_CANCEL, sizeof(c) },
		.aio_key = key,
		.flags = flags,
		.obj = obj,
	};

	rec_put(r, &c, sizeof(c));
}

ssize_t at_write(int fd, const struct at_rec *r)
{
	ssize_t n = write(fd, r->buf, r->len);

	return n < 0 ? -errno : n;
}

void at_prep_pread(struct iocb *cb, int fd, void *buf, uint64_t n, int64_t off)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_lio_opcode = IOCB_CMD_PREAD;
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_buf = (uintptr_t)buf;
	cb->aio_nbytes = n;
	cb->aio_offset = off;
}

void at_prep_pwrite(struct iocb *cb, int fd, const void *buf, uint64_t n,
		    int64_t off)
{
	at_prep_pread(cb, fd, (void *)buf, n, off);
	cb->aio_lio_opcode = IOCB_CMD_PWRITE;
}

void at_prep_preadv(struct iocb *cb, int fd, const struct iovec *iov, int cnt,
		    int64_t off)
{
	at_prep_pread(cb, fd, (void *)iov, (uint64_t)cnt, off);
	cb->aio_lio_opcode = IOCB_CMD_PREADV;
}

void at_prep_pwritev(struct iocb *cb, int fd, const struct iovec *iov, int cnt,
		     int64_t off)
{
	at_prep_pread(cb, fd, (void *)iov, (uint64_t)cnt, off);
	cb->aio_lio_opcode = IOCB_CMD_PWRITEV;
}

void at_prep_poll(struct iocb *cb, int fd, unsigned int events)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_lio_opcode = IOCB_CMD_POLL;
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_buf = events;
}

void at_prep_fsync(struct iocb *cb, int fd, bool data_only)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_lio_opcode = data_only ? IOCB_CMD_FDSYNC : IOCB_CMD_FSYNC;
	cb->aio_fildes = (uint32_t)fd;
}

void at_set_resfd(struct iocb *cb, int efd)
{
	cb->aio_flags |= IOCB_FLAG_RESFD;
	cb->aio_resfd = (uint32_t)efd;
}

int at_ctx(const char *mnt, uint32_t nr_events, int oflags)
{
	char path[PATH_MAX];
	struct at_rec r = { 0 };
	int fd;

	evt_path(path, sizeof(path), mnt, "aio");
	fd = open(path, O_RDWR | O_CLOEXEC | oflags);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	at_rec_setup(&r, nr_events, 0);
	cr_assert_eq(at_write(fd, &r), (ssize_t)r.len, "SETUP(%u) failed",
		     nr_events);
	at_rec_free(&r);
	return fd;
}

void at_be_setup(struct at_be *b, const char *mnt, unsigned int nr_events)
{
	memset(b, 0, sizeof(*b));
	b->mount = mnt != NULL;
	b->name = mnt ? "mount" : "kernel";
	b->fd = -1;
	if (mnt)
		b->fd = at_ctx(mnt, nr_events, O_NONBLOCK);
	else
		b->kctx = at_kctx(nr_events);
}

int at_be_submit(struct at_be *b, struct iocb **cbs, int n,
		 const uint32_t *flags)
{
	struct at_rec r = { 0 };
	size_t off = 0;
	ssize_t got;
	int i, count = 0;

	if (!b->mount)
		return at_ksubmit(b->kctx, (void **)cbs, n);
	for (i = 0; i < n; i++)
		at_rec_submit(&r, cbs[i], flags ? flags[i] : 0);
	got = at_write(b->fd, &r);
	if (got >= 0)
		while (off < (size_t)got) {
			off += ((struct evfdfs_wire_hdr *)(r.buf + off))->len;
			count++;
		}
	at_rec_free(&r);
	return got < 0 ? (int)got : count;
}

int at_be_submit1(struct at_be *b, struct iocb *cb)
{
	return at_be_submit(b, &cb, 1, NULL);
}

/* Copy a read's data into the buffers its iocb names, as a library would. */
static void scatter(const struct io_event *ev, const unsigned char *data,
		    uint32_t len)
{
	const struct iocb *cb = (const struct iocb *)(uintptr_t)ev->obj;
	const struct iovec *iov;
	uint32_t i, take;

	if (!len)
		return;
	if (cb->aio_lio_opcode == IOCB_CMD_PREAD) {
		memcpy((void *)(uintptr_t)cb->aio_buf, data, len);
		return;
	}
	iov = (const struct iovec *)(uintptr_t)cb->aio_buf;
	for (i = 0; len && i < cb->aio_nbytes; i++) {
		take = iov[i].iov_len < len ? (uint32_t)iov[i].iov_len : len;
		memcpy(iov[i].iov_base, data, take);
		data += take;
		len -= take;
	}
}

static long long now_ms(void)
{
	return evt_now_ms();
}

int at_be_getevents(struct at_be *b, int min, int max, struct io_event *evs,
		    int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	unsigned char *buf;
	struct pollfd pfd;
	int n = 0, wait;
	ssize_t got, off;

	if (!b->mount)
		return at_kgetevents(b->kctx, min, max, evs, timeout_ms);
	buf = malloc(READ_BUF);
	cr_assert(buf);
	for (;;) {
		while (b->npend && n < max) {
			evs[n++] = b->pend[0];
			memmove(b->pend, b->pend + 1,
				(size_t)--b->npend * sizeof(b->pend[0]));
		}
		if (n >= max)
			break;
		wait = n >= min		? 0
		       : timeout_ms < 0 ? -1
					: (int)(deadline - now_ms() > 0
							? deadline - now_ms()
							: 0);
		pfd.fd = b->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, wait) <= 0)
			break;
		got = read(b->fd, buf, READ_BUF);
		if (got < 0 && errno == EAGAIN)
			continue;
		cr_assert(got > 0, "read events: %s", strerror(errno));
		for (off = 0; off < got;) {
			struct evfdfs_wire_event rec;

			memcpy(&rec, buf + off, sizeof(rec));
			cr_assert_eq(rec.hdr.type, EVFDFS_WIRE_EVENT);
			cr_assert_eq(
				rec.hdr.len,
				EVFDFS_WIRE_ALIGN(sizeof(rec) + rec.datalen));
			scatter(&rec.ev, buf + off + sizeof(rec), rec.datalen);
			if (n < max)
				evs[n++] = rec.ev;
			else {
				cr_assert(b->npend < 256);
				b->pend[b->npend++] = rec.ev;
			}
			off += rec.hdr.len;
		}
	}
	free(buf);
	return n;
}

int at_be_cancel(struct at_be *b, struct iocb *cb)
{
	struct at_rec r = { 0 };
	ssize_t got;

	if (!b->mount)
		return at_kcancel(b->kctx, cb);
	at_rec_cancel(&r, (uintptr_t)cb, cb->aio_key, 0);
	got = at_write(b->fd, &r);
	at_rec_free(&r);
	return got < 0 ? (int)got : 0;
}

void at_be_destroy(struct at_be *b)
{
	if (b->mount)
		close(b->fd);
	else
		at_kdestroy(b->kctx);
	b->fd = -1;
	b->kctx = NULL;
}

void at_compare(const char *mnt, at_case_fn fn, void *arg)
{
	struct evt_transcript tk = { 0 }, tm = { 0 };
	struct at_be b;

	at_be_setup(&b, NULL, 128);
	fn(&b, &tk, arg);
	at_be_destroy(&b);
	at_be_setup(&b, mnt, 128);
	fn(&b, &tm, arg);
	at_be_destroy(&b);
	if (getenv("AT_SHOW"))
		fprintf(stderr, "%s", tk.buf ? tk.buf : "");
	cr_assert_str_eq(
		tm.buf ? tm.buf : "", tk.buf ? tk.buf : "",
		"kernel and mount differ\n--- kernel:\n%s--- mount:\n%s",
		tk.buf ? tk.buf : "", tm.buf ? tm.buf : "");
	evt_transcript_free(&tk);
	evt_transcript_free(&tm);
}

int at_counter(const struct at_be *b, uint64_t init, bool nonblock)
{
	char name[64], path[PATH_MAX];
	int fd;

	if (!b->mount) {
		fd = eventfd(0, EFD_CLOEXEC | (nonblock ? EFD_NONBLOCK : 0));
	} else {
		fd = evt_create_counter(evt_shared_mnt(),
					evt_unique(name, sizeof(name), "atc"),
					0, false, nonblock ? O_NONBLOCK : 0);
		evt_path(path, sizeof(path), evt_shared_mnt(), name);
		cr_assert_eq(unlink(path), 0);
	}
	cr_assert(fd >= 0);
	if (init)
		cr_assert_eq(write(fd, &init, 8), 8);
	return fd;
}

const char *at_res(int64_t res, char *buf, size_t len)
{
	if (res < 0)
		snprintf(buf, len, "res=-%s", evt_errname((int)-res));
	else
		snprintf(buf, len, "res=%lld", (long long)res);
	return buf;
}

void at_make_file(char *path, size_t len, const char *dir, size_t size)
{
	char name[64];
	unsigned char *data = malloc(size ? size : 1);
	size_t i;
	int fd;

	cr_assert(data);
	for (i = 0; i < size; i++)
		data[i] = (unsigned char)(i % 251);
	evt_path(path, len, dir, evt_unique(name, sizeof(name), "aiof"));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, data, size), (ssize_t)size);
	close(fd);
	free(data);
}

uint64_t at_peek(int fd)
{
	char path[64], buf[1024], *p;
	ssize_t n = fgetxattr(fd, "user.evfdfs.value", buf, sizeof(buf) - 1);
	FILE *f;

	if (n > 0) {
		buf[n] = '\0';
		return strtoull(buf, NULL, 10);
	}
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	cr_assert(f);
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = '\0';
	p = strstr(buf, "eventfd-count:");
	cr_assert(p, "fd %d is neither a counter nor an eventfd (%s)", fd,
		  strerror(errno));
	return strtoull(p + strlen("eventfd-count:"), NULL, 16);
}

uint64_t at_wait_count(int fd, uint64_t want)
{
	long long deadline = evt_now_ms() + 10000;
	uint64_t v;

	while ((v = at_peek(fd)) < want && evt_now_ms() < deadline)
		usleep(2000);
	return v;
}

void at_slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	while ((size_t)total < len - 1 &&
	       (n = read(fd, buf + total, len - 1 - (size_t)total)) > 0)
		total += n;
	buf[total] = '\0';
	close(fd);
}

/* A field ("kernel_slots=", "buffered=") of the status file's aiod line. */
long long at_aiod_field(const char *mnt, const char *key)
{
	char path[PATH_MAX], buf[65536], *p;

	at_slurp(evt_path(path, sizeof(path), mnt, "status"), buf, sizeof(buf));
	p = strstr(buf, "aiod ");
	cr_assert(p, "no aiod line in:\n%s", buf);
	p = strstr(p, key);
	cr_assert(p, "no %s in:\n%s", key, buf);
	return strtoll(p + strlen(key), NULL, 10);
}
