/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the AIO control files, shared by the files that implement
 * aiod.h, in layers that call only downward (fused/LAYERS, checked by
 * scripts/check-layers.sh), top first:
 *
 *   aiod          aiod.c: aiod.h's entry points, init and fini, the loop
 *                 sources (kernel completions, the pool's hand-back)
 *   front         the two forms: aio_bin.c (`aio`: records, EVENT
 *                 records) and aio_text.c (`aio.txt`: lines)
 *   ctx           aio_dispatch.c: contexts: open, setup, cancel, destroy,
 *                 release, status lines
 *   engine        aio_submit.c: requests: validation in Linux's order,
 *                 routing, the requests the daemon serves itself
 *                 (counters of this mount), batches;
 *                 aio_rw.c: the memory and kernel iocb of a read or write;
 *                 aio_wait.c: transfers that may sleep in a device
 *                 (readiness on the loop, the transfer on a worker that a
 *                 kick ends), the kernel completion reaper;
 *                 aio_complete.c: completions and RESFD;
 *                 aio_work.c: the worker pool for I/O that may block
 *   queue         aio_event.c: a context's events and capacity;
 *                 aio_ring.c: the mapped completion ring of a binary
 *                 context
 *   access        aio_xfer.c: data moved to and from the submitter's
 *                 memory; aio_fd.c: the submitter's descriptors
 *                 (pidfd_getfd, /proc); aio_cred.c: who a context acts
 *                 as, its opener, taken at open; aio_user.c: each user's
 *                 share of slots and buffers, memory back after a burst;
 *                 aio_proc.c: /proc; kaio.c: the kernel AIO calls
 *   decode        wire.c, wire_text.c: records and lines
 *
 * The one call upward is a function pointer: a job's resume step (struct
 * sjob), set by the front end that made it, run by aiod.c when a worker
 * hands the job back.
 *
 * Threads: everything runs on the event loop except aio_work.c's workers,
 * which only call kaio_submit*() and open(2) for jobs handed to them and
 * hand them back (see struct aio_pool).
 */
#ifndef EVFDFS_AIOD_I_H
#define EVFDFS_AIOD_I_H

#include <pthread.h>
#include <sys/uio.h>

#include "aiod.h"
#include "evfdfs_i.h"
#include "wire_i.h"

/*
 * The daemon's kernel AIO context.  io_setup() charges the system-wide
 * aio-nr (A12), so it stays small: AIOD_KAIO_NR entries, of which
 * AIOD_KAIO_SIGNAL are kept for RESFD signals of kernel eventfds.
 */
#define AIOD_KAIO_NR 1024u
#define AIOD_KAIO_SIGNAL 256u
/* Kernel slots for requests, shared by all users (aio_user.c). */
#define AIOD_KSLOTS (AIOD_KAIO_NR - AIOD_KAIO_SIGNAL)
/* Data held by requests and unread events, daemon-wide: beyond it EAGAIN. */
#define AIOD_BUF_MAX (256u << 20)
/* Free memory goes back to the system when the data held falls to LOW
 * after having reached HIGH (aio_user.c). */
#define AIOD_TRIM_HIGH (32u << 20)
#define AIOD_TRIM_LOW (2u << 20)
/* Requests handed to a worker in one go. */
#define AIOD_RUN_MAX 64u
/*
 * The longest regular-file transfer the loop does itself (a tmpfs file's,
 * or a read of cached pages): a copy of memory, bounded so that a batch
 * of them (AIOD_RUN_MAX) holds the loop for milliseconds at most; longer
 * ones go to a worker.  The library's own bound for data inline (its
 * DIRECT_MIN) is the same.
 */
#define AIOD_LOOP_MAX (64u << 10)
/* ... and of all of one write's: past it, a worker does the rest. */
#define AIOD_LOOP_JOB_MAX (1u << 20)
/* Largest reply of events packed in the daemon's kept buffer. */
#define AIOD_RBUF_KEEP (256u << 10)
/* Capacity of an aio.txt context that does not start with `setup N`. */
#define AIOD_TEXT_NR 128u

