// SPDX-License-Identifier: GPL-2.0-only
/*
 * aio.txt: the AIO control file for the shell.  Same contexts, same checks,
 * same completions as `aio`; requests are lines, completions are lines.
 *
 * Each open of aio.txt is one context, so a shell keeps it open on a
 * descriptor of its own:
 *
 *     exec 3<>"$MNT/aio.txt"
 *     echo 'pread /etc/hostname 0 64 data=host' >&3
 *     read -r line <&3; printf '%s\n' "$line"    # host pread 7 myhost\n
 *     echo 'poll /tmp/fifo in data=f resfd=ready' >&3
 *     echo 'pwrite out.log 0 hello\x0aworld' >&3
 *     cat <&3                        # every completion, as it comes
 *     exec 3>&-                      # io_destroy: pending polls cancelled
 *
 *   (read -r: the file is a stream, so `head` complains that it cannot
 *   seek back what it read ahead; printf: some echo builtins would turn
 *   the line's escapes back into bytes.)
 *
 * Request lines (one per line; several lines may come in one write):
 *
 *     setup N                        capacity (io_setup); only as the very
 *                                    first line, else 128 is implied
 *     pread  [OPT..] PATH OFFSET LEN [OPT..]    LEN at most 65536
 *     pwrite [OPT..] PATH OFFSET DATA           DATA: the rest of the line
 *     fsync  [OPT..] PATH [OPT..]
 *     fdsync [OPT..] PATH [OPT..]
 *     poll   [OPT..] PATH EVENTS [OPT..]        EVENTS: in|out|pri|err|hup|
 *                                    rdnorm|wrnorm|rdband|wrband|msg|rdhup
 *                                    joined by | or ,, or a number
 *     cancel TAG                     cancel a pending poll (io_cancel)
 *     # comment, or an empty line    ignored
 *
 *   OPT is data=TAG (a word the completion line starts with; default: the
 *   request's number in the context, 1, 2, ...) or resfd=NAME (signal the
 *   counter NAME of this mount, +1, when the request completes; the
 *   opener needs write permission on it).  Every line acts as the process
 *   that opened aio.txt, as it was at open, whoever writes the line (a
 *   child, or a set-user-ID program that inherited the descriptor:
 *   aio_cred.c).  PATH is absolute (in the opener's root), or relative to
 *   the opener's working directory at open; the file is opened with the
 *   opener's uid, gid and groups (pread, fsync, fdsync, poll: read-only;
 *   pwrite: write-only), never the daemon's or the writer's.  Magic links
 *   (/proc/PID/fd/N) are not followed, and /proc/self would be the daemon.
 *   In PATH and DATA: \\ \n \t \r \s (space) and \xHH; DATA may hold any
 *   byte that way.  Numbers are decimal or 0x hex.
 *
 *   A write returns the bytes of the lines accepted; if the first line is
 *   refused, it fails with that line's errno (io_submit's rule): EINVAL for
 *   a malformed line, ENOENT/EACCES from opening PATH, EAGAIN when the
 *   context is full, and the kernel's checks as for `aio`.  A cancel that
 *   worked is accepted like any line (the binary form answers EINPROGRESS);
 *   its poll then completes with res 0.
 *
 * Completion lines, read back in completion order:
 *
 *     TAG OP RES [DETAIL]
 *
 *   RES is the io_event res in decimal.  DETAIL: after a successful pread,
 *   the data (printable ASCII as is, \\ \n \t \r, other bytes \xHH), or,
 *   for a counter of this mount, its value in decimal; after a poll, the
 *   mask's names (IN|RDNORM); after an error, the errno's name (EBADF).
 *
 *     host pread 9 myhost\n
 *     f poll 65 IN|RDNORM
 *     3 pwrite -9 EBADF
 *
 * Reads return whatever part of the lines is asked for, blocking while
 * there is none (EAGAIN with O_NONBLOCK), so `cat` and `head -n` work.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aiod_i.h"

static int text_resfd(struct sjob *job, const char *name, struct areq *a)
{
	struct cnode *cn = fs_lookup_name(job->ctx->ad->fs, name);

	if (!cn)
		return -ENOENT;
	if (!cred_may(&job->ctx->opener.cred, cnode_perm(cn), MAY_WRITE))
		return -EACCES;
	cnode_get(cn);
	a->rcn = cn;
	return 0;
}

/* The wire_sub of a request line, for the same checks as a record. */
static void line_sub(const struct wire_text_req *rq, struct wire_sub *s)
{
	static const uint16_t ops[] = {
		[WT_PREAD] = IOCB_CMD_PREAD, [WT_PWRITE] = IOCB_CMD_PWRITE,
		[WT_FSYNC] = IOCB_CMD_FSYNC, [WT_FDSYNC] = IOCB_CMD_FDSYNC,
		[WT_POLL] = IOCB_CMD_POLL,
	};
	struct iocb *cb = &s->s.iocb;

	memset(s, 0, sizeof(*s));
	cb->aio_lio_opcode = ops[rq->op];
	switch (rq->op) {
	case WT_PREAD:
		cb->aio_nbytes = rq->len;
		cb->aio_offset = rq->offset;
		break;
	case WT_PWRITE:
		cb->aio_nbytes = rq->datalen;
		cb->aio_offset = rq->offset;
		s->data = (const unsigned char *)rq->data;
		s->datalen = (uint32_t)rq->datalen;
		s->write = true;
		break;
	case WT_POLL:
		cb->aio_buf = rq->events;
		break;
	default:
		break;
	}
	s->total = cb->aio_nbytes;
}

