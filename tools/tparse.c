// SPDX-License-Identifier: GPL-2.0-only
/*
 * Words and KEY=VALUE pairs of trace and status lines (tparse.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tparse.h"

int tf_split(struct tfields *f, const char *line)
{
	size_t len = strcspn(line, "\n");
	char *p;

	if (len >= sizeof(f->buf))
		len = sizeof(f->buf) - 1;
	memcpy(f->buf, line, len);
	f->buf[len] = '\0';
	f->n = 0;
	p = f->buf;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			*p++ = '\0';
		if (!*p || f->n == TF_WORDS)
			break;
		f->w[f->n++] = p;
		p += strcspn(p, " \t\r");
	}
	return f->n;
}

const char *tf_get(const struct tfields *f, int from, const char *key)
{
	size_t kl = strlen(key);

	for (int i = from; i < f->n; i++)
		if (!strncmp(f->w[i], key, kl) && f->w[i][kl] == '=')
			return f->w[i] + kl + 1;
	return NULL;
}

bool tf_has(const struct tfields *f, int from, const char *word)
{
	for (int i = from; i < f->n; i++)
		if (!strcmp(f->w[i], word))
			return true;
	return false;
}

bool tf_unnamed(const char *name)
{
	return !name || !*name || !strcmp(name, "-") ||
	       !strcmp(name, "(unlinked)");
}

static bool number(const char *s, unsigned long long *v)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	*v = strtoull(s, &end, 10);
	return *end == '\0';
}

int tev_parse(const char *line, struct tev *e)
{
	struct tfields *f = &e->f;
	const char *ctx;
	char *end;

	e->seq = 0;
	e->t = 0;
	e->obj = "";
	e->ndropped = 0;
	tf_split(f, line);
	/* A gap: "SEQ - dropped N", or the older "- dropped N". */
	for (int i = 0; i < 2 && i + 2 < f->n; i++) {
		if (!strcmp(f->w[i], "-") && !strcmp(f->w[i + 1], "dropped")) {
			if (i == 1 && !number(f->w[0], &e->seq))
				return -1;
			number(f->w[i + 2], &e->ndropped);
			e->ev = "dropped";
			e->kv = i + 3;
			return 0;
		}
	}
	if (f->n < 3 || !number(f->w[0], &e->seq))
		return -1;
	e->t = strtod(f->w[1], &end);
	if (*end)
		return -1;
	e->ev = f->w[2];
	e->kv = 3;
	if (f->n > 3 && !strchr(f->w[3], '=')) {
		e->obj = f->w[3];
		e->kv = 4;
	}
	ctx = tf_get(f, e->kv, "ctx");
	if (!*e->obj && !strncmp(e->ev, "aio-", 4) && ctx) {
		snprintf(e->objbuf, sizeof(e->objbuf), "aio:%s", ctx);
		e->obj = e->objbuf;
	}
	return 0;
}

bool tev_is_aio(const struct tev *e)
{
	return !strncmp(e->obj, "aio:", 4) || !strncmp(e->ev, "aio-", 4);
}