/* A kernel address: the daemon's stand-in for a caller's buffer that lies
 * outside user space (EVFDFS_WIRE_SUB_BUF_RANGE), so that the kernel fails
 * it with EFAULT at its own step. */
#define AIOD_KADDR 0xffff888000000000ull

/* What a descriptor of the submitter turned out to be. */
enum afile_kind {
	AF_COUNTER,  /* a counter of this mount (binary view) */
	AF_TEXTVIEW, /* text/NAME of this mount */
	AF_OURS,     /* any other file of this mount */
	AF_EVENTFD,  /* a kernel eventfd */
	AF_STREAM,   /* a pipe, FIFO or socket */
	AF_CHR,	     /* a character device */
	AF_REG,	     /* regular files, block devices, directories */
	AF_SIGNALFD, /* a signalfd: it would show the daemon's signals */
	AF_ANON,     /* other anonymous-inode files (timerfd, inotify...) */
};

/*
 * Our duplicate of a submitter's file description, shared by the requests
 * of one write that name the same descriptor (struct sjob's fcache): it
 * is closed when the last of them is done.  Only the loop touches it.
 */
struct afd {
	unsigned int refs;
	int fd;
};

struct afile {
	int fd;	   /* our duplicate of the file description, or -1 */
	int flags; /* its F_GETFL */
	enum afile_kind kind;
	bool memfs;	    /* AF_REG on tmpfs or ramfs: its pages are its
			     * storage, a transfer never waits for a disk */
	struct cnode *cn;   /* AF_COUNTER, AF_TEXTVIEW: a reference */
	struct afd *shared; /* when fd is shared: holds it, a reference */
};

/* Descriptors a write remembers while the loop prepares its records. */
#define AIOD_FCACHE 8u

struct fcache_ent {
	uint32_t fdnum; /* the submitter's number */
	struct afile f; /* what it was: the cache's own references */
};

/* Where a request's I/O is done. */
enum aroute {
	RT_SELF,   /* served by the daemon (a counter of this mount) */
	RT_LOOP,   /* kernel AIO submitted on the loop: cannot block */
	RT_WORKER, /* kernel AIO submitted by a worker: may block */
};

/* What the kernel is doing for a kernel-routed request. */
enum kphase {
	KP_NONE,
	KP_IO,	 /* the I/O (or POLL, FSYNC) itself */
	KP_WAIT, /* a readiness POLL before retrying a stream transfer */
};

/* Where a job or a request is with respect to the pool. */
enum wstate {
	WS_LOOP,    /* with the loop */
	WS_QUEUED,  /* on a queue, not taken */
	WS_RUNNING, /* a worker has it */
};

/* What a worker does with a request. */
enum wop {
	W_SUBMIT, /* kaio_submit(a->kiocb) */
	W_OPEN,	  /* aio.txt: open a->path as the caller */
};

struct aiod;
struct aiod_ctx;
struct auser;
struct sjob;

/* Our duplicate of a writer's pidfd, shared by the direct requests of one
 * write (aio_xfer.c); only the loop counts references. */
struct xpid {
	unsigned int refs;
	int fd;
};

