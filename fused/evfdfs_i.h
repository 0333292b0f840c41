/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's private state: one struct evfdfs owns every counter node,
 * every open handle, every parked request and the trace subscribers.  It
 * travels as libfuse userdata and is fetched with evfdfs_from_req().  The
 * daemon core is single-threaded: nothing here is locked.
 */
#ifndef EVFDFS_I_H
#define EVFDFS_I_H

#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "counter.h"
#include "list.h"

/* Fixed inode numbers.  Counter k (k >= 1) has inode COUNTER_INO_BASE + 2k
 * for its binary file and that + 1 for its text view; ids never repeat, so
 * neither do inode numbers. */
enum {
	INO_ROOT = 1,
	INO_TEXTDIR = 2,
	INO_AIO = 3,
	INO_AIOTXT = 4,
	INO_STATUS = 5,
	INO_TRACE = 6,
	COUNTER_INO_BASE = 16,
};

#define EVFDFS_TEXTDIR_NAME "text"
#define EVFDFS_AIO_NAME "aio"
#define EVFDFS_AIOTXT_NAME "aio.txt"
#define EVFDFS_STATUS_NAME "status"
#define EVFDFS_TRACE_NAME "trace"

/* Extended attributes of a counter. */
#define XATTR_SEMAPHORE "user.evfdfs.semaphore"
#define XATTR_VALUE "user.evfdfs.value"

struct evfdfs;
struct handle;
struct aiod;
struct aiod_ctx;

/**
 * struct waitq - requests parked until some state changes.
 * Each parked request sits on exactly one queue, with its FUSE interrupt
 * callback registered (waitq.c).
 */
struct waitq {
	struct list_head list;
};

struct waiter;

/*
 * waiter->try: attempt to complete; reply and return 0 when done (the waitq
 * frees the waiter), or return -EAGAIN to stay parked.
 * waiter->on_interrupt: optional; reply to an interrupted request (default:
 * EINTR).  Either way the waitq frees the waiter afterwards.
 */
typedef int (*waiter_try_fn)(struct waiter *w);
typedef void (*waiter_intr_fn)(struct waiter *w);

enum waiter_kind {
	W_READ,	      /* binary read of a counter */
	W_WRITE,      /* binary write of a counter */
	W_TEXT_READ,  /* text view read */
	W_TEXT_WRITE, /* text view write: several values */
	W_TRACE_READ, /* read of the trace stream */
	W_AIO_READ,   /* read of completions from an AIO context */
};

struct waiter {
	struct list_head link; /* in wq->list */
	struct waitq *wq;
	fuse_req_t req;
	struct handle *h;
	enum waiter_kind kind;
	waiter_try_fn try;
	waiter_intr_fn on_interrupt;
	pid_t pid;
	size_t size; /* the request's size */
	/* W_WRITE: the value */
	uint64_t val;
	/*
	 * W_TEXT_WRITE: a copy of the bytes written, where the next number
	 * to apply starts (@pos, with the digits carried into it, @num), how
	 * many numbers the write completes and how many are applied, and the
	 * digits that end it (the handle's once the whole write is applied).
	 */
	char *tbuf;
	size_t pos;
	struct counter_text_num num, tail;
	uint64_t owner; /* the writer's FUSE lock owner */
	size_t nvals, next;
};

/**
 * struct watcher - something other than a FUSE request that wants to hear
 * about every wake-up of a counter, with the kernel's wake key (EPOLLIN for
 * a write or a signal, EPOLLOUT for a read).  AIO's IOCB_CMD_POLL on a
 * counter is one.  wake() may unlink the watcher (and free it).
 */
struct watcher {
	struct list_head link; /* in cnode->watchers */
	void (*wake)(struct watcher *wt, unsigned int key);
};

/* cred.c: who asks (from a FUSE request) and what a thing allows. */
struct cred {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups, malloc'ed */
	int ngroups;
};

