// SPDX-License-Identifier: GPL-2.0-only
/*
 * evfdfs: main, options and the event loop.  The daemon owns its loop:
 * fuse_session_fd() (non-blocking), a signalfd for SIGINT/SIGTERM/SIGHUP and
 * whatever the AIO side registers (loop_add()) sit in one epoll set, and
 * each ready source is served in turn on this one thread.  Blocked callers
 * cost a parked request, never a thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "aiod.h"
#include "evfdfs_i.h"

/* Requests served per wake-up of the FUSE fd before the other sources get
 * their turn. */
#define FUSE_BATCH 64

struct fuse_source {
	struct loop_source src;
	struct evfdfs *fs;
	struct fuse_buf buf;
};

static void fuse_ready(struct loop_source *src, uint32_t events)
{
	struct fuse_source *fsrc = container_of(src, struct fuse_source, src);
	struct fuse_session *se = fsrc->fs->se;
	int i, res;

	(void)events;
	for (i = 0; i < FUSE_BATCH && !fuse_session_exited(se); i++) {
		res = fuse_session_receive_buf(se, &fsrc->buf);
		if (res == -EINTR)
			continue;
		if (res == -EAGAIN)
			break;
		if (res <= 0) {
			/*
			 * 0: unmounted (ENODEV).  ECONNABORTED: unmounted too,
			 * when the kernel still held requests for us (seen on
			 * Linux 6.18 after a few thousand closes, whose
			 * RELEASEs were queued, just before an unmount), or
			 * aborted through /sys/fs/fuse/connections: either
			 * way the end of the mount, not a failure.  Other
			 * errors: the device failed.
			 */
			if (res == -ECONNABORTED)
				evfdfs_log("notice",
					   "the kernel ended the connection "
					   "with requests pending (unmounted)");
			else if (res < 0)
				evfdfs_log("error", "reading /dev/fuse: %s",
					   strerror(-res));
			fuse_session_exit(se);
			break;
		}
		fuse_session_process_buf(se, &fsrc->buf);
	}
}

struct signal_source {
	struct loop_source src;
	struct evfdfs *fs;
};

static void signal_ready(struct loop_source *src, uint32_t events)
{
	struct signal_source *ssrc =
		container_of(src, struct signal_source, src);
	struct signalfd_siginfo si;

	(void)events;
	while (read(src->fd, &si, sizeof(si)) == sizeof(si)) {
		evfdfs_log("info", "signal %u: unmounting", si.ssi_signo);
		fuse_session_exit(ssrc->fs->se);
	}
}

