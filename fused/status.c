// SPDX-License-Identifier: GPL-2.0-only
/*
 * The status file: a text snapshot taken at open, our fdinfo (E50).  One
 * line per counter with what /proc/PID/fdinfo shows for a kernel eventfd
 * (count, id, semaphore) and what only the daemon knows (open handles,
 * parked readers and writers, pollers).  AIO contexts add their own lines
 * through aiod_status().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "aiod.h"
#include "evfdfs_i.h"

static unsigned int count_handles(const struct cnode *cn)
{
	const struct list_head *pos;
	unsigned int n = 0;

	list_for_each (pos, &cn->handles)
		n++;
	return n;
}

/*
 * A counter that is unlinked and held by nothing but the kernel's lookup
 * count is gone for every user: no path reaches it and no descriptor
 * holds it.  It lingers only until FORGET, which may not come for a long
 * time (the kernel keeps the inode of text/NAME cached after an rm of
 * NAME), so the snapshot leaves it out.
 */
/* The pids of @cn's parked callers of @k1 or @k2, "P,P", or "-". */
static void waiter_pids(struct sbuf *sb, const struct cnode *cn,
			enum waiter_kind k1, enum waiter_kind k2)
{
	const struct list_head *pos;
	const char *sep = "";

	list_for_each (pos, &cn->wq.list) {
		const struct waiter *w = list_entry(pos, struct waiter, link);

		if (w->kind != k1 && w->kind != k2)
			continue;
		sbuf_printf(sb, "%s%d", sep, (int)w->pid);
		sep = ",";
	}
	if (!*sep)
		sbuf_printf(sb, "-");
}

/* The pids of the processes polling @cn. */
static void poller_pids(struct sbuf *sb, const struct cnode *cn)
{
	const struct list_head *pos;
	const char *sep = "";

	list_for_each (pos, &cn->handles) {
		const struct handle *h = list_entry(pos, struct handle, link);

		if (!h->ph)
			continue;
		sbuf_printf(sb, "%s%d", sep, (int)h->poll_pid);
		sep = ",";
	}
	if (!*sep)
		sbuf_printf(sb, "-");
}

static bool cnode_visible(const struct cnode *cn)
{
	return cn->name || cn->refs;
}

static bool shown(const struct cnode *cn, const struct cred *reader)
{
	return cnode_visible(cn) && cred_may(reader, cnode_perm(cn), MAY_READ);
}

/*
 * The snapshot as @reader may see it: only the counters it could read
 * (cred.c), and only its own AIO contexts unless it is root.
 */
int status_snapshot(struct evfdfs *fs, const struct cred *reader, char **buf,
		    size_t *len)
{
	struct sbuf sb = { .cap = 4096 };
	struct list_head *pos;
	unsigned int n = 0;

	sb.p = malloc(sb.cap);
	if (!sb.p)
		return -ENOMEM;
	list_for_each (pos, &fs->counters)
		n += shown(list_entry(pos, struct cnode, all), reader);
	sbuf_printf(&sb, "evfdfs %s counters=%u\n", EVFDFS_VERSION, n);
	list_for_each (pos, &fs->counters) {
		struct cnode *cn = list_entry(pos, struct cnode, all);

		if (!shown(cn, reader))
			continue;
		sbuf_printf(&sb,
			    "counter %s id=%llu count=%llu semaphore=%d "
			    "linked=%d opens=%u readers=%u writers=%u "
			    "pollers=%u creator=%d readpids=",
			    cnode_label(cn), (unsigned long long)cn->id,
			    (unsigned long long)cn->c.count, cn->c.semaphore,
			    cn->name != NULL, count_handles(cn),
			    waitq_count(&cn->wq, W_READ) +
				    waitq_count(&cn->wq, W_TEXT_READ),
			    waitq_count(&cn->wq, W_WRITE) +
				    waitq_count(&cn->wq, W_TEXT_WRITE),
			    cnode_pollers(cn), (int)cn->creator);
		waiter_pids(&sb, cn, W_READ, W_TEXT_READ);
		sbuf_printf(&sb, " writepids=");
		waiter_pids(&sb, cn, W_WRITE, W_TEXT_WRITE);
		sbuf_printf(&sb, " pollpids=");
		poller_pids(&sb, cn);
		sbuf_printf(&sb, "\n");
	}
	if (fs->aio)
		aiod_status(fs, reader, &sb);
	if (reader->uid == 0 || reader->uid == fs->uid)
		trace_status(fs, &sb); /* counts everybody's events */
	if (sb.err) {
		free(sb.p);
		return sb.err;
	}
	*buf = sb.p;
	*len = sb.len;
	return 0;
}
