// SPDX-License-Identifier: GPL-2.0-only
/*
 * evfdfs-trace2svg [TRACEFILE]: a captured trace (the lines of an evfdfs
 * mount's `trace` file) as an SVG sequence diagram, to print or hand out.
 * Processes (pids) are lifelines at the sides, counters and AIO contexts
 * lifelines between them; each event is one arrow, time going down: a
 * write from its process to the counter, a read back, park and wake as
 * dashed arrows, a completion's signal from its AIO context.  A process
 * blocked on a counter gets a bar on its lifeline from park to release.
 * The SVG is self-contained (no fonts, styles or scripts from elsewhere).
 *
 * Each lifeline is a <g class="lifeline" data-kind=pid|counter|aio>, each
 * event a <g class="event" data-seq=SEQ data-event=EVENT>, each gap in the
 * trace a <g class="gap">, for whoever reads the SVG as data.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tparse.h"

#define COL_W 180
#define LEFT 120 /* the time column */
#define ROW_H 34
#define HEAD_H 46

enum kind { K_PID, K_COUNTER, K_AIO };

struct life {
	enum kind kind;
	char key[140];	 /* "1234", "#7" or a name, "aio:3" */
	char label[140]; /* what the header says */
	char sub[64];	 /* its second line */
	int side;	 /* pids: -1 left (producers), 1 right */
	int col;
};

struct bar {
	int col, from, to; /* rows */
	int pid;
	char ctr[140];
};

static struct life *lives;
static int nlives, caplives;
static struct bar *bars;
static int nbars, capbars;
static char **lines;
static int nlines, caplines;

static void *xgrow(void *p, int *cap, int need, size_t size)
{
	if (need <= *cap)
		return p;
	*cap = need * 2 + 16;
	p = realloc(p, (size_t)*cap * size);
	if (!p) {
		perror("evfdfs-trace2svg");
		exit(1);
	}
	return p;
}

static struct life *find(enum kind kind, const char *key)
{
	for (int i = 0; i < nlives; i++)
		if (lives[i].kind == kind && !strcmp(lives[i].key, key))
			return &lives[i];
	return NULL;
}

static struct life *add(enum kind kind, const char *key)
{
	struct life *l = find(kind, key);

	if (l)
		return l;
	lives = xgrow(lives, &caplives, nlives + 1, sizeof(*lives));
	l = &lives[nlives++];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	snprintf(l->key, sizeof(l->key), "%s", key);
	return l;
}

/* Aliases of counters known by name only (an older daemon's rename). */
struct alias {
	char from[140], to[140];
};
static struct alias *aliases;
static int naliases, capaliases;

static const char *counter_key(const struct tev *e, char *buf, size_t len)
{
	const char *id = tev_get(e, "id");

	if (id) {
		snprintf(buf, len, "#%s", id);
		return buf;
	}
	snprintf(buf, len, "%s", tf_unnamed(e->obj) ? "(unlinked)" : e->obj);
	for (int i = naliases - 1; i >= 0; i--)
		if (!strcmp(aliases[i].from, buf)) {
			snprintf(buf, len, "%s", aliases[i].to);
			break;
		}
	return buf;
}

static bool producer_event(const char *ev)
{
	return !strcmp(ev, "write") || !strcmp(ev, "create") ||
	       !strcmp(ev, "set") || !strcmp(ev, "unlink") ||
	       !strcmp(ev, "rename");
}

/* First pass: who takes part, and which side a process goes. */
static void learn(const struct tev *e)
{
	const char *pid = tev_get(e, "pid");
	char key[140];

	if (!strcmp(e->ev, "dropped"))
		return;
	if (tev_is_aio(e)) {
		struct life *l = add(K_AIO, e->obj);

		snprintf(l->label, sizeof(l->label), "%s", e->obj);
		snprintf(l->sub, sizeof(l->sub), "AIO context");
	} else if (*e->obj) {
		struct life *l;

		counter_key(e, key, sizeof(key));
		l = find(K_COUNTER, key);
		if (!l) {
			l = add(K_COUNTER, key);
			snprintf(l->label, sizeof(l->label), "%s", e->obj);
			if (tev_get(e, "id"))
				snprintf(l->sub, sizeof(l->sub), "counter #%s",
					 tev_get(e, "id"));
			else
				snprintf(l->sub, sizeof(l->sub), "counter");
		} else if (tf_unnamed(l->label) && !tf_unnamed(e->obj)) {
			snprintf(l->label, sizeof(l->label), "%s", e->obj);
		}
		if (!strcmp(e->ev, "rename") && tev_get(e, "to")) {
			size_t ll = strlen(l->label);

			snprintf(l->label + ll, sizeof(l->label) - ll, " → %s",
				 tev_get(e, "to"));
		}
		if (!strcmp(e->ev, "rename") && tev_get(e, "to") &&
		    !tev_get(e, "id")) {
			aliases = xgrow(aliases, &capaliases, naliases + 1,
					sizeof(*aliases));
			snprintf(aliases[naliases].from,
				 sizeof(aliases[0].from), "%s",
				 tev_get(e, "to"));
			snprintf(aliases[naliases].to, sizeof(aliases[0].to),
				 "%s", key);
			naliases++;
		}
	}
	if (pid && atoi(pid) > 0 && !find(K_PID, pid)) {
		struct life *l = add(K_PID, pid);

		snprintf(l->label, sizeof(l->label), "pid %s", pid);
		snprintf(l->sub, sizeof(l->sub), "process");
		l->side = producer_event(e->ev) ? -1 : 1;
	}
}