static int loop_run(struct evfdfs *fs, const sigset_t *sigs)
{
	struct fuse_source fsrc = { .fs = fs };
	struct signal_source ssrc = { .fs = fs };
	struct epoll_event evs[16];
	int ret = 0, n, i, fl;

	fs->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (fs->epfd < 0)
		return -errno;
	fsrc.src.fd = fuse_session_fd(fs->se);
	fsrc.src.ready = fuse_ready;
	fl = fcntl(fsrc.src.fd, F_GETFL);
	if (fl < 0 || fcntl(fsrc.src.fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		ret = -errno;
		goto err_close_epoll;
	}
	ssrc.src.fd = signalfd(-1, sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ssrc.src.fd < 0) {
		ret = -errno;
		goto err_close_epoll;
	}
	ssrc.src.ready = signal_ready;
	ret = loop_add(fs, &fsrc.src, EPOLLIN);
	if (!ret)
		ret = loop_add(fs, &ssrc.src, EPOLLIN);
	if (!ret)
		ret = aiod_init(fs);
	if (ret)
		goto err_close_signalfd;

	while (!fuse_session_exited(fs->se)) {
		n = epoll_wait(fs->epfd, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (i = 0; i < n && !fuse_session_exited(fs->se); i++) {
			struct loop_source *src = evs[i].data.ptr;

			src->ready(src, evs[i].events);
		}
	}
	free(fsrc.buf.mem);
err_close_signalfd:
	close(ssrc.src.fd);
err_close_epoll:
	if (ret)
		evfdfs_log("error", "event loop: %s", strerror(-ret));
	return ret;
}

/*
 * Let go of everything.  The connection is closing (or closed): parked
 * requests are freed without a reply, and the kernel answers their callers
 * ENOTCONN when the device closes; open handles get no RELEASE.
 */
static void fs_shutdown(struct evfdfs *fs)
{
	struct list_head *pos;

	list_for_each (pos, &fs->counters) {
		struct cnode *cn = list_entry(pos, struct cnode, all);

		waitq_abort(&cn->wq, 0);
		while (!list_empty(&cn->handles)) {
			struct handle *h = list_entry(cn->handles.next,
						      struct handle, link);

			list_del_init(&h->link);
			if (h->ph)
				fuse_pollhandle_destroy(h->ph);
			free(h);
		}
	}
	waitq_abort(&fs->trace_wq, 0);
	while (!list_empty(&fs->handles_other))
		handle_free(list_entry(fs->handles_other.next, struct handle,
				       link));
	aiod_fini(fs);
	if (fs->epfd >= 0)
		close(fs->epfd);
	fs_fini(fs);
}

struct cmdline {
	const char *source; /* from mount.fuse3: the fstab's first field,
				 * which evfdfs ignores */
	const char *mountpoint;
	int nonopts;
	unsigned int trace_buf;
	unsigned long trace_max;
	long long aio_max; /* 0: aio-max-nr's value */
	int aio_user_share;
	int aio_workers;
};

enum {
	KEY_TRACE_BUF,
	KEY_TRACE_MAX,
	KEY_AIO_MAX,
	KEY_AIO_USER_SHARE,
	KEY_AIO_WORKERS,
	KEY_NOT_HERE, /* libfuse's thread options: one thread serves all */
};

static const struct fuse_opt evfdfs_opts[] = {
	FUSE_OPT_KEY("trace_buf=", KEY_TRACE_BUF),
	FUSE_OPT_KEY("trace_max=", KEY_TRACE_MAX),
	FUSE_OPT_KEY("aio_max=", KEY_AIO_MAX),
	FUSE_OPT_KEY("aio_user_share=", KEY_AIO_USER_SHARE),
	FUSE_OPT_KEY("aio_workers=", KEY_AIO_WORKERS),
	FUSE_OPT_KEY("clone_fd", KEY_NOT_HERE),
	FUSE_OPT_KEY("max_idle_threads=", KEY_NOT_HERE),
	FUSE_OPT_KEY("max_threads=", KEY_NOT_HERE),
	FUSE_OPT_END
};

/* "NAME=N" with N a decimal number from @min to @max; -1 otherwise. */
static long long opt_number(const char *arg, long long min, long long max)
{
	const char *v = strchr(arg, '=') + 1;
	unsigned long long n;
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n < (unsigned long long)min ||
	    n > (unsigned long long)max)
		return -1;
	return (long long)n;
}

/*
 * Our options, and the positional arguments: mount.fuse3 (fstab, mount -t
 * evfdfs) runs "evfdfs SOURCE MOUNTPOINT -o OPTS", where a plain command
 * line has only MOUNTPOINT.  Every error names the argument.
 */
static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	static const struct {
		long long min, max;
	} range[] = {
		[KEY_TRACE_BUF] = { 1024, UINT32_MAX },
		[KEY_TRACE_MAX] = { TRACE_RING_MIN, INT64_MAX },
		[KEY_AIO_MAX] = { 1, INT64_MAX },
		[KEY_AIO_USER_SHARE] = { 1, 100 },
		[KEY_AIO_WORKERS] = { 1, 1024 },
	};
	struct cmdline *cl = data;
	long long n;

	(void)outargs;
	switch (key) {
	case KEY_TRACE_BUF:
	case KEY_TRACE_MAX:
	case KEY_AIO_MAX:
	case KEY_AIO_USER_SHARE:
	case KEY_AIO_WORKERS:
		n = opt_number(arg, range[key].min, range[key].max);
		if (n < 0) {
			fprintf(stderr,
				"evfdfs: -o %s: expected a number from %lld "
				"to %lld\n",
				arg, range[key].min, range[key].max);
			return -1;
		}
		if (key == KEY_TRACE_BUF)
			cl->trace_buf = (unsigned int)n;
		else if (key == KEY_TRACE_MAX)
			cl->trace_max = (unsigned long)n;
		else if (key == KEY_AIO_MAX)
			cl->aio_max = n;
		else if (key == KEY_AIO_USER_SHARE)
			cl->aio_user_share = (int)n;
		else
			cl->aio_workers = (int)n;
		return 0;
	case KEY_NOT_HERE:
		fprintf(stderr,
			"evfdfs: -o %s: not an evfdfs option (one thread "
			"serves every request; see --help)\n",
			arg);
		return -1;
	case FUSE_OPT_KEY_NONOPT:
		break;
	default:
		return 1;
	}
	switch (cl->nonopts++) {
	case 0:
		cl->mountpoint = arg;
		return 0;
	case 1:
		cl->source = cl->mountpoint;
		cl->mountpoint = arg;
		return 0;
	default:
		fprintf(stderr, "evfdfs: unexpected argument '%s'\n", arg);
		return -1;
	}
}

