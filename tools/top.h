/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * evfdfs-top: what it knows of a mount (from `status`, re-read at every
 * batch of trace events, and from the events themselves) and how it
 * draws it (top_draw.c).
 */
#ifndef EVFDFS_TOP_H
#define EVFDFS_TOP_H

#include <stdbool.h>
#include <stddef.h>

#define TOP_EVENTS 256	 /* events kept for the scrolling list */
#define TOP_PIDS_MAX 160 /* room for a pid list as text */

struct tctr {
	char name[128];
	char key[140]; /* "#ID", or the name when the daemon gives no id */
	unsigned long long id, count;
	bool has_id, linked, sem;
	int readers, writers, pollers, creator;
	/* The pids, comma-separated, "" for none; NULL: status did not say. */
	const char *pids[3];
	char pidbuf[3][TOP_PIDS_MAX];
};

struct tctx {
	unsigned long long id;
	int pid;
	char form[16];
	unsigned int nr_events, inflight, events;
	bool open;
};

/* A pid that the trace says is blocked on a counter (op 'r', 'w', 'p'). */
struct tblk {
	char key[140];
	char op;
	int pid;
	unsigned long long seq;
};

struct top {
	const char *mnt;
	char version[64];
	struct tctr *ctr;
	int nctr, capctr;
	struct tctx *ctx;
	int nctx, capctx;
	struct tblk *blk;
	int nblk, capblk;
	char *ev[TOP_EVENTS]; /* ring of the last events, as lines */
	int evhead, nev;
	int batch; /* events of the last batch (plain mode prints those) */
	unsigned long long lastseq, frames, dropped;
	bool tty, color, utf8, plain;
	int rows, cols;
	char *out; /* the frame being drawn */
	size_t outlen, outcap;
};

/* top_draw.c */
void top_draw(struct top *t);

/* Blocked pids of @op for counter @c as text ("1234 1240", "-"). */
void top_pids(const struct top *t, const struct tctr *c, char op, char *buf,
	      size_t len, char sep);

#endif /* EVFDFS_TOP_H */