static void layout(void)
{
	int col = 0;

	for (int i = 0; i < nlives; i++)
		if (lives[i].kind == K_PID && lives[i].side < 0)
			lives[i].col = col++;
	for (int i = 0; i < nlives; i++)
		if (lives[i].kind == K_COUNTER)
			lives[i].col = col++;
	for (int i = 0; i < nlives; i++)
		if (lives[i].kind == K_AIO)
			lives[i].col = col++;
	for (int i = 0; i < nlives; i++)
		if (lives[i].kind == K_PID && lives[i].side > 0)
			lives[i].col = col++;
}

static int col_x(int col)
{
	return LEFT + COL_W / 2 + col * COL_W;
}

/* ---- output --------------------------------------------------------------- */

static void xml_text(const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", stdout);
			break;
		case '<':
			fputs("&lt;", stdout);
			break;
		case '>':
			fputs("&gt;", stdout);
			break;
		case '"':
			fputs("&quot;", stdout);
			break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				putchar(*s);
		}
	}
}

struct astyle {
	const char *name, *colour, *dash, *legend;
};

static const struct astyle styles[] = {
	{ "write", "#1a7f37", NULL, "write: process adds to counter" },
	{ "read", "#0969da", NULL, "read: counter gives its value" },
	{ "park", "#cf222e", "6 4", "park: the caller blocks" },
	{ "wake", "#bf8700", "6 4", "wake: a blocked caller goes on" },
	{ "interrupt", "#cf222e", "2 3",
	  "interrupt: blocked caller signalled" },
	{ "signal", "#8250df", NULL, "signal: AIO completion +1" },
	{ "aio", "#8250df", "6 4", "aio: submit, complete, ..." },
	{ "other", "#57606a", "2 3", "create, set, poll, notify, ..." },
};

static const struct astyle *style_of(const char *ev)
{
	size_t n = sizeof(styles) / sizeof(styles[0]);

	for (size_t i = 0; i < n - 1; i++)
		if (!strcmp(styles[i].name, ev))
			return &styles[i];
	if (!strncmp(ev, "aio-", 4))
		return &styles[6];
	return &styles[n - 1];
}

static void arrow_path(const struct astyle *st, int x1, int x2, int y)
{
	int mid;

	if (x1 == x2) { /* a loop on the lifeline */
		printf("<path d=\"M%d %d h34 v12 h-30\" fill=\"none\" "
		       "stroke=\"%s\" stroke-width=\"2\"%s%s%s "
		       "marker-end=\"url(#m-%s)\"/>\n",
		       x1 + 4, y - 6, st->colour,
		       st->dash ? " stroke-dasharray=\"" : "",
		       st->dash ? st->dash : "", st->dash ? "\"" : "",
		       st->name);
		return;
	}
	mid = x1 < x2 ? x2 - 6 : x2 + 6;
	printf("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
	       "stroke-width=\"2\"%s%s%s marker-end=\"url(#m-%s)\"/>\n",
	       x1 + (x1 < x2 ? 6 : -6), y, mid, y, st->colour,
	       st->dash ? " stroke-dasharray=\"" : "", st->dash ? st->dash : "",
	       st->dash ? "\"" : "", st->name);
}

static void label_at(int x, int y, const char *anchor, const char *colour,
		     const char *text)
{
	printf("<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" fill=\"%s\" "
	       "class=\"lbl\">",
	       x, y, anchor, colour);
	xml_text(text);
	fputs("</text>\n", stdout);
}