/*
 * The system's limit on kernel AIO capacity, read once at start: the
 * default of -o aio_max, so that a context on the mount is refused where
 * io_setup would be.  65536 (the kernel's default) if it cannot be read.
 */
static uint64_t aio_max_nr(void)
{
	unsigned long long v = 65536;
	FILE *f = fopen("/proc/sys/fs/aio-max-nr", "re");

	if (!f)
		return v;
	if (fscanf(f, "%llu", &v) != 1)
		v = 65536;
	fclose(f);
	return v;
}

/* What works here: not fuse_cmdline_help(), whose thread options do not. */
static void usage(const char *prog)
{
	printf("usage: %s [options] MOUNTPOINT\n"
	       "       %s SOURCE MOUNTPOINT -o OPTIONS   (as mount(8) runs it)\n"
	       "\n"
	       "A FUSE filesystem whose files are Linux eventfd counters, with an\n"
	       "AIO control file.  See evfdfs(8) and evfdfs(7).\n"
	       "\n"
	       "options:\n"
	       "    -f                     stay in the foreground, log to stderr\n"
	       "                           (else: go to the background, log to syslog)\n"
	       "    -d, -o debug           -f, with libfuse's debug log\n"
	       "    -o allow_other         let every user in (file modes still apply)\n"
	       "    -o allow_root          let root in, besides the owner\n"
	       "    -o auto_unmount        unmount when the daemon dies\n"
	       "    -o ro,noexec,...       generic mount options, see mount(8)\n"
	       "    -o trace_buf=BYTES     buffer per reader of the trace file (65536)\n"
	       "    -o trace_max=BYTES     buffers of all trace readers together (8388608)\n"
	       "    -o aio_max=N           daemon-wide AIO capacity (aio-max-nr's value)\n"
	       "    -o aio_user_share=PCT  a user's share of AIO slots and buffers (50)\n"
	       "    -o aio_workers=N       threads for blocking file I/O (2)\n"
	       "    -h, --help             print this help and exit\n"
	       "    -V, --version          print the versions and exit\n",
	       prog, prog);
}

/*
 * evfdfs's version, libfuse's, then the kernel interface's (and what
 * fusermount3 says, which it prints itself): line-buffered, so that the
 * order holds on a pipe too, where libfuse's printf would otherwise come
 * after fusermount3's output.
 */
