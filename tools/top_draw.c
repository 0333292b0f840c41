// SPDX-License-Identifier: GPL-2.0-only
/*
 * evfdfs-top's frames.  On a terminal: a whole screen, drawn from the
 * top-left corner, each line cut at the width and cleared to its end, so
 * that a frame is one write and never scrolls; values in big digits when
 * they fit, bold and colour (SGR) where allowed.  Otherwise: text, one
 * frame per batch of events, for a pipe, a log or a test.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top.h"
#include "tparse.h"

/* 3-row digits: block elements, or ASCII where the locale is not UTF-8. */
static const char *const big_utf8[10][3] = {
	{ "█▀█", "█ █", "▀▀▀" }, { "▀█ ", " █ ", "▀▀▀" },
	{ "▀▀█", "█▀▀", "▀▀▀" }, { "▀▀█", " ▀█", "▀▀▀" },
	{ "█ █", "▀▀█", "  ▀" }, { "█▀▀", "▀▀█", "▀▀▀" },
	{ "█▀▀", "█▀█", "▀▀▀" }, { "▀▀█", "  █", "  ▀" },
	{ "█▀█", "█▀█", "▀▀▀" }, { "█▀█", "▀▀█", "▀▀▀" },
};

static const char *const big_ascii[10][3] = {
	{ " _ ", "| |", "|_|" }, { "   ", "  |", "  |" },
	{ " _ ", " _|", "|_ " }, { " _ ", " _|", " _|" },
	{ "   ", "|_|", "  |" }, { " _ ", "|_ ", " _|" },
	{ " _ ", "|_ ", "|_|" }, { " _ ", "  |", "  |" },
	{ " _ ", "|_|", "|_|" }, { " _ ", "|_|", " _|" },
};

struct draw {
	struct top *t;
	int row, col;
};

static void raw(struct draw *d, const char *s, size_t n)
{
	struct top *t = d->t;

	if (t->outlen + n + 1 > t->outcap) {
		t->outcap = (t->outlen + n + 1) * 2 + 4096;
		t->out = realloc(t->out, t->outcap);
		if (!t->out) {
			perror("evfdfs-top");
			exit(1);
		}
	}
	memcpy(t->out + t->outlen, s, n);
	t->outlen += n;
}

/* Text, cut at the terminal's width (columns: UTF-8 lead bytes). */
static void put(struct draw *d, const char *s)
{
	size_t n = 0;

	if (!d->t->tty) {
		raw(d, s, strlen(s));
		return;
	}
	for (; s[n]; n++) {
		if (((unsigned char)s[n] & 0xc0) == 0x80)
			continue;
		if (d->col >= d->t->cols)
			break;
		d->col++;
	}
	raw(d, s, n);
}

static void __attribute__((format(printf, 2, 3)))
putf(struct draw *d, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(d, buf);
}

/* Pad with spaces to column @col. */
static void pad(struct draw *d, int col)
{
	while (d->col < col && d->col < d->t->cols)
		put(d, " ");
}

/*
 * SGR: @colour where colour is allowed, else @mono (bold, reverse: no
 * colour, still readable); nothing off a terminal.  "" resets.
 */
static void style(struct draw *d, const char *colour, const char *mono)
{
	const char *s = d->t->color ? colour : mono;
	char buf[32];

	if (!d->t->tty || !s)
		return;
	snprintf(buf, sizeof(buf), "\033[0%s%sm", *s ? ";" : "", s);
	raw(d, buf, strlen(buf));
}

static bool room(const struct draw *d)
{
	return !d->t->tty || d->row < d->t->rows;
}

/* End the line: clear the rest of it; no newline after the last row. */
static void eol(struct draw *d)
{
	style(d, "", "");
	if (d->t->tty) {
		raw(d, "\033[K", 3);
		if (d->row + 1 < d->t->rows)
			raw(d, "\r\n", 2);
	} else {
		raw(d, "\n", 1);
	}
	d->row++;
	d->col = 0;
}

