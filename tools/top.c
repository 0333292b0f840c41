// SPDX-License-Identifier: GPL-2.0-only
/*
 * evfdfs-top MOUNT: a live view of an evfdfs mount for a room.  It sleeps
 * in poll() on `trace` (and the keyboard and its signals) and at every
 * batch of events re-reads `status`, a snapshot taken at open, and
 * redraws: every counter with its value and mode and the pids blocked on
 * it, every AIO context with its requests in flight and completions
 * waiting, and the last events.  No timer: nothing happens, nothing is
 * drawn.  On a terminal it takes the alternate screen (ANSI escapes, no
 * curses); otherwise, or with --plain, it prints one text frame per batch.
 *
 * The pids blocked on a counter come from status (readpids=, writepids=,
 * pollpids=) when the daemon writes them; for one that writes only counts
 * they are worked out from park, wake, interrupt and poll events and
 * checked against status's counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "top.h"
#include "tparse.h"

static int sigpipe_fd[2] = { -1, -1 };
static struct termios saved_tio;
static bool term_taken;

static void on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int e = errno;

	if (write(sigpipe_fd[1], &c, 1) < 0) {
		/* full: a signal of each kind is already waiting */
	}
	errno = e;
}

static void term_write(const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = write(STDOUT_FILENO, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void term_take(void)
{
	struct termios tio = saved_tio;

	tio.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSANOW, &tio);
	/* alternate screen, hidden cursor, no line wrap */
	term_write("\033[?1049h\033[?25l\033[?7l\033[H\033[2J");
	term_taken = true;
}

static void term_give_back(void)
{
	if (!term_taken)
		return;
	term_write("\033[0m\033[?7h\033[?25h\033[?1049l");
	tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	term_taken = false;
}

static void term_size(struct top *t)
{
	struct winsize ws;
	const char *e;

	t->rows = 24;
	t->cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row &&
	    ws.ws_col) {
		t->rows = ws.ws_row;
		t->cols = ws.ws_col;
		return;
	}
	if ((e = getenv("LINES")) && atoi(e) > 0)
		t->rows = atoi(e);
	if ((e = getenv("COLUMNS")) && atoi(e) > 0)
		t->cols = atoi(e);
}

static void *grow(void *p, int *cap, int need, size_t size)
{
	if (need <= *cap)
		return p;
	*cap = need * 2 + 8;
	p = realloc(p, (size_t)*cap * size);
	if (!p) {
		perror("evfdfs-top");
		exit(1);
	}
	return p;
}

/* ---- status ------------------------------------------------------------ */

static unsigned long long getull(const struct tfields *f, int from,
				 const char *key)
{
	const char *v = tf_get(f, from, key);

	return v ? strtoull(v, NULL, 10) : 0;
}

static void status_counter(struct top *t, const struct tfields *f)
{
	static const char *const pidkeys[3] = { "readpids", "writepids",
						"pollpids" };
	struct tctr *c;
	const char *v;

	t->ctr = grow(t->ctr, &t->capctr, t->nctr + 1, sizeof(*t->ctr));
	c = &t->ctr[t->nctr++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s",
		 f->n > 1 && !strchr(f->w[1], '=') ? f->w[1] : "-");
	c->has_id = tf_get(f, 1, "id") != NULL;
	c->id = getull(f, 1, "id");
	if (c->has_id)
		snprintf(c->key, sizeof(c->key), "#%llu", c->id);
	else
		snprintf(c->key, sizeof(c->key), "%s", c->name);
	c->count = getull(f, 1, "count");
	c->sem = getull(f, 1, "semaphore") != 0;
	v = tf_get(f, 1, "linked");
	c->linked = v ? atoi(v) != 0 : !tf_unnamed(c->name);
	c->readers = (int)getull(f, 1, "readers");
	c->writers = (int)getull(f, 1, "writers");
	c->pollers = (int)getull(f, 1, "pollers");
	c->creator = (int)getull(f, 1, "creator");
	for (int i = 0; i < 3; i++) {
		v = tf_get(f, 1, pidkeys[i]);
		if (!v)
			continue;
		snprintf(c->pidbuf[i], sizeof(c->pidbuf[i]), "%s",
			 strcmp(v, "-") ? v : "");
		c->pids[i] = c->pidbuf[i];
	}
}