/* The owner and permission bits of a counter, or of an AIO context. */
struct perm {
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

#define MAY_READ 4u
#define MAY_WRITE 2u

bool cred_may(const struct cred *c, struct perm p, unsigned int mask);
void cred_free(struct cred *c);
/* cred.c: the caller of @req, its supplementary groups included; 0 or
 * -ENOMEM. */
int cred_from_req(fuse_req_t req, struct cred *c);

/* A counter: one eventfd, reachable as NAME and text/NAME. */
struct cnode {
	struct list_head all;			 /* fs->counters, in id order */
	struct cnode *next_by_id, *next_by_name; /* hash chains */
	struct evfdfs *fs;
	uint64_t id;
	char *name; /* NULL once unlinked */
	struct counter c;
	unsigned int refs; /* directory entry + open handles + AIO refs */
	uint64_t nlookup;  /* the kernel's lookup count (both views) */
	struct list_head handles; /* open handles, for poll notification */
	struct waitq wq;	  /* parked reads and writes */
	struct list_head watchers;
	unsigned int wake_key; /* keys gathered while the queue runs */
	mode_t mode;	       /* permission bits only */
	uid_t uid;
	gid_t gid;
	struct timespec atime, mtime, ctime;
	bool busy;     /* inside cnode_changed() */
	pid_t creator; /* the process that created it */
};

/* How trace and status name a counter: its name, or "(unlinked)" for one
 * without (removed, or anonymous: the shim's eventfd()). */
static inline const char *cnode_label(const struct cnode *cn)
{
	return cn->name ? cn->name : "(unlinked)";
}

/*
 * Trace a counter event: "EVENT NAME id=ID pid=PID" and @fmt's keys.  The
 * arguments are not evaluated when nobody reads the trace.
 */
#define TRACE_CN(cn, ev, pid, fmt, ...)                                     \
	do {                                                                \
		const struct cnode *cn_ = (cn);                             \
		if (trace_on(cn_->fs))                                      \
			trace_emit(cn_->fs, cnode_perm(cn_),                \
				   ev " %s id=%llu pid=%d" fmt,             \
				   cnode_label(cn_),                        \
				   (unsigned long long)cn_->id, (int)(pid), \
				   ##__VA_ARGS__);                          \
	} while (0)

static inline struct perm cnode_perm(const struct cnode *cn)
{
	return (struct perm){ .mode = cn->mode,
			      .uid = cn->uid,
			      .gid = cn->gid };
}

enum handle_kind {
	H_COUNTER, /* NAME: binary eventfd semantics */
	H_TEXT,	   /* text/NAME */
	H_STATUS,
	H_TRACE,
	H_AIO,
	H_AIOTXT,
};

struct trace_sub;

/* One open file description of the mount (fuse_file_info.fh). */
struct handle {
	enum handle_kind kind;
	struct evfdfs *fs;
	uint64_t id;
	struct list_head link; /* in cnode->handles, or fs->handles_other */
	struct cnode *cn;      /* H_COUNTER, H_TEXT */
	pid_t pid;	       /* the opener */
	pid_t poll_pid;	       /* the newest poller, while ph is set */
	struct fuse_pollhandle *ph; /* newest poll handle, or NULL */
	unsigned int
		poll_events; /* interest of the pollers since the last notify */
	int open_flags;
	struct perm owner; /* the opener's: an AIO context is theirs alone */
	union {
		struct {
			char *buf;
			size_t len;
		} status;
		/*
		 * H_TEXT: the rest of a line that a short read left behind;
		 * the digits that ended the last write (a number not yet
		 * ended by white space) and the file table that wrote them
		 * (the FUSE lock owner: its close(2) ends the number).
		 */
		struct {
			char rest[COUNTER_TEXT_LINE_MAX + 1]; /* and the NUL */
			uint8_t len;
			uint64_t val; /* the value that line carries */
			struct counter_text_num pend;
			uint64_t pend_owner;
		} text;
		struct trace_sub *trace;
		struct aiod_ctx *aio;
	} u;
};

/* Trace buffers: what an open reserves of -o trace_max; a reader's first
 * buffer.  The size trace reports, and where only `tail` reads (trace.c). */
#define TRACE_RING_MIN 2048u
#define TRACE_SIZE_BASE (1ull << 62)
#define TRACE_TAIL_OFFSET ((off_t)1 << 61)

struct evfdfs_opts {
	unsigned int trace_buf; /* bytes buffered per trace reader, at most */
	size_t trace_max;	/* bytes buffered for all trace readers */
	uint64_t aio_max;	/* daemon-wide limit on io_setup capacity */
	int aio_workers;	/* worker threads for blocking file I/O */
	unsigned int aio_user_share; /* percent (aio_user.c) */
};

struct evfdfs {
	struct fuse_session *se;
	struct evfdfs_opts opts;
	uid_t uid; /* the mounter: owner of root and fixed files */
	gid_t gid;
	struct timespec start;	    /* CLOCK_MONOTONIC at mount: trace times */
	struct timespec start_real; /* times of the fixed files */
	uint64_t next_id;	    /* next counter id */
	uint64_t next_handle_id;
	struct list_head counters;
	unsigned int ncounters;
	struct cnode **by_id; /* hash tables, nbuckets each */
	struct cnode **by_name;
	unsigned int nbuckets;
	struct list_head handles_other; /* status, trace, aio handles */
	struct waitq trace_wq;		/* parked trace reads */
	struct list_head trace_subs;	/* readers, by credentials (trace.c) */
	uint64_t trace_seq;
	char *mountpoint; /* absolute: the AIO side tells our files apart */
	struct aiod *aio; /* NULL until aiod_init() */
	int epfd;	  /* the event loop */
	bool exiting;

	/* trace.c: events formatted for some reader, their bytes, the time
	 * of the last (CLOCK_MONOTONIC); bytes the readers' buffers hold;
	 * an open was refused (logged once) */
	uint64_t trace_formatted, trace_bytes;
	struct timespec trace_last;
	size_t trace_held;
	unsigned int trace_nsubs;
	bool trace_refusing;
};

static inline struct evfdfs *evfdfs_from_req(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* What a handle's events are about: its counter, else its opener's. */
static inline struct perm handle_perm(const struct handle *h)
{
	return h->cn ? cnode_perm(h->cn) : h->owner;
}

static inline struct handle *handle_of(const struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

/* A growable text buffer (sbuf.c). */
struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * An event-loop source (loop.c): a descriptor in the loop's epoll set
 * and the function that serves it.
 */
struct loop_source {
	int fd;
	void (*ready)(struct loop_source *src, uint32_t events);
	void *data;
};

int loop_add(struct evfdfs *fs, struct loop_source *src, uint32_t events);
void loop_del(struct evfdfs *fs, struct loop_source *src);

/* log.c: one line, with a level, to stderr or, in the background, syslog. */
void evfdfs_log(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void evfdfs_log_init(void);
void evfdfs_log_to_syslog(void);

/* fs.c: the counter table */
int fs_init(struct evfdfs *fs);
void fs_fini(struct evfdfs *fs);
struct cnode *fs_lookup_name(struct evfdfs *fs, const char *name);
struct cnode *fs_lookup_ino(struct evfdfs *fs, fuse_ino_t ino, bool *text);
int fs_create(struct evfdfs *fs, const char *name, mode_t mode, uid_t uid,
	      gid_t gid, struct cnode **out);
void fs_unlink(struct evfdfs *fs, struct cnode *cn);
int fs_rename(struct evfdfs *fs, struct cnode *cn, const char *newname);
void cnode_get(struct cnode *cn);
void cnode_put(struct cnode *cn);
void cnode_forget(struct cnode *cn, uint64_t nlookup);
bool fs_name_reserved(const char *name);
bool fs_name_valid(const char *name);
fuse_ino_t cnode_ino(const struct cnode *cn, bool text);

/* waitq.c: parked requests */
void waitq_init(struct waitq *wq);
struct waiter *waiter_new(fuse_req_t req, struct handle *h,
			  enum waiter_kind kind, waiter_try_fn try,
			  size_t size);
void waiter_free(struct waiter *w);
void waitq_park(struct waitq *wq, struct waiter *w);
void waitq_read(struct waitq *wq, fuse_req_t req, struct handle *h,
		enum waiter_kind kind, waiter_try_fn try, size_t size,
		int flags);
bool waitq_run(struct waitq *wq);
void waitq_abort(struct waitq *wq, int err);
unsigned int waitq_count(const struct waitq *wq, enum waiter_kind kind);

/* cnode.c: counter operations with wake-ups, notifications and tracing */
void cnode_read(fuse_req_t req, struct handle *h, size_t size, int flags);
void cnode_write(fuse_req_t req, struct handle *h, const char *buf, size_t size,
		 int flags);
void cnode_text_write(fuse_req_t req, struct handle *h, const char *buf,
		      size_t size, int flags, uint64_t owner);
int cnode_text_flush(struct handle *h, uint64_t owner, pid_t pid);
void cnode_text_release(struct handle *h);
unsigned int cnode_poll(const struct handle *h);
void cnode_changed(struct cnode *cn);
void cnode_signal(struct cnode *cn, pid_t pid, uint64_t ctx_id);
int cnode_set_value(struct cnode *cn, uint64_t val, pid_t pid);
void cnode_set_semaphore(struct cnode *cn, bool on, pid_t pid);
void cnode_watch(struct cnode *cn, struct watcher *wt);
void cnode_unwatch(struct watcher *wt);
unsigned int cnode_pollers(const struct cnode *cn);
void handle_notify(struct handle *h, unsigned int key);
void handle_set_poll(struct handle *h, struct fuse_pollhandle *ph,
		     unsigned int events, pid_t pid);

/* trace.c: the live event stream */
bool trace_on(const struct evfdfs *fs);
void trace_emit(struct evfdfs *fs, struct perm about, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int trace_open(struct evfdfs *fs, struct handle *h, struct cred *reader);
void trace_release(struct handle *h);
void trace_read(fuse_req_t req, struct handle *h, size_t size, off_t off,
		int flags);
unsigned int trace_poll(struct handle *h);
off_t trace_size(const struct evfdfs *fs, const struct handle *h);
void trace_status(const struct evfdfs *fs, struct sbuf *sb);

/* status.c: the snapshot file */
int status_snapshot(struct evfdfs *fs, const struct cred *reader, char **buf,
		    size_t *len);

/* ops.c */
extern const struct fuse_lowlevel_ops evfdfs_ops;
void handle_free(struct handle *h);

#endif /* EVFDFS_I_H */