/* One submitted iocb, from acceptance to its completion event. */
struct areq {
	struct list_head link; /* actx->reqs */
	struct aiod_ctx *ctx;
	struct sjob *job; /* while a submitting job refers to it */
	pid_t pid;
	uint16_t op;
	uint64_t data, obj; /* echoed in the event */
	char *tag;	    /* aio.txt: the completion line's tag */
	struct afile file;
	enum aroute route;
	/* RESFD */
	struct cnode *rcn; /* a counter of this mount, referenced */
	int rfd;	   /* a kernel eventfd (our duplicate), or -1 */
	/* the transfer */
	char *mem; /* the allocation behind buf, counted in buf_bytes */
	size_t memsize;
	char *buf; /* PREAD*: where data lands; PWRITE*: the data */
	size_t buflen;
	bool spread; /* O_DIRECT segments: each on its own page */
	struct iovec *iov;
	uint32_t niov, iov_skip;
	uint64_t done;	/* stream writes: bytes written so far; reads
			 * going on (more): bytes stored so far */
	bool fsize_hit; /* at or past the submitter's RLIMIT_FSIZE: -EFBIG */
	/* direct transfers (aio_xfer.c): the submitter's memory, not records */
	bool direct;	    /* EVFDFS_WIRE_SUB_DIRECT */
	bool whole;	    /* run by a worker in chunks (xfer_run()) */
	bool more;	    /* a stream's or device's, going on past its
			     * buffer chunk by chunk (areq_next_chunk()) */
	bool fills;	    /* more: a device that fills any length
			     * (/dev/zero...): a short chunk is no end */
	struct xpid *xpid;  /* the submitter's pidfd, a reference */
	struct iovec *uiov; /* the submitter's segments, its addresses (also
			     * a ring context's reads: ring_capture()) */
	uint32_t nuiov;
	uint64_t xlen; /* whole, more: bytes to move (MAX_RW_COUNT,
			* RLIMIT_FSIZE) */
	int64_t xoff;  /* more: the offset of the first chunk */
	int64_t xres;  /* whole: the result, written by the worker */
	/* kernel-routed */
	struct iocb kiocb; /* the I/O; aio_data = this request */
	struct iocb kpoll; /* the readiness POLL of a stream retry */
	enum kphase kphase;
	bool nowait_added; /* RWF_NOWAIT added by the daemon (stream) */
	bool loop_copy;	   /* a regular file's transfer the loop does: a
			    * copy of memory (AIOD_LOOP_MAX) */
	bool nowait_try;   /* a regular file's read tried on the loop with
			    * RWF_NOWAIT; a worker does it if it would wait */
	bool cancelling;   /* io_cancel sent, or its context closed */
	bool holds_slot;   /* one of ad->kslots */
	bool completed;	   /* its event is out; the job frees it */
	/* served by the daemon */
	struct watcher wt;
	bool watching;
	uint32_t pmask; /* POLL: requested | POLLERR | POLLHUP */
	uint32_t rwf;	/* the caller's aio_rw_flags */
	bool sub_fault; /* EVFDFS_WIRE_SUB_BUF_FAULT */
	/* a read of a context with a ring: uiov above is where its data goes */
	bool pre_done; /* stored by ring_deliver_batch(): pre_res */
	int64_t pre_res;
	/* worker hand-off; written by the worker, read after it is back */
	enum wop wop;
	int wres;	   /* 0 / -errno; 1 = not attempted */
	char *path;	   /* W_OPEN */
	int oflags;	   /* W_OPEN */
	size_t rec_end;	   /* offset just past this request's record */
	bool counter_data; /* aio.txt: print the data as a counter value */
	uint64_t seq;	   /* aio.txt: the default tag it took, or 0 */
	/* trace: its aio-submit line is out */
	bool submit_traced;
	/*
	 * A transfer that may sleep in its device (aio_wait.c): the loop
	 * waits for readiness, a worker does the transfer alone.
	 */
	bool slow;		/* routed so */
	bool early_fail;	/* io_submit fails it before its data */
	bool at_worker;		/* loop: handed to the pool, not back */
	bool kres_pending;	/* loop: its kernel event came meanwhile */
	int64_t kres;		/* that event's res */
	int wfd;		/* loop: what is in ad->wait_epfd, or -1 */
	bool wfd_dup;		/* loop: wfd is a duplicate of file.fd, ours */
	struct list_head wlink; /* pool rqueued/rdone lists */
	int wstate;		/* protected by pool lock: enum wstate */
	bool wcancel;		/* protected by pool lock: do not start */
};

/* A completion waiting to be read. */
struct aevent {
	struct list_head link; /* actx->events */
	struct io_event ev;
	uint32_t datalen;
	char *data; /* within mem */
	char *mem;  /* owned, counted in ad->buf_bytes */
	size_t memsize;
	struct auser *user; /* whose bytes mem are */
	uint16_t op;
	char *tag;	   /* aio.txt */
	bool counter_data; /* aio.txt */
};

/* pidfds a context keeps for the threads that submit to it. */
#define AIOD_PIDFDS 4u

