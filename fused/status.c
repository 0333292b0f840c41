// SPDX-License-Identifier: GPL-2.0-only
/*
 * The status file: a text snapshot taken at open, our fdinfo (E50).  One
 * line per counter with what /proc/PID/fdinfo shows for a kernel eventfd
 * (count, id, semaphore) and what only the daemon knows (open handles,
 * parked readers and writers, pollers).  AIO contexts add their own lines
 * through aiod_status().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "aiod.h"
#include "evfdfs_i.h"

void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(sb->p + sb->len, sb->cap - sb->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->err = -EINVAL;
			return;
		}
		if ((size_t)n < sb->cap - sb->len) {
			sb->len += (size_t)n;
			return;
		}
		char *np = realloc(sb->p, sb->cap * 2 + (size_t)n);

		if (!np) {
			sb->err = -ENOMEM;
			return;
		}
		sb->p = np;
		sb->cap = sb->cap * 2 + (size_t)n;
	}
}

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
			    "pollers=%u\n",
			    cn->name ? cn->name : "-",
			    (unsigned long long)cn->id,
			    (unsigned long long)cn->c.count, cn->c.semaphore,
			    cn->name != NULL, count_handles(cn),
			    waitq_count(&cn->wq, W_READ) +
				    waitq_count(&cn->wq, W_TEXT_READ),
			    waitq_count(&cn->wq, W_WRITE) +
				    waitq_count(&cn->wq, W_TEXT_WRITE),
			    cnode_pollers(cn));
	}
	if (fs->aio)
		aiod_status(fs, reader, &sb);
	if (sb.err) {
		free(sb.p);
		return sb.err;
	}
	*buf = sb.p;
	*len = sb.len;
	return 0;
}
