// SPDX-License-Identifier: GPL-2.0-only
/*
 * The very small terminal of vt.h.
 */
#include <stdlib.h>
#include <string.h>

#include "vt.h"

void vt_init(struct vt *vt, int rows, int cols)
{
	memset(vt, 0, sizeof(*vt));
	vt->rows = rows;
	vt->cols = cols;
	vt->wrap = true;
	vt->cell = calloc((size_t)rows * (size_t)cols, sizeof(*vt->cell));
}

void vt_free(struct vt *vt)
{
	free(vt->cell);
	vt->cell = NULL;
}

void vt_resize(struct vt *vt, int rows, int cols)
{
	bool wrap = vt->wrap, alt = vt->alt, hidden = vt->cursor_hidden;

	vt_free(vt);
	vt_init(vt, rows, cols);
	vt->wrap = wrap;
	vt->alt = alt;
	vt->cursor_hidden = hidden;
}

static void clear_cells(struct vt *vt, int from, int to)
{
	for (int i = from; i < to; i++)
		vt->cell[i][0] = '\0';
}

static void scroll_up(struct vt *vt)
{
	memmove(vt->cell, vt->cell + vt->cols,
		(size_t)(vt->rows - 1) * (size_t)vt->cols * sizeof(*vt->cell));
	clear_cells(vt, (vt->rows - 1) * vt->cols, vt->rows * vt->cols);
}

static void newline(struct vt *vt)
{
	if (++vt->r >= vt->rows) {
		vt->r = vt->rows - 1;
		scroll_up(vt);
	}
}

static void put(struct vt *vt, const char *ch, int len)
{
	if (vt->c >= vt->cols) {
		if (vt->wrap) {
			vt->c = 0;
			newline(vt);
		} else {
			vt->c = vt->cols - 1;
		}
	}
	memcpy(vt->cell[vt->r * vt->cols + vt->c], ch, (size_t)len);
	vt->cell[vt->r * vt->cols + vt->c][len] = '\0';
	vt->c++;
}

static int param(const char *p, int i, int dflt)
{
	for (; i > 0 && p; i--) {
		p = strchr(p, ';');
		if (p)
			p++;
	}
	if (!p || *p < '0' || *p > '9')
		return dflt;
	return atoi(p);
}

static void csi(struct vt *vt, char final)
{
	const char *p = vt->par;
	bool priv = *p == '?';
	int a, b;

	if (priv)
		p++;
	a = param(p, 0, 1);
	switch (final) {
	case 'H':
	case 'f':
		b = param(p, 1, 1);
		vt->r = a < 1 ? 0 : (a > vt->rows ? vt->rows : a) - 1;
		vt->c = b < 1 ? 0 : (b > vt->cols ? vt->cols : b) - 1;
		break;
	case 'A':
		vt->r = vt->r - a < 0 ? 0 : vt->r - a;
		break;
	case 'B':
		vt->r = vt->r + a >= vt->rows ? vt->rows - 1 : vt->r + a;
		break;
	case 'C':
		vt->c = vt->c + a >= vt->cols ? vt->cols - 1 : vt->c + a;
		break;
	case 'D':
		vt->c = vt->c - a < 0 ? 0 : vt->c - a;
		break;
	case 'J':
		a = param(p, 0, 0);
		if (a == 0)
			clear_cells(vt, vt->r * vt->cols + vt->c,
				    vt->rows * vt->cols);
		else if (a == 1)
			clear_cells(vt, 0, vt->r * vt->cols + vt->c + 1);
		else
			clear_cells(vt, 0, vt->rows * vt->cols);
		break;
	case 'K':
		a = param(p, 0, 0);
		{
			int c = vt->c < vt->cols ? vt->c : vt->cols - 1;

			if (a == 0)
				clear_cells(vt, vt->r * vt->cols + c,
					    (vt->r + 1) * vt->cols);
			else if (a == 1)
				clear_cells(vt, vt->r * vt->cols,
					    vt->r * vt->cols + c + 1);
			else
				clear_cells(vt, vt->r * vt->cols,
					    (vt->r + 1) * vt->cols);
		}
		break;
	case 'h':
	case 'l':
		if (!priv)
			break;
		if (a == 1049 || a == 47 || a == 1047) {
			vt->alt = final == 'h';
			clear_cells(vt, 0, vt->rows * vt->cols);
		} else if (a == 25) {
			vt->cursor_hidden = final == 'l';
		} else if (a == 7) {
			vt->wrap = final == 'h';
		}
		break;
	default: /* m (SGR) and the rest: no effect on the text */
		break;
	}
}

void vt_feed(struct vt *vt, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)buf[i];

		switch (vt->state) {
		case 1:
			if (ch == '[') {
				vt->state = 2;
				vt->npar = 0;
				vt->par[0] = '\0';
			} else if (ch == ']') {
				vt->state = 3;
			} else {
				vt->state = 0;
			}
			continue;
		case 2:
			if (ch >= 0x40 && ch <= 0x7e) {
				csi(vt, (char)ch);
				vt->state = 0;
			} else if (vt->npar + 1 < sizeof(vt->par)) {
				vt->par[vt->npar++] = (char)ch;
				vt->par[vt->npar] = '\0';
			}
			continue;
		case 3:
			if (ch == 7 || ch == '\\')
				vt->state = 0;
			continue;
		default:
			break;
		}
		if (vt->uneed) {
			vt->utf[vt->ulen++] = (char)ch;
			if (vt->ulen == vt->uneed) {
				put(vt, vt->utf, vt->ulen);
				vt->uneed = 0;
			}
			continue;
		}
		if (ch == 0x1b)
			vt->state = 1;
		else if (ch == '\r')
			vt->c = 0;
		else if (ch == '\n')
			newline(vt);
		else if (ch == '\b')
			vt->c = vt->c ? vt->c - 1 : 0;
		else if (ch >= 0xc0) {
			vt->utf[0] = (char)ch;
			vt->ulen = 1;
			vt->uneed = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2;
		} else if (ch >= 0x20 && ch != 0x7f) {
			char c = (char)ch;

			put(vt, &c, 1);
		}
	}
}

char *vt_row(const struct vt *vt, int r, char *out, size_t len)
{
	size_t at = 0, keep = 0;

	out[0] = '\0';
	if (r < 0 || r >= vt->rows)
		return out;
	for (int c = 0; c < vt->cols; c++) {
		const char *s = vt->cell[r * vt->cols + c];
		size_t l = *s ? strlen(s) : 1;

		if (at + l + 1 > len)
			break;
		memcpy(out + at, *s ? s : " ", l);
		at += l;
		if (*s && strcmp(s, " "))
			keep = at;
	}
	out[keep] = '\0';
	return out;
}

int vt_find(const struct vt *vt, const char *const *all)
{
	char row[4096];

	for (int r = 0; r < vt->rows; r++) {
		int i;

		vt_row(vt, r, row, sizeof(row));
		for (i = 0; all[i] && strstr(row, all[i]); i++)
			;
		if (!all[i])
			return r;
	}
	return -1;
}

char *vt_dump(const struct vt *vt, char *out, size_t len)
{
	char row[4096];
	size_t at = 0;

	out[0] = '\0';
	for (int r = 0; r < vt->rows; r++) {
		size_t l = strlen(vt_row(vt, r, row, sizeof(row)));

		if (at + l + 2 > len)
			break;
		memcpy(out + at, row, l);
		at += l;
		out[at++] = '\n';
		out[at] = '\0';
	}
	return out;
}