struct apidfd {
	pid_t pid; /* the thread (fuse_req_ctx()->pid) */
	int fd;	   /* pidfd_open(pid) */
};

/* A process, told apart from a later one with its pid and from itself
 * after an execve (aio_cred.c). */
struct aproc {
	bool valid;
	pid_t tgid;
	unsigned long long start; /* the process's start time (/proc stat) */
	dev_t exe_dev;		  /* its executable: changes at execve */
	ino_t exe_ino;
};

/*
 * Who a context acts as: its opener, as it was at open (aio_cred.c).  Like
 * a kernel file that acts on write (f_cred), an open of `aio` or `aio.txt`
 * keeps its opener's credentials, and every record or line written to it
 * acts with them, whoever writes.
 */
struct aopener {
	struct cred cred;  /* uid, gid (the FUSE request's), groups */
	int cwd, root;	   /* aio.txt: O_PATH of its cwd and root, or -errno */
	bool rt_ok;	   /* it had CAP_SYS_ADMIN or CAP_SYS_NICE */
	struct aproc self; /* aio: the opening process, as it was */
};

/* A context's mapped completion ring (aio_ring.c). */
struct aring {
	bool on;
	bool destroyed; /* DESTROY received: io_destroy has begun */
	void *map;	/* ring, then the control page */
	size_t map_len, bytes;
	struct evfdfs_wire_ring_ctl *ctl;
	uint32_t nr, id; /* the daemon's own copies, never read back */
	uint32_t tail;	 /* likewise */
	uint64_t addr;	 /* the handle in the process */
	pid_t tgid;	 /* the setup task's process */
	pid_t ok_pid;	 /* the last other task found to share its memory */
};

/* One open of `aio` or `aio.txt`. */
struct aiod_ctx {
	struct list_head link; /* ad->ctxs, or ad->dying once closed */
	struct aiod *ad;
	struct handle *h; /* NULL once closed */
	uint64_t id;
	pid_t pid; /* the opener */
	/* the opener's user: status and trace show the context to them and
	 * root only */
	struct perm owner;
	struct aopener opener; /* what its requests act as */
	bool text;
	bool setup;
	uint32_t nr_events;
	unsigned int inflight;	 /* submitted (or being submitted), not done */
	unsigned int by_op[9];	 /* inflight by IOCB_CMD_* */
	unsigned int nevents;	 /* completions waiting to be read */
	struct list_head events; /* struct aevent */
	struct list_head reqs;	 /* struct areq in flight */
	struct waitq rq;	 /* parked reads */
	/* aio.txt: formatted completion lines not yet read */
	char *tout;
	size_t tout_len, tout_off, tout_cap;
	uint64_t tseq; /* default tags */
	/* pidfds of the last threads that submitted (aio_fd.c) */
	struct apidfd pidfds[AIOD_PIDFDS];
	unsigned int npidfds, pidfd_next;
	struct aring ring;
	/* owner.uid's share of slots and buffers (aio_user.c) */
	struct auser *user;
};

/*
 * One write(2) to a control file, being turned into submissions.  It may
 * wait for a worker (a blocking submission, an open for aio.txt); the FUSE
 * request is answered when the job finishes, with the bytes of the records
 * accepted or the first record's errno (A21).
 */
