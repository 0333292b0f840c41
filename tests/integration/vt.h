/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A very small terminal: enough of the ANSI/VT100 escapes that full-screen
 * programs use (cursor position, erase, alternate screen, SGR skipped) to
 * read back, as text, what a program drew on a pseudo-terminal.
 */
#ifndef EVFDFS_VT_H
#define EVFDFS_VT_H

#include <stdbool.h>
#include <stddef.h>

struct vt {
	int rows, cols, r, c;
	char (*cell)[5]; /* one UTF-8 character each, "" for blank */
	bool wrap, alt, cursor_hidden;
	int state; /* 0 text, 1 ESC, 2 CSI, 3 OSC */
	char par[64];
	size_t npar;
	char utf[5];
	int ulen, uneed;
};

void vt_init(struct vt *vt, int rows, int cols);
void vt_free(struct vt *vt);
void vt_resize(struct vt *vt, int rows, int cols);
void vt_feed(struct vt *vt, const char *buf, size_t n);

/* Row @r as text (trailing blanks cut) into @out; returns out. */
char *vt_row(const struct vt *vt, int r, char *out, size_t len);

/* The first row holding every one of the NULL-terminated strings, or -1. */
int vt_find(const struct vt *vt, const char *const *all);

/* The whole screen as text, one line per row (for messages). */
char *vt_dump(const struct vt *vt, char *out, size_t len);

#endif /* EVFDFS_VT_H */