static int ndigits(unsigned long long v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Row @r of @v in big digits. */
static void big(struct draw *d, unsigned long long v, int r)
{
	const char *const(*font)[3] = d->t->utf8 ? big_utf8 : big_ascii;
	char s[24];

	snprintf(s, sizeof(s), "%llu", v);
	for (char *p = s; *p; p++) {
		put(d, font[*p - '0'][r]);
		if (p[1])
			put(d, " ");
	}
}

static const char *ev_colour(const char *ev)
{
	if (!strcmp(ev, "write") || !strcmp(ev, "create"))
		return "1;32";
	if (!strcmp(ev, "read"))
		return "1;36";
	if (!strcmp(ev, "park") || !strcmp(ev, "refused") ||
	    !strcmp(ev, "interrupt"))
		return "1;31";
	if (!strcmp(ev, "wake"))
		return "1;33";
	if (!strcmp(ev, "signal") || !strncmp(ev, "aio-", 4))
		return "1;35";
	return "2";
}

static const char *ctr_label(const struct tctr *c, char *buf, size_t len)
{
	if (tf_unnamed(c->name) || !c->linked)
		snprintf(buf, len, "(unlinked)");
	else
		snprintf(buf, len, "%s", c->name);
	return buf;
}

/* "reading 1234 1240", red while someone is blocked. */
static void who(struct draw *d, const struct tctr *c, char op, const char *what)
{
	char pids[TOP_PIDS_MAX];

	top_pids(d->t, c, op, pids, sizeof(pids), ' ');
	style(d, "2", "");
	putf(d, "%s ", what);
	if (strcmp(pids, "-"))
		style(d, op == 'p' ? "1;33" : "1;31", "1");
	putf(d, "%-10s", pids);
	style(d, "", "");
}

static void counter_big(struct draw *d, const struct tctr *c, int nw, int bw)
{
	char label[128];

	for (int r = 0; r < 3 && room(d); r++) {
		put(d, " ");
		if (r == 0) {
			style(d, "1;36", "1");
			put(d, ctr_label(c, label, sizeof(label)));
		} else if (r == 1) {
			style(d, "2", "");
			putf(d, "#%llu", c->id);
		} else if (c->creator) {
			style(d, "2", "");
			putf(d, "by %d", c->creator);
		}
		style(d, "", "");
		pad(d, 1 + nw + 2);
		style(d, "1",
		      "1"); /* the terminal's own colour: dark or light */
		big(d, c->count, r);
		style(d, "", "");
		pad(d, 1 + nw + 2 + bw + 3);
		if (r == 0) {
			style(d, "1", "1");
			putf(d, "count %llu", c->count);
			style(d, "", "");
			put(d, "   ");
			style(d, c->sem ? "1;33" : "", "");
			put(d, c->sem ? "semaphore" : "normal");
		} else if (r == 1) {
			who(d, c, 'r', "reading");
		} else {
			who(d, c, 'w', "writing");
			put(d, " ");
			who(d, c, 'p', "polling");
		}
		eol(d);
	}
}

static void counter_line(struct draw *d, const struct tctr *c, int nw)
{
	char label[128];

	put(d, " ");
	style(d, "1;36", "1");
	put(d, ctr_label(c, label, sizeof(label)));
	style(d, "", "");
	pad(d, 1 + nw + 1);
	style(d, "1", "1");
	putf(d, "%-8llu", c->count);
	style(d, c->sem ? "1;33" : "", "");
	putf(d, " %-9s ", c->sem ? "semaphore" : "normal");
	who(d, c, 'r', "reading");
	who(d, c, 'w', "writing");
	who(d, c, 'p', "polling");
	eol(d);
}

static void aio_bar(struct draw *d, const struct tctx *x, int width)
{
	int in = 0, ev = 0;
	bool u = d->t->utf8;

	if (!x->nr_events) {
		put(d, "(not set up)");
		return;
	}
	if (width > (int)x->nr_events)
		width = (int)x->nr_events;
	in = (int)(((unsigned long long)x->inflight * (unsigned)width +
		    x->nr_events - 1) /
		   x->nr_events);
	ev = (int)(((unsigned long long)x->events * (unsigned)width +
		    x->nr_events - 1) /
		   x->nr_events);
	if (in > width)
		in = width;
	if (ev > width - in)
		ev = width - in;
	put(d, "[");
	style(d, "1;33", "");
	for (int i = 0; i < in; i++)
		put(d, u ? "▒" : "~");
	style(d, "1;32", "1");
	for (int i = 0; i < ev; i++)
		put(d, u ? "█" : "#");
	style(d, "2", "");
	for (int i = in + ev; i < width; i++)
		put(d, u ? "·" : ".");
	style(d, "", "");
	putf(d, "] %u", x->nr_events);
}

static void aio_line(struct draw *d, const struct tctx *x)
{
	put(d, " ");
	style(d, "1;35", "1");
	putf(d, "aio:%-4llu", x->id);
	style(d, "", "");
	putf(d, " pid %-7d %-6s %s", x->pid, x->form,
	     x->open ? "" : "closing ");
	put(d, "in flight ");
	style(d, "1;33", "1");
	putf(d, "%-4u", x->inflight);
	style(d, "", "");
	put(d, " waiting ");
	style(d, "1;32", "1");
	putf(d, "%-4u ", x->events);
	style(d, "", "");
	aio_bar(d, x, d->t->tty ? d->t->cols - d->col - 8 : 32);
	eol(d);
}

static void event_row(struct draw *d, const char *line)
{
	struct tev e;

	put(d, " ");
	if (tev_parse(line, &e) < 0) {
		put(d, line);
		eol(d);
		return;
	}
	if (!strcmp(e.ev, "dropped")) {
		style(d, "1;31", "7");
		putf(d, "--- %llu events dropped ---", e.ndropped);
		eol(d);
		return;
	}
	style(d, "2", "");
	putf(d, "%11.6f ", e.t);
	style(d, ev_colour(e.ev), "1");
	putf(d, "%-12s ", e.ev);
	style(d, "1", "");
	putf(d, "%-12s", e.obj);
	style(d, "", "");
	for (int i = e.kv; i < e.f.n; i++)
		putf(d, " %s", e.f.w[i]);
	eol(d);
}

static void plain_frame(struct draw *d)
{
	struct top *t = d->t;
	char label[128], pids[3][TOP_PIDS_MAX];

	putf(d, "--- evfdfs-top %s frame %llu: %d counters, %d aio, event %llu",
	     t->mnt, t->frames, t->nctr, t->nctx, t->lastseq);
	if (t->dropped)
		putf(d, ", %llu dropped", t->dropped);
	eol(d);
	for (int i = 0; i < t->nctr; i++) {
		const struct tctr *c = &t->ctr[i];

		top_pids(t, c, 'r', pids[0], sizeof(pids[0]), ',');
		top_pids(t, c, 'w', pids[1], sizeof(pids[1]), ',');
		top_pids(t, c, 'p', pids[2], sizeof(pids[2]), ',');
		putf(d,
		     "counter %s id=%llu count=%llu mode=%s reading=%s "
		     "writing=%s polling=%s",
		     ctr_label(c, label, sizeof(label)), c->id, c->count,
		     c->sem ? "semaphore" : "normal", pids[0], pids[1],
		     pids[2]);
		eol(d);
	}
	for (int i = 0; i < t->nctx; i++) {
		const struct tctx *x = &t->ctx[i];

		putf(d,
		     "aio aio:%llu pid=%d form=%s inflight=%u waiting=%u "
		     "nr_events=%u%s ",
		     x->id, x->pid, x->form, x->inflight, x->events,
		     x->nr_events, x->open ? "" : " closing");
		aio_bar(d, x, 32);
		eol(d);
	}
	for (int i = t->batch < t->nev ? t->batch : t->nev; i > 0; i--) {
		put(d, "event ");
		put(d, t->ev[(t->evhead - i + TOP_EVENTS) % TOP_EVENTS]);
		eol(d);
	}
}

void top_draw(struct top *t)
{
	struct draw d = { .t = t };
	int nw = 8, bw = 3, need, nev;
	char label[128];

	t->outlen = 0;
	if (!t->tty) {
		plain_frame(&d);
		return;
	}
	raw(&d, "\033[H", 3);
	for (int i = 0; i < t->nctr; i++) {
		int l = (int)strlen(
			ctr_label(&t->ctr[i], label, sizeof(label)));
		int b = ndigits(t->ctr[i].count) * 4 - 1;

		nw = l > nw ? (l < 24 ? l : 24) : nw;
		bw = b > bw ? b : bw;
	}
	/* header, blank, title, counters, blank, aio title, contexts,
	 * blank, events title, at least 4 events */
	need = 2 + 1 + 4 * t->nctr + (t->nctx ? 2 + t->nctx : 0) + 2 + 4;
	bool roomy = need <= t->rows && 1 + nw + 2 + bw + 3 + 44 <= t->cols;

	style(&d, "1;7", "1;7");
	putf(&d,
	     " evfdfs-top  %s   evfdfs %s   counters %d   aio %d   "
	     "event %llu",
	     t->mnt, t->version, t->nctr, t->nctx, t->lastseq);
	if (t->dropped)
		putf(&d, "   dropped %llu", t->dropped);
	put(&d, "   q quits");
	pad(&d, t->cols);
	eol(&d);
	eol(&d);
	style(&d, "1;4", "4");
	put(&d, "counters");
	eol(&d);
	for (int i = 0; i < t->nctr && room(&d); i++) {
		if (roomy) {
			counter_big(&d, &t->ctr[i], nw, bw);
			if (room(&d))
				eol(&d);
		} else {
			counter_line(&d, &t->ctr[i], nw);
		}
	}
	if (!t->nctr && room(&d)) {
		style(&d, "2", "");
		put(&d, " none yet: touch NAME in the mount makes one");
		eol(&d);
	}
	if (t->nctx && room(&d)) {
		if (!roomy)
			eol(&d);
		style(&d, "1;4", "4");
		if (room(&d)) {
			put(&d, "aio contexts");
			eol(&d);
		}
		for (int i = 0; i < t->nctx && room(&d); i++)
			aio_line(&d, &t->ctx[i]);
	}
	if (room(&d))
		eol(&d);
	if (room(&d)) {
		style(&d, "1;4", "4");
		put(&d, "events");
		eol(&d);
	}
	nev = t->rows - d.row;
	if (nev > t->nev)
		nev = t->nev;
	for (int i = nev; i > 0 && room(&d); i--)
		event_row(&d, t->ev[(t->evhead - i + TOP_EVENTS) % TOP_EVENTS]);
	while (room(&d))
		eol(&d);
}