struct sjob {
	struct list_head wlink; /* pool queued/done lists */
	fuse_req_t req;
	struct aiod_ctx *ctx;
	/* What the loop does when a worker is back with the job: its front
	 * end's next step (aio_bin.c, aio_text.c), set by job_new(). */
	void (*resume)(struct sjob *job);
	pid_t pid;
	/* The writer (its uid and gid, no groups): for traces and accounting,
	 * never for access, which is the opener's (ctx->opener). */
	struct cred who;
	int writer_ok;	   /* 0 unchecked, 1, or -EPERM: may the daemon take
			* descriptors from the writer (writer_may_lend())? */
	int mem_ok;	   /* 0 unchecked, 1, or -EXDEV: can it reach the
			* writer's memory (aio_xfer.c)? */
	struct xpid *xpid; /* the writer's pidfd for direct requests */
	/*
	 * What was written: libfuse's buffer while the loop works on the
	 * write, a copy (own) of what is left of it once a worker has the
	 * job (job_dispatch()), as that buffer serves the next request.
	 */
	const char *buf;
	char *own;
	size_t base; /* the write's offset of buf[0] */
	size_t len, off;
	size_t accepted;   /* bytes of the records accepted so far */
	size_t loop_bytes; /* regular-file bytes the loop copied for it */
	/*
	 * The submitter's descriptors already looked up, so that a batch
	 * naming one descriptor many times resolves it once.  Valid only
	 * while the loop works on the write without letting go of it: it is
	 * emptied before the job goes to a worker (the submitter's other
	 * threads may close or replace a descriptor meanwhile) and when the
	 * write is answered.
	 */
	struct fcache_ent fcache[AIOD_FCACHE];
	unsigned int nfcache, fcache_next;
	struct areq *run[AIOD_RUN_MAX]; /* handed to a worker */
	unsigned int nrun;
	/* aio.txt: the line being opened or submitted, and what it asks */
	struct areq *cur;
	struct wire_sub cur_sub;
	char *scratch;	  /* cur_sub's strings and data */
	bool intr_func;	  /* the FUSE interrupt callback is registered */
	int wstate;	  /* protected by pool lock: enum wstate */
	bool interrupted; /* protected by pool lock: FUSE INTERRUPT came */
};

struct aio_pool;

/* One worker thread. */
struct aio_worker {
	pthread_t thread;
	struct aio_pool *p;
	void *cur; /* protected by lock: the job or request whose system
		    * call a kick (SIGUSR1) may interrupt, or NULL */
	bool kick; /* protected by lock: a kick was sent for cur */
};

/*
 * The worker pool.  The loop hands a job over (queued), a worker does what
 * its run asks, hands it back (done) and writes done_fd, which the loop
 * watches.  While a job is with a worker the loop does not touch it.
 * Single requests (aio_wait.c's transfers) travel the same way on rqueued
 * and rdone.
 */
struct aio_pool {
	struct aio_worker *workers;
	unsigned int nthreads;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct list_head queued;  /* protected by lock */
	struct list_head done;	  /* protected by lock */
	struct list_head rqueued; /* protected by lock */
	struct list_head rdone;	  /* protected by lock */
	bool stop;		  /* protected by lock */
	void *kctx;		  /* read-only after aiod_init() */
	int done_fd; /* eventfd; written by workers, read by loop */
	bool started;
};

/* The daemon-wide part: fs->aio. */
struct aiod {
	struct evfdfs *fs;
	void *kctx;
	struct loop_source ksrc; /* the kernel completion eventfd */
	struct loop_source wsrc; /* the pool's done_fd */
	int ready_fd;		 /* an eventfd at 1: RESFD signal target */
	unsigned int kslots;	 /* free kernel slots for requests */
	struct list_head users;	 /* struct auser, by uid (aio_user.c) */
	bool trim_armed;	 /* buf_bytes reached AIOD_TRIM_HIGH */
	unsigned int ksig;	 /* free kernel slots for RESFD signals */
	unsigned int reaping;	 /* aiod_kernel_events() is running (depth) */
	bool dummy_out;		 /* a RESFD signal's dummy was submitted while
				  * reaping: reap again before returning */
	int *sigq;		 /* eventfds waiting for a signal slot */
	unsigned int nsigq, sigq_cap;
	uint64_t total_nr; /* nr_events of live contexts (aio_max) */
	size_t buf_bytes;  /* data held by requests and events */
	uint64_t next_ctx_id;
	struct list_head ctxs;	/* live contexts */
	struct list_head dying; /* closed, with I/O in flight */
	dev_t mnt_dev;
	uint64_t mnt_id;
	unsigned int ncpus;
	bool no_pidfd;	  /* EVFDFS_AIOD_NO_PIDFD: test the /proc fallback */
	bool no_direct;	  /* EVFDFS_AIOD_NO_DIRECT: test the inline fallback */
	bool said_inline; /* logged that a submitter's memory is out of reach */
	char *rbuf;	  /* replies to reads of events (read_binary()) */
	size_t rbuf_size;
	struct aio_pool pool;
	/* aio_wait.c */
	int wait_epfd;		 /* readiness of slow transfers' files */
	struct loop_source esrc; /* wait_epfd in the loop */
	struct loop_source tsrc; /* timerfd: kicks sent again until heard */
	bool kick_timer;	 /* tsrc is armed */
};