/* What an event says on its arrow. */
static void describe(const struct tev *e, char *buf, size_t len)
{
	const char *val = tev_get(e, "val"), *count = tev_get(e, "count");
	const char *op = tev_get(e, "op"), *res = tev_get(e, "res");
	const char *key = tev_get(e, "key");
	size_t at;

	at = (size_t)snprintf(buf, len, "%s", e->ev);
#define ADD(...)                                                   \
	do {                                                       \
		if (at < len)                                      \
			at += (size_t)snprintf(buf + at, len - at, \
					       __VA_ARGS__);       \
	} while (0)
	if (!strcmp(e->ev, "write") || !strcmp(e->ev, "read") ||
	    !strcmp(e->ev, "refused") || !strcmp(e->ev, "unread")) {
		if (val)
			ADD(" %s", val);
		if (count)
			ADD(" (count %s)", count);
	} else if (!strcmp(e->ev, "signal")) {
		ADD(" +1");
		if (count)
			ADD(" (count %s)", count);
	} else if (!strcmp(e->ev, "set")) {
		if (count)
			ADD(" count=%s", count);
		if (tev_get(e, "semaphore"))
			ADD(" semaphore=%s", tev_get(e, "semaphore"));
	} else if (!strcmp(e->ev, "rename")) {
		if (tev_get(e, "to"))
			ADD(" to %s", tev_get(e, "to"));
	} else if (!strcmp(e->ev, "poll") || !strcmp(e->ev, "notify")) {
		const char *k = tev_get(e, "events") ? tev_get(e, "events")
						     : tev_get(e, "key");
		if (k)
			ADD(" %s", k);
	} else if (!strcmp(e->ev, "aio-setup")) {
		const char *nr = tev_get(e, "nr") ? tev_get(e, "nr")
						  : tev_get(e, "nr_events");
		if (nr)
			ADD(" %s", nr);
	} else if (!strcmp(e->ev, "aio-open")) {
		if (tev_get(e, "form"))
			ADD(" %s", tev_get(e, "form"));
	} else if (!strcmp(e->ev, "aio-release")) {
		if (tev_get(e, "inflight"))
			ADD(" (%s in flight)", tev_get(e, "inflight"));
	} else if (!strncmp(e->ev, "aio-", 4)) {
		/* "submit pread [in]", "complete pread [in] = 12" */
		at = (size_t)snprintf(buf, len, "%s", e->ev + 4);
		if (op)
			ADD(" %s", op);
		if (key)
			ADD(" [%s]", key);
		if (res && (strcmp(e->ev, "aio-submit") || strcmp(res, "0")))
			ADD(" = %s", res);
	} else if (op) {
		ADD(" %s", op);
	}
#undef ADD
}

/* Where an arrow goes: from column, to column (equal: a loop). */
static bool ends(const struct tev *e, const char *last_ctx, int *from, int *to)
{
	const char *pidv = tev_get(e, "pid");
	const struct life *p = pidv ? find(K_PID, pidv) : NULL;
	const struct life *o = NULL;
	char key[140];
	bool toward; /* the process acts on the object */

	if (tev_is_aio(e))
		o = find(K_AIO, e->obj);
	else if (*e->obj)
		o = find(K_COUNTER, counter_key(e, key, sizeof(key)));
	if (!o && !p)
		return false;
	if (!o) {
		*from = *to = p->col;
		return true;
	}
	if (!strcmp(e->ev, "signal")) {
		const char *ctx = tev_get(e, "ctx");
		char ck[40];
		const struct life *c;

		snprintf(ck, sizeof(ck), "aio:%s", ctx ? ctx : last_ctx);
		c = find(K_AIO, ck);
		if (c || p) {
			*from = c ? c->col : p->col;
			*to = o->col;
			return true;
		}
	}
	if (!p) {
		*from = *to = o->col;
		return true;
	}
	toward = !(!strcmp(e->ev, "read") || !strcmp(e->ev, "wake") ||
		   !strcmp(e->ev, "interrupt") || !strcmp(e->ev, "refused") ||
		   !strcmp(e->ev, "aio-complete"));
	*from = toward ? p->col : o->col;
	*to = toward ? o->col : p->col;
	return true;
}

static void bar_open(int col, int row, int pid, const char *ctr)
{
	bars = xgrow(bars, &capbars, nbars + 1, sizeof(*bars));
	bars[nbars] =
		(struct bar){ .col = col, .from = row, .to = -1, .pid = pid };
	snprintf(bars[nbars].ctr, sizeof(bars[0].ctr), "%s", ctr);
	nbars++;
}

static void bar_close(int pid, const char *ctr, int row)
{
	for (int i = 0; i < nbars; i++)
		if (bars[i].to < 0 && bars[i].pid == pid &&
		    !strcmp(bars[i].ctr, ctr))
			bars[i].to = row;
}