static void status_aio(struct top *t, const struct tfields *f)
{
	struct tctx *x;
	const char *v;

	t->ctx = grow(t->ctx, &t->capctx, t->nctx + 1, sizeof(*t->ctx));
	x = &t->ctx[t->nctx++];
	memset(x, 0, sizeof(*x));
	x->id = getull(f, 1, "ctx");
	x->pid = (int)getull(f, 1, "pid");
	v = tf_get(f, 1, "form");
	snprintf(x->form, sizeof(x->form), "%s", v ? v : "");
	v = tf_get(f, 1, "open");
	x->open = !v || atoi(v);
	x->nr_events = (unsigned int)getull(f, 1, "nr_events");
	x->inflight = (unsigned int)getull(f, 1, "inflight");
	x->events = (unsigned int)getull(f, 1, "events");
}

/* Re-read the snapshot; false if the mount is gone. */
static bool status_read(struct top *t)
{
	static char buf[1 << 20];
	char path[4096];
	struct tfields f;
	size_t len = 0;
	char *line, *next;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/status", t->mnt);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (len < sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	t->nctr = 0;
	t->nctx = 0;
	for (line = buf; *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			next++;
		if (tf_split(&f, line) < 1)
			continue;
		if (!strcmp(f.w[0], "counter"))
			status_counter(t, &f);
		else if (!strcmp(f.w[0], "aio"))
			status_aio(t, &f);
		else if (!strcmp(f.w[0], "evfdfs") && f.n > 1)
			snprintf(t->version, sizeof(t->version), "%s", f.w[1]);
	}
	return true;
}

/* ---- blocked pids from the trace ---------------------------------------- */

static void blk_del(struct top *t, const char *key, const char *ops, int pid)
{
	int j = 0;

	for (int i = 0; i < t->nblk; i++) {
		struct tblk *b = &t->blk[i];

		if (!(b->pid == pid && strchr(ops, b->op) &&
		      (!key || !strcmp(b->key, key))))
			t->blk[j++] = *b;
	}
	t->nblk = j;
}

static void blk_add(struct top *t, const char *key, char op, int pid,
		    unsigned long long seq)
{
	char ops[2] = { op, 0 };

	blk_del(t, key, ops, pid);
	t->blk = grow(t->blk, &t->capblk, t->nblk + 1, sizeof(*t->blk));
	snprintf(t->blk[t->nblk].key, sizeof(t->blk[0].key), "%s", key);
	t->blk[t->nblk].op = op;
	t->blk[t->nblk].pid = pid;
	t->blk[t->nblk].seq = seq;
	t->nblk++;
}

static void trace_counter_event(struct top *t, const struct tev *e)
{
	const char *id = tev_get(e, "id"), *pidv = tev_get(e, "pid");
	const char *op = tev_get(e, "op");
	int pid = pidv ? atoi(pidv) : 0;
	char key[140];

	if (id)
		snprintf(key, sizeof(key), "#%s", id);
	else
		snprintf(key, sizeof(key), "%s", e->obj);
	if (!strcmp(e->ev, "park") && pid && op) {
		if (!strcmp(op, "read"))
			blk_add(t, key, 'r', pid, e->seq);
		else if (!strcmp(op, "write"))
			blk_add(t, key, 'w', pid, e->seq);
	} else if (!strcmp(e->ev, "poll") && pid) {
		blk_add(t, key, 'p', pid, e->seq);
	} else if ((!strcmp(e->ev, "wake") || !strcmp(e->ev, "interrupt")) &&
		   pid) {
		blk_del(t, key,
			op && !strcmp(op, "read")    ? "r"
			: op && !strcmp(op, "write") ? "w"
						     : "rw",
			pid);
	} else if (!strcmp(e->ev, "rename") && !id && tev_get(e, "to")) {
		for (int i = 0; i < t->nblk; i++)
			if (!strcmp(t->blk[i].key, key))
				snprintf(t->blk[i].key, sizeof(t->blk[i].key),
					 "%s", tev_get(e, "to"));
	}
}

/*
 * The trace gives pids, status the truth about how many: keep, per
 * counter and op, the newest ones up to status's count.
 */