/* aio_dispatch.c */
int ctx_setup(struct aiod_ctx *ctx, uint32_t nr_events, pid_t pid,
	      const struct wire_ring_setup *rs);
int ctx_destroy(struct aiod_ctx *ctx, pid_t pid);
int aiod_cancel(struct aiod_ctx *ctx, uint64_t obj, const char *tag, pid_t pid);
void ctx_status(struct sbuf *sb, const struct cred *reader,
		const struct aiod_ctx *ctx);

/* aio_event.c */
const char *aiod_opname(uint16_t op);
struct aevent *aevent_new(struct areq *a, int64_t res);
void aevent_free(struct aiod *ad, struct aevent *e);
void actx_maybe_free(struct aiod_ctx *ctx);
bool ctx_full(const struct aiod_ctx *ctx);

/* aio_complete.c */
void areq_complete(struct areq *a, int64_t res);
void areq_finish_kernel(struct areq *a, int64_t res);
void areq_free(struct areq *a);
void slow_unwait(struct areq *a);
void ksignal_flush(struct aiod *ad);
/* Trace: a request's key (aio_data, or the aio.txt tag) and submission. */
#define AREQ_KEY_MAX 24
const char *areq_key(const struct areq *a, char buf[AREQ_KEY_MAX]);
void areq_trace_submit(struct areq *a, int res);

/* What the loop has not read of @job's write. */
static inline const char *job_rest(const struct sjob *job)
{
	return job->buf + (job->off - job->base);
}

/* aio_submit.c */
void job_finish(struct sjob *job, int err);
struct sjob *job_new(fuse_req_t req, struct aiod_ctx *ctx, const char *buf,
		     size_t size, void (*resume)(struct sjob *job));
struct areq *areq_new(struct sjob *job, const struct wire_sub *s);
void areq_unprepare(struct areq *a);
int areq_route(struct sjob *job, struct areq *a, const struct wire_sub *s);
int areq_start(struct areq *a);
void job_dispatch(struct sjob *job);
int job_start(struct sjob *job, struct areq *a);
void job_trace(const struct sjob *job, uint16_t op, const char *key, int res);
int job_flush_batch(struct sjob *job, struct areq **lb, unsigned int n);
void job_loop_share(struct sjob *job, struct areq *a);

/* aio_fd.c */
int afile_get(struct aiod *ad, struct sjob *job, uint32_t fdnum,
	      struct afile *f);
int afile_classify(struct aiod *ad, int fd, struct afile *f);
void afile_put(struct afile *f);
void job_fcache_drop(struct sjob *job);
void ctx_pidfds_close(struct aiod_ctx *ctx);
int ctx_pidfd_get(struct aiod_ctx *ctx, pid_t pid, bool fresh);
int resfd_get(struct aiod *ad, struct sjob *job, uint32_t fdnum,
	      struct areq *a);
void areq_signal(struct areq *a, int sig);
int aiod_mount_ids(const char *mountpoint, dev_t *dev, uint64_t *mnt_id);

int aiod_take_fd(struct aiod_ctx *ctx, pid_t pid, uint32_t fdnum);

/* aio_ring.c */
int ring_attach(struct aiod_ctx *ctx, const struct wire_ring_setup *rs,
		uint32_t nr_events, pid_t pid);
void ring_detach(struct aiod_ctx *ctx);
void ring_ctl_update(struct aiod_ctx *ctx);
uint32_t ring_head(const struct aiod_ctx *ctx);
uint32_t ring_waiting(const struct aiod_ctx *ctx);
bool ring_full(const struct aiod_ctx *ctx);
void ring_publish(struct aiod_ctx *ctx, const struct io_event *ev);
bool ring_may_submit(struct aiod_ctx *ctx, pid_t pid);
void ring_capture(struct areq *a, const struct wire_sub *s);
int64_t ring_deliver(struct areq *a, int64_t res);
void ring_deliver_batch(const struct io_event *evs, int n);