/* Hand the line's request to a worker (to open its file, or submit). */
static void text_dispatch(struct sjob *job, struct areq *a)
{
	job->cur = a;
	job->run[0] = a;
	job->nrun = 1;
	job_dispatch(job);
}

/* A request line: checked, then its file opened by a worker. */
static int text_prepare(struct sjob *job, const struct wire_text_req *rq,
			size_t next)
{
	struct aiod_ctx *ctx = job->ctx;
	struct wire_sub *s = &job->cur_sub;
	char seq[24];
	struct areq *a;
	int ret;

	line_sub(rq, s);
	ret = wire_check_early(s);
	if (ret)
		return ret;
	if (ctx_full(ctx) || auser_buf_room(ctx, s->total))
		return -EAGAIN;
	a = areq_new(job, s);
	if (!a)
		return -ENOMEM;
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)++ctx->tseq);
	a->tag = strdup(rq->tag ? rq->tag : seq);
	a->seq = rq->tag ? 0 : ctx->tseq;
	a->path = strdup(rq->path);
	if (!a->tag || !a->path) {
		areq_unprepare(a);
		return -ENOMEM;
	}
	a->oflags = rq->op == WT_PWRITE ? O_WRONLY : O_RDONLY;
	a->wop = W_OPEN;
	a->rec_end = next;
	if (rq->resfd) {
		ret = text_resfd(job, rq->resfd, a);
		if (ret) {
			areq_unprepare(a);
			return ret;
		}
	}
	text_dispatch(job, a);
	return 0;
}

/* One line.  Returns 0 (done), 1 (with a worker), or -errno. */
static int text_line(struct sjob *job)
{
	struct aiod_ctx *ctx = job->ctx;
	const char *p = job_rest(job);
	const char *nl = memchr(p, '\n', job->len - job->off);
	size_t n = nl ? (size_t)(nl - p) : job->len - job->off;
	size_t next = job->off + n + (nl ? 1 : 0);
	struct wire_text_req rq;
	int ret;

	free(job->scratch);
	job->scratch = malloc(wire_text_scratch(n));
	if (!job->scratch)
		return -ENOMEM;
	ret = wire_text_parse(p, n, job->scratch, &rq);
	if (ret) {
		job_trace(job, 0xffff, NULL, ret);
		return ret;
	}
	if (rq.op == WT_SETUP) {
		ret = ctx_setup(ctx, rq.events, job->pid, NULL);
	} else if (rq.op != WT_NONE) {
		if (!ctx->setup)
			ret = ctx_setup(ctx, AIOD_TEXT_NR, job->pid, NULL);
		if (!ret && rq.op == WT_CANCEL) {
			ret = aiod_cancel(ctx, 0, rq.tag, job->pid);
			ret = ret == -EINPROGRESS ? 0 : ret;
		} else if (!ret) {
			ret = text_prepare(job, &rq, next);
			if (!ret)
				return 1;
			job_trace(job, job->cur_sub.s.iocb.aio_lio_opcode,
				  rq.tag, ret);
		}
	}
	if (ret)
		return ret;
	job->off = job->accepted = next;
	return 0;
}

/* The line's worker is back.  Returns 0, 1 or -errno as text_line(). */
static int text_resume(struct sjob *job)
{
	struct areq *a = job->cur;
	int ret = a->wres;

	job->cur = NULL;
	if (!ret && a->wop == W_OPEN) {
		ret = afile_classify(job->ctx->ad, a->file.fd, &a->file);
		if (!ret)
			ret = areq_route(job, a, &job->cur_sub);
		if (!ret && a->route == RT_WORKER) {
			a->wop = W_SUBMIT;
			text_dispatch(job, a);
			return 1;
		}
		if (!ret)
			return job_start(job, a);
	}
	areq_trace_submit(a, ret);
	if (ret) {
		areq_unprepare(a);
		return ret;
	}
	job->off = job->accepted = a->rec_end; /* W_SUBMIT came back */
	if (a->completed)
		areq_free(a);
	return 0;
}