static void blk_reconcile(struct top *t)
{
	int j = 0;

	for (int i = t->nblk - 1; i >= 0; i--) {
		struct tblk *b = &t->blk[i];
		const struct tctr *c = NULL;
		int have = 0, n = 0;

		for (int k = 0; k < t->nctr && !c; k++)
			if (!strcmp(t->ctr[k].key, b->key) ||
			    (!tf_unnamed(t->ctr[k].name) &&
			     !strcmp(t->ctr[k].name, b->key)))
				c = &t->ctr[k];
		if (!c)
			continue;
		n = b->op == 'r'   ? c->readers
		    : b->op == 'w' ? c->writers
				   : c->pollers;
		for (int k = i + 1; k < t->nblk; k++)
			have += t->blk[k].pid != 0 && t->blk[k].op == b->op &&
				!strcmp(t->blk[k].key, b->key);
		if (have >= n)
			b->pid = 0; /* older than the ones that count */
	}
	for (int i = 0; i < t->nblk; i++)
		if (t->blk[i].pid) {
			const struct tblk *b = &t->blk[i];
			bool known = false;

			for (int k = 0; k < t->nctr && !known; k++)
				known = !strcmp(t->ctr[k].key, b->key) ||
					!strcmp(t->ctr[k].name, b->key);
			if (known)
				t->blk[j++] = *b;
		}
	t->nblk = j;
}

void top_pids(const struct top *t, const struct tctr *c, char op, char *buf,
	      size_t len, char sep)
{
	int idx = op == 'r' ? 0 : op == 'w' ? 1 : 2;
	int n = op == 'r' ? c->readers : op == 'w' ? c->writers : c->pollers;
	size_t at = 0;
	int known = 0;

	buf[0] = '\0';
	if (c->pids[idx]) {
		snprintf(buf, len, "%s", *c->pids[idx] ? c->pids[idx] : "-");
		if (sep != ',')
			for (char *p = buf; *p; p++)
				if (*p == ',')
					*p = sep;
		return;
	}
	for (int i = 0; i < t->nblk && at + 16 < len; i++) {
		const struct tblk *b = &t->blk[i];

		if (b->op != op ||
		    (strcmp(b->key, c->key) && strcmp(b->key, c->name)))
			continue;
		at += (size_t)snprintf(buf + at, len - at, "%s%d",
				       known ? (char[]){ sep, 0 } : "", b->pid);
		known++;
	}
	if (n > known && at + 16 < len)
		snprintf(buf + at, len - at, "%s+%d",
			 known ? (char[]){ sep, 0 } : "", n - known);
	else if (!n && !known)
		snprintf(buf, len, "-");
}

/* ---- the trace ------------------------------------------------------------ */

static void event_line(struct top *t, const char *line)
{
	struct tev e;
	size_t n = strcspn(line, "\n");

	if (tev_parse(line, &e) < 0)
		return;
	if (!strcmp(e.ev, "dropped"))
		t->dropped += e.ndropped;
	else if (!tev_is_aio(&e))
		trace_counter_event(t, &e);
	if (e.seq)
		t->lastseq = e.seq;
	free(t->ev[t->evhead]);
	t->ev[t->evhead] = strndup(line, n);
	t->evhead = (t->evhead + 1) % TOP_EVENTS;
	if (t->nev < TOP_EVENTS)
		t->nev++;
	t->batch++;
}

/* Read what the trace has; returns -1 when it is gone. */
static int trace_drain(struct top *t, int fd)
{
	static char buf[1 << 16];
	static size_t have;

	for (;;) {
		char *p, *nl;
		ssize_t n;

		errno = 0;
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		for (p = buf; (nl = strchr(p, '\n')); p = nl + 1)
			event_line(t, p);
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
		if (have == sizeof(buf) - 1) /* a line longer than the buffer */
			have = 0;
	}
}

/* ---- main ----------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: evfdfs-top [--plain] [--no-color] [MOUNT]\n"
		   "  A live view of an evfdfs mount (default $EVFDFS_MOUNT,"
		   " else /tmp/evfdfs).\n"
		   "  --plain     one text frame per batch of events"
		   " (the default when\n"
		   "              standard output is not a terminal)\n"
		   "  --no-color  no colour (also: NO_COLOR set, TERM=dumb)\n"
		   "  q or Ctrl-C quits.\n");
}

/* Returns false when the output is gone (a closed pipe). */
static bool redraw(struct top *t)
{
	blk_reconcile(t);
	top_draw(t);
	if (t->outlen && t->plain) {
		if (fwrite(t->out, 1, t->outlen, stdout) != t->outlen ||
		    fflush(stdout))
			return false;
	} else if (t->outlen) {
		t->out[t->outlen] = '\0';
		term_write(t->out);
	}
	t->batch = 0;
	t->frames++;
	return true;
}