/* aio_proc.c */
ssize_t aiod_proc_read(const char *path, char *buf, size_t len);
const char *aiod_proc_field(const char *text, const char *key);
bool caller_rt_ok(pid_t pid);
int caller_fsize(pid_t pid, uint64_t *lim);

/* aio_cred.c */
int opener_take(struct aopener *o, fuse_req_t req, bool text);
void opener_drop(struct aopener *o);
int writer_may_lend(const struct aopener *o, pid_t pid);
int opener_open(const struct aopener *o, const char *path, int oflags);

/* aio_rw.c */
int areq_build_rw(struct aiod *ad, struct areq *a, const struct wire_sub *s);
uint64_t areq_next_chunk(struct areq *a);

/* aio_xfer.c */
/* Bytes a whole transfer moves per chunk, through one buffer. */
#define XFER_CHUNK (EVFDFS_WIRE_MAX_DATA & ~4095u)
void aiod_gather(struct areq *a, uint32_t len);
int xfer_prepare(struct sjob *job, struct areq *a, const struct wire_sub *s);
ssize_t xfer_pull(struct areq *a, void *dst, uint64_t off, size_t len);
ssize_t xfer_push(struct areq *a, const void *src, uint64_t off, size_t len);
void xfer_run(struct areq *a);
void xfer_worker_fini(void);
void xpid_put(struct xpid *x);
int64_t xfer_complete_read(struct areq *a, int64_t res);

/* aio_work.c */
int pool_start(struct aio_pool *p, unsigned int n, void *kctx);
void pool_stop(struct aio_pool *p);
void pool_push(struct aio_pool *p, struct sjob *job);
struct sjob *pool_pop_done(struct aio_pool *p);
void pool_push_req(struct aio_pool *p, struct areq *a);
struct areq *pool_pop_rdone(struct aio_pool *p);
bool pool_interrupt_job(struct aio_pool *p, struct sjob *job);
bool pool_cancel_req(struct aio_pool *p, struct areq *a);
unsigned int pool_rekick(struct aio_pool *p);

/* aio_wait.c */
void aiod_kernel_events(struct aiod *ad);
void areq_kernel_done(struct areq *a, int64_t res);
uint64_t areq_write_left(const struct areq *a);
void areq_write_advance(struct areq *a, uint64_t n);
int wait_init(struct aiod *ad);
void wait_fini(struct aiod *ad);
bool slow_fails_early(const struct wire_sub *s);
bool slow_route(const struct areq *a, const struct wire_sub *s);
void nowait_to_worker(struct areq *a);
int slow_start(struct areq *a);
void slow_kernel_done(struct areq *a, int64_t res);
void slow_worker_done(struct areq *a);
void slow_cancel(struct areq *a);
void kick_timer_arm(struct aiod *ad);
void job_watch_interrupt(struct sjob *job);

/* aio_user.c */
int auser_attach(struct aiod_ctx *ctx);
void auser_detach(struct aiod_ctx *ctx);
int auser_slot_get(struct aiod_ctx *ctx);
void auser_slot_put(struct aiod_ctx *ctx);
int auser_buf_room(const struct aiod_ctx *ctx, uint64_t want);
void auser_buf_charge(struct aiod_ctx *ctx, size_t n);
void auser_buf_release(struct aiod *ad, struct auser *u, size_t n);
void auser_free_all(struct aiod *ad);
void auser_status(const struct aiod *ad, const struct cred *reader,
		  struct sbuf *sb);

/* aio_bin.c */
int bin_read(struct aiod_ctx *ctx, fuse_req_t req, size_t size);
void bin_write(fuse_req_t req, struct aiod_ctx *ctx, const char *buf,
	       size_t size);

/* aio_text.c */
int text_read(struct aiod_ctx *ctx, fuse_req_t req, size_t size);
void text_write(fuse_req_t req, struct aiod_ctx *ctx, const char *buf,
		size_t size);

#endif /* EVFDFS_AIOD_I_H */