/* The rows at which processes were blocked (park to wake/interrupt). */
static void find_bars(void)
{
	struct tev e;
	int row = 0;

	for (int i = 0; i < nlines; i++) {
		const char *pidv;
		const struct life *p;
		char key[140];

		if (tev_parse(lines[i], &e) < 0)
			continue;
		row++;
		pidv = tev_get(&e, "pid");
		p = pidv ? find(K_PID, pidv) : NULL;
		if (!p || tev_is_aio(&e) || !*e.obj)
			continue;
		counter_key(&e, key, sizeof(key));
		if (!strcmp(e.ev, "park") &&
		    !(tev_get(&e, "op") &&
		      !strncmp(tev_get(&e, "op"), "aio", 3)))
			bar_open(p->col, row, atoi(pidv), key);
		else if (!strcmp(e.ev, "wake") || !strcmp(e.ev, "interrupt"))
			bar_close(atoi(pidv), key, row);
	}
	for (int i = 0; i < nbars; i++)
		if (bars[i].to < 0)
			bars[i].to = row + 1;
}

static void legend(int y)
{
	size_t n = sizeof(styles) / sizeof(styles[0]);

	for (size_t i = 0; i < n; i++) {
		int x = 20 + (int)(i % 4) * 290, yy = y + (int)(i / 4) * 22;

		printf("<g class=\"legend\">");
		arrow_path(&styles[i], x, x + 44, yy);
		label_at(x + 52, yy + 4, "start", "#24292f", styles[i].legend);
		puts("</g>");
	}
}

