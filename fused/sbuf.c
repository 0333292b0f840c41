// SPDX-License-Identifier: GPL-2.0-only
/*
 * A growable text buffer (struct sbuf) for the files that are snapshots
 * or streams of lines: status.c, trace.c, and the AIO side's status lines.
 * Part of the base layer (fused/LAYERS): it calls nothing of the daemon.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
