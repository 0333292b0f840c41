/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading the lines of `trace` and `status` (docs: evfdfs(7)) for the
 * tools: split on spaces into words, KEY=VALUE words looked up by key,
 * anything unknown ignored, so that a daemon that adds an event or a key,
 * or an older one that lacks some, is still understood.
 */
#ifndef EVFDFS_TPARSE_H
#define EVFDFS_TPARSE_H

#include <stdbool.h>
#include <stddef.h>

#define TF_LINE_MAX 1024
#define TF_WORDS 64

/* A line split into words (the words point into buf). */
struct tfields {
	char buf[TF_LINE_MAX];
	int n;
	char *w[TF_WORDS];
};

/* Split @line (up to a newline or NUL) on spaces and tabs; returns n. */
int tf_split(struct tfields *f, const char *line);

/* The value of KEY=VALUE among words @from.., or NULL. */
const char *tf_get(const struct tfields *f, int from, const char *key);

/* Is the word @word among words @from.. (a flag such as "text")? */
bool tf_has(const struct tfields *f, int from, const char *word);

/* A counter without a name: "(unlinked)" or "-" (both forms exist). */
bool tf_unnamed(const char *name);

/* One trace line. */
struct tev {
	struct tfields f;
	unsigned long long seq; /* 0 when the line has none */
	double t;		/* seconds, as the daemon wrote them */
	const char *ev;		/* "write", "park", ...; "dropped" for a gap */
	const char *obj; /* counter name, "aio:CTX", "(unlinked)", or "" */
	char objbuf[40]; /* "aio:CTX" made up for an older daemon */
	int kv;		 /* index of the first word after the object */
	unsigned long long ndropped;
};

/*
 * tev_parse() - parse one trace line.  Returns 0, or -1 for a line that is
 * not an event (empty, garbled).  Both "SEQ - dropped N" and the older
 * "- dropped N" give ev "dropped".  For an AIO event of a daemon that
 * writes no object word, obj is made up from ctx=.
 */
int tev_parse(const char *line, struct tev *e);

static inline const char *tev_get(const struct tev *e, const char *key)
{
	return tf_get(&e->f, e->kv, key);
}

static inline bool tev_flag(const struct tev *e, const char *word)
{
	return tf_has(&e->f, e->kv, word);
}

/* A counter event (its object is a counter) rather than an AIO one. */
bool tev_is_aio(const struct tev *e);

#endif /* EVFDFS_TPARSE_H */