static void text_step(struct sjob *job)
{
	int ret = 0;

	for (;;) {
		if (job->cur)
			ret = text_resume(job);
		else if (job->off < job->len)
			ret = text_line(job);
		else
			break;
		if (ret == 1)
			return; /* a worker has it */
		if (ret)
			break;
	}
	job_finish(job, ret);
}

/* Append @n bytes to the context's unread text. */
static int tout_put(struct aiod_ctx *ctx, const char *s, size_t n)
{
	char *p;

	if (ctx->tout_off && ctx->tout_off == ctx->tout_len)
		ctx->tout_off = ctx->tout_len = 0;
	if (ctx->tout_len + n > ctx->tout_cap) {
		size_t cap = (ctx->tout_len + n) * 2 + 256;

		p = realloc(ctx->tout, cap);
		if (!p)
			return -ENOMEM;
		ctx->tout = p;
		ctx->tout_cap = cap;
	}
	memcpy(ctx->tout + ctx->tout_len, s, n);
	ctx->tout_len += n;
	return 0;
}

/* TAG OP RES [DETAIL]\n */
static char *format_event(const struct aevent *e, size_t *len)
{
	int64_t res = e->ev.res;
	char head[WIRE_TEXT_WORD_MAX + 64], *line;
	const char *name;
	size_t hl, dl = 0;
	uint64_t val;

	hl = (size_t)snprintf(head, sizeof(head), "%s %s %lld",
			      e->tag ? e->tag : "-", aiod_opname(e->op),
			      (long long)res);
	if (res < 0) {
		name = strerrorname_np((int)-res);
		dl = strlen(name ? name : "E?") + 1;
	} else if (e->op == IOCB_CMD_POLL && res > 0) {
		dl = wire_text_poll_names(NULL, 0, (uint32_t)res) + 1;
	} else if (e->datalen) {
		if (e->counter_data && e->datalen == sizeof(val))
			dl = 21 + 1;
		else
			dl = wire_text_escape(NULL, 0, e->data, e->datalen) + 1;
	}
	line = malloc(hl + dl + 2);
	if (!line)
		return NULL;
	memcpy(line, head, hl);
	if (dl) {
		line[hl] = ' ';
		if (res < 0) {
			name = strerrorname_np((int)-res);
			memcpy(line + hl + 1, name ? name : "E?", dl - 1);
		} else if (e->op == IOCB_CMD_POLL) {
			wire_text_poll_names(line + hl + 1, dl, (uint32_t)res);
		} else if (e->counter_data && e->datalen == sizeof(val)) {
			memcpy(&val, e->data, sizeof(val));
			dl = (size_t)snprintf(line + hl + 1, dl, "%llu",
					      (unsigned long long)val) +
			     1;
		} else {
			wire_text_escape(line + hl + 1, dl, e->data,
					 e->datalen);
		}
	}
	line[hl + dl] = '\n';
	*len = hl + dl + 1;
	return line;
}

/* Turn the waiting events into text; they count as read from now on. */
static void text_format_events(struct aiod_ctx *ctx)
{
	while (!list_empty(&ctx->events)) {
		struct aevent *e =
			list_entry(ctx->events.next, struct aevent, link);
		size_t len;
		char *line = format_event(e, &len);

		if (!line || tout_put(ctx, line, len)) {
			free(line);
			return;
		}
		free(line);
		list_del_init(&e->link);
		aevent_free(ctx->ad, e);
		ctx->nevents--;
	}
}

/* A read of aio.txt (aiod_read()): the formatted lines, in whatever
 * pieces the reader asks for.  -EAGAIN: none yet. */
int text_read(struct aiod_ctx *ctx, fuse_req_t req, size_t size)
{
	size_t avail;

	text_format_events(ctx);
	avail = ctx->tout_len - ctx->tout_off;
	if (!avail)
		return -EAGAIN;
	if (size > avail)
		size = avail;
	if (fuse_reply_buf(req, ctx->tout + ctx->tout_off, size) == 0)
		ctx->tout_off += size;
	if (ctx->tout_off == ctx->tout_len)
		ctx->tout_off = ctx->tout_len = 0;
	return 0;
}

/*
 * A worker is back with @job.  Its synchronous completions are in the
 * kernel's ring already: queue them before anything that follows.
 */
static void text_worker_done(struct sjob *job)
{
	/* The submissions are told before the completions they caused. */
	if (job->cur->wop == W_SUBMIT)
		areq_trace_submit(job->cur, job->cur->wres);
	aiod_kernel_events(job->ctx->ad);
	job->nrun = 0;
	job->cur->job = NULL; /* aio.txt: one line at a time */
	text_step(job);
}

/* A write to aio.txt (aiod_write()): request lines, one at a time. */
void text_write(fuse_req_t req, struct aiod_ctx *ctx, const char *buf,
		size_t size)
{
	struct sjob *job = job_new(req, ctx, buf, size, text_worker_done);

	if (!job) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	text_step(job);
}