static void svg(const char *title)
{
	int nrows = 0, y0, width, height, top = 92, row = 0;
	char last_ctx[40] = "?", text[512];
	struct tev e;

	for (int i = 0; i < nlines; i++)
		nrows += tev_parse(lines[i], &e) == 0;
	width = LEFT + nlives * COL_W + 20;
	if (width < 1200) /* the legend */
		width = 1200;
	y0 = top + HEAD_H + 36;
	height = y0 + nrows * ROW_H + 30;

	printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	       "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	       "height=\"%d\" viewBox=\"0 0 %d %d\" "
	       "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
	       "font-size=\"13\">\n",
	       width, height, width, height);
	fputs("<title>", stdout);
	xml_text(title);
	fputs("</title>\n<style>.lbl{paint-order:stroke;stroke:#fff;"
	      "stroke-width:4px;stroke-linejoin:round}"
	      ".t{font-family:DejaVu Sans Mono,monospace;font-size:11px}"
	      "</style>\n<defs>\n",
	      stdout);
	for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++)
		printf("<marker id=\"m-%s\" viewBox=\"0 0 10 10\" refX=\"9\" "
		       "refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
		       "orient=\"auto\"><path d=\"M0 0 L10 5 L0 10 z\" "
		       "fill=\"%s\"/></marker>\n",
		       styles[i].name, styles[i].colour);
	puts("</defs>");
	printf("<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width,
	       height);
	printf("<text x=\"20\" y=\"28\" font-size=\"18\" font-weight=\"bold\">");
	xml_text(title);
	puts("</text>");
	legend(52);

	/* lifelines */
	for (int i = 0; i < nlives; i++) {
		const struct life *l = &lives[i];
		int x = col_x(l->col);
		const char *fill = l->kind == K_PID   ? "#ddf4ff"
				   : l->kind == K_AIO ? "#fbefff"
						      : "#fff8c5";
		const char *kind = l->kind == K_PID   ? "pid"
				   : l->kind == K_AIO ? "aio"
						      : "counter";

		printf("<g class=\"lifeline\" data-kind=\"%s\" data-id=\"",
		       kind);
		xml_text(l->key);
		printf("\">\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		       "stroke=\"#8c959f\" stroke-width=\"1.5\"%s/>\n",
		       x, top + HEAD_H, x, height - 10,
		       l->kind == K_PID ? " stroke-dasharray=\"4 4\"" : "");
		printf("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		       "rx=\"%d\" fill=\"%s\" stroke=\"#57606a\"/>\n",
		       x - COL_W / 2 + 8, top, COL_W - 16, HEAD_H,
		       l->kind == K_PID ? 4 : 14, fill);
		printf("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
		       "font-weight=\"bold\" font-size=\"15\">",
		       x, top + 20);
		xml_text(l->label);
		printf("</text>\n<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
		       "fill=\"#57606a\" font-size=\"11\">",
		       x, top + 37);
		xml_text(l->sub);
		puts("</text>\n</g>");
	}
	printf("<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#57606a\" "
	       "font-size=\"11\">seconds</text>\n",
	       LEFT - 10, top + HEAD_H - 4);

	/* blocked bars, under the arrows */
	find_bars();
	for (int i = 0; i < nbars; i++)
		printf("<rect class=\"blocked\" x=\"%d\" y=\"%d\" width=\"10\" "
		       "height=\"%d\" fill=\"#ffebe9\" stroke=\"#cf222e\"/>\n",
		       col_x(bars[i].col) - 5, y0 + (bars[i].from - 1) * ROW_H,
		       (bars[i].to - bars[i].from) * ROW_H);

	/* events */
	for (int i = 0; i < nlines; i++) {
		const struct astyle *st;
		int from, to, y;

		if (tev_parse(lines[i], &e) < 0)
			continue;
		y = y0 + row++ * ROW_H;
		if (!strcmp(e.ev, "dropped")) {
			printf("<g class=\"gap\"><rect x=\"10\" y=\"%d\" "
			       "width=\"%d\" height=\"%d\" fill=\"#fff1e5\"/>",
			       y - ROW_H / 2 + 3, width - 20, ROW_H - 6);
			snprintf(text, sizeof(text),
				 "%llu events dropped here (the reader fell "
				 "behind)",
				 e.ndropped);
			label_at(width / 2, y + 4, "middle", "#bc4c00", text);
			puts("</g>");
			continue;
		}
		if (!strcmp(e.ev, "aio-complete") && tev_get(&e, "ctx"))
			snprintf(last_ctx, sizeof(last_ctx), "%s",
				 tev_get(&e, "ctx"));
		st = style_of(e.ev);
		printf("<g class=\"event\" data-seq=\"%llu\" data-event=\"",
		       e.seq);
		xml_text(e.ev);
		puts("\">");
		snprintf(text, sizeof(text), "%.6f", e.t);
		printf("<text class=\"t\" x=\"%d\" y=\"%d\" text-anchor=\"end\" "
		       "fill=\"#57606a\">%s</text>\n",
		       LEFT - 10, y + 4, text);
		describe(&e, text, sizeof(text));
		if (ends(&e, last_ctx, &from, &to)) {
			int x1 = col_x(from), x2 = col_x(to);

			arrow_path(st, x1, x2, y);
			if (x1 == x2)
				label_at(x1 + 44, y + 4, "start", st->colour,
					 text);
			else
				label_at((x1 + x2) / 2, y - 6, "middle",
					 st->colour, text);
		} else {
			label_at(LEFT + 10, y + 4, "start", st->colour, text);
		}
		puts("</g>");
	}
	puts("</svg>");
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	char title[1200], *line = NULL;
	size_t cap = 0;
	int nevents = 0;
	ssize_t n;
	FILE *in = stdin;
	struct tev e;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: evfdfs-trace2svg [TRACEFILE] > out.svg\n"
			       "  A captured evfdfs trace (standard input"
			       " without TRACEFILE) as an SVG\n"
			       "  sequence diagram on standard output.\n");
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("evfdfs-trace2svg %s\n", EVFDFS_VERSION);
			return 0;
		}
		if ((argv[i][0] == '-' && argv[i][1]) || path) {
			fprintf(stderr,
				"evfdfs-trace2svg: unexpected argument '%s'\n"
				"usage: evfdfs-trace2svg [TRACEFILE]\n",
				argv[i]);
			return 2;
		}
		path = argv[i];
	}
	if (path && strcmp(path, "-")) {
		in = fopen(path, "r");
		if (!in) {
			fprintf(stderr, "evfdfs-trace2svg: %s: %s\n", path,
				strerror(errno));
			return 1;
		}
	}
	while ((n = getline(&line, &cap, in)) > 0) {
		if (tev_parse(line, &e) < 0)
			continue;
		lines = xgrow(lines, &caplines, nlines + 1, sizeof(*lines));
		lines[nlines++] = strdup(line);
		learn(&e);
	}
	free(line);
	if (ferror(in)) {
		fprintf(stderr, "evfdfs-trace2svg: %s: %s\n",
			path ? path : "stdin", strerror(errno));
		return 1;
	}
	if (in != stdin)
		fclose(in);
	layout();
	for (int i = 0; i < nlines; i++)
		nevents +=
			tev_parse(lines[i], &e) == 0 && strcmp(e.ev, "dropped");
	snprintf(title, sizeof(title), "evfdfs trace%s%s: %d events",
		 path ? " " : "", path ? path : "", nevents);
	svg(title);
	return fflush(stdout) ? 1 : 0;
}