static void version(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("evfdfs version %s\n", EVFDFS_VERSION);
	printf("FUSE library version %s\n", fuse_pkgversion());
	fuse_lowlevel_version();
	fflush(stdout);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct cmdline cl = { .trace_buf = 65536,
			      .trace_max = 8u << 20,
			      .aio_user_share = 50,
			      .aio_workers = 2 };
	struct fuse_cmdline_opts opts;
	struct evfdfs fs;
	struct rlimit fsize;
	sigset_t sigs;
	int ret = 1;

	evfdfs_log_init();
	memset(&fs, 0, sizeof(fs));
	fs.epfd = -1;
	if (fuse_opt_parse(&args, &cl, evfdfs_opts, opt_proc) != 0)
		return 1;
	if (fuse_parse_cmdline(&args, &opts) != 0)
		return 1;
	if (opts.show_help) {
		usage(argv[0]);
		ret = 0;
		goto err_free_args;
	}
	if (opts.show_version) {
		version();
		ret = 0;
		goto err_free_args;
	}
	if (!cl.mountpoint) {
		fprintf(stderr,
			"usage: %s [options] MOUNTPOINT (--help for more)\n",
			argv[0]);
		goto err_free_args;
	}
	fs.opts.trace_buf = cl.trace_buf;
	fs.opts.trace_max = cl.trace_max;
	fs.opts.aio_max = cl.aio_max ? (uint64_t)cl.aio_max : aio_max_nr();
	fs.opts.aio_user_share = (unsigned int)cl.aio_user_share;
	fs.opts.aio_workers = cl.aio_workers;
	fs.mountpoint = realpath(cl.mountpoint, NULL);
	if (!fs.mountpoint)
		fs.mountpoint = strdup(cl.mountpoint);

	/*
	 * The kernel checks permissions from the modes we report; the name
	 * shows in /proc/mounts as "evfdfs ... fuse.evfdfs".
	 */
	if (fuse_opt_add_arg(&args, "-odefault_permissions") ||
	    fuse_opt_add_arg(&args, "-osubtype=evfdfs") ||
	    fuse_opt_add_arg(&args, "-ofsname=evfdfs")) {
		fprintf(stderr, "evfdfs: out of memory\n");
		goto err_free_args;
	}

	if (fs_init(&fs)) {
		fprintf(stderr, "evfdfs: out of memory\n");
		goto err_free_args;
	}
	fs.uid = getuid();
	fs.gid = getgid();
	clock_gettime(CLOCK_MONOTONIC, &fs.start);
	clock_gettime(CLOCK_REALTIME, &fs.start_real);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * AIO writes are done by the daemon for its submitters, and the
	 * kernel applies the daemon's RLIMIT_FSIZE to them: the submitter's
	 * is applied by the daemon itself (aio_submit.c).  As high as it
	 * goes, and SIGXFSZ (and SIGPIPE) are never the daemon's to die of.
	 */
	if (getrlimit(RLIMIT_FSIZE, &fsize) == 0 &&
	    fsize.rlim_cur != fsize.rlim_max) {
		fsize.rlim_cur = fsize.rlim_max;
		setrlimit(RLIMIT_FSIZE, &fsize);
	}
	signal(SIGXFSZ, SIG_IGN);

	fs.se = fuse_session_new(&args, &evfdfs_ops, sizeof(evfdfs_ops), &fs);
	if (!fs.se)
		goto err_fs_fini;
	if (fuse_session_mount(fs.se, cl.mountpoint) != 0)
		goto err_destroy_session;
	clock_gettime(CLOCK_MONOTONIC, &fs.start); /* trace: since the mount */
	if (fuse_daemonize(opts.foreground) != 0)
		goto err_unmount;
	if (!opts.foreground) {
		evfdfs_log_to_syslog();
	}

	ret = loop_run(&fs, &sigs) ? 1 : 0;

err_unmount:
	fuse_session_unmount(fs.se);
err_destroy_session:
	fs_shutdown(&fs);
	fuse_session_destroy(fs.se);
	fs.se = NULL;
	free(fs.mountpoint);
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
err_fs_fini:
	fs_fini(&fs);
err_free_args:
	free(fs.mountpoint);
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