static bool keys(void)
{
	char c[64];
	ssize_t n = read(STDIN_FILENO, c, sizeof(c));

	if (n == 0)
		return false;
	for (ssize_t i = 0; i < n; i++)
		if (c[i] == 'q' || c[i] == 'Q' || c[i] == 3 || c[i] == 4)
			return false;
	return true;
}

int main(int argc, char **argv)
{
	struct top t = { 0 };
	bool no_color = false, plain = false;
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	struct sigaction sa = { .sa_handler = on_signal };
	char path[4096];
	int tfd, rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--plain"))
			plain = true;
		else if (!strcmp(argv[i], "--no-color") ||
			 !strcmp(argv[i], "--no-colour"))
			no_color = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("evfdfs-top %s\n", EVFDFS_VERSION);
			return 0;
		} else if (argv[i][0] == '-' || t.mnt) {
			fprintf(stderr,
				"evfdfs-top: unexpected argument '%s'\n",
				argv[i]);
			usage(stderr);
			return 2;
		} else {
			t.mnt = argv[i];
		}
	}
	if (!t.mnt)
		t.mnt = getenv("EVFDFS_MOUNT") && *getenv("EVFDFS_MOUNT")
				? getenv("EVFDFS_MOUNT")
				: "/tmp/evfdfs";
	setlocale(LC_CTYPE, "");
	t.utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	t.tty = !plain && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	t.plain = !t.tty;
	t.color = t.tty && !no_color && !(nc && *nc) && term && *term &&
		  strcmp(term, "dumb");

	snprintf(path, sizeof(path), "%s/trace", t.mnt);
	tfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (tfd < 0) {
		fprintf(stderr,
			"evfdfs-top: %s: %s (is an evfdfs mounted at %s?)\n",
			path, strerror(errno), t.mnt);
		return 1;
	}
	if (!status_read(&t)) {
		fprintf(stderr, "evfdfs-top: %s/status: %s\n", t.mnt,
			strerror(errno));
		return 1;
	}
	if (pipe2(sigpipe_fd, O_NONBLOCK | O_CLOEXEC) < 0) {
		perror("evfdfs-top: pipe");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (t.tty) {
		sigaction(SIGWINCH, &sa, NULL);
		sigaction(SIGTSTP, &sa, NULL);
		sigaction(SIGCONT, &sa, NULL);
		tcgetattr(STDIN_FILENO, &saved_tio);
		term_size(&t);
		term_take();
		atexit(term_give_back);
	} else {
		t.rows = 0;
		t.cols = 0;
	}
	if (!redraw(&t))
		goto out;

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = tfd, .events = POLLIN },
			{ .fd = sigpipe_fd[0], .events = POLLIN },
			{ .fd = t.tty ? STDIN_FILENO : -1, .events = POLLIN },
		};
		unsigned char sig;
		bool again = false;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("evfdfs-top: poll");
			rc = 1;
			break;
		}
		while (read(sigpipe_fd[0], &sig, 1) == 1) {
			if (sig == SIGWINCH) {
				term_size(&t);
				again = true;
			} else if (sig == SIGTSTP) {
				term_give_back();
				kill(getpid(), SIGSTOP);
			} else if (sig == SIGCONT) {
				if (!term_taken)
					term_take();
				term_size(&t);
				again = true;
			} else {
				goto out;
			}
		}
		if (p[2].revents && !keys())
			break;
		if (p[0].revents) {
			if (trace_drain(&t, tfd) < 0) {
				term_give_back();
				fprintf(stderr,
					"evfdfs-top: %s: the trace ended (%s)\n",
					path, errno ? strerror(errno) : "EOF");
				rc = 1;
				break;
			}
			if (!status_read(&t)) {
				term_give_back();
				fprintf(stderr, "evfdfs-top: %s/status: %s\n",
					t.mnt, strerror(errno));
				rc = 1;
				break;
			}
			again = again || t.batch;
		}
		if (again && !redraw(&t))
			break;
	}
out:
	term_give_back();
	close(tfd);
	for (int i = 0; i < TOP_EVENTS; i++)
		free(t.ev[i]);
	free(t.ctr);
	free(t.ctx);
	free(t.blk);
	free(t.out);
	return rc;
}
