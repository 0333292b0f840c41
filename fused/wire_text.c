// SPDX-License-Identifier: GPL-2.0-only
/*
 * The text form of the AIO control file (aio.txt), pure part: the parser of
 * one request line and the escaping used for the completion lines.  The
 * grammar is documented at the top of fused/aio_text.c, which uses these.
 * Every input is untrusted: the parser bounds everything, accepts no NUL
 * outside pwrite data, and fails with -EINVAL rather than guess.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wire_i.h"

struct cur {
	const char *p, *end;
};

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static void skip_blank(struct cur *c)
{
	while (c->p < c->end && is_blank(*c->p))
		c->p++;
}

/* The next blank-separated word, or false at the end of the line. */
static bool next_word(struct cur *c, const char **w, size_t *n)
{
	skip_blank(c);
	if (c->p == c->end)
		return false;
	*w = c->p;
	while (c->p < c->end && !is_blank(*c->p))
		c->p++;
	*n = (size_t)(c->p - *w);
	return true;
}

static bool word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(w, s, n) == 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Decode \\ \n \t \r \s (space) and \xHH from @src into @dst (NUL
 * terminated).  Returns the decoded length, or -EINVAL for a bad escape or
 * a NUL byte when @allow_nul is false.
 */
static long unescape(const char *src, size_t n, char *dst, bool allow_nul)
{
	size_t i = 0, o = 0;

	while (i < n) {
		char ch = src[i++];

		if (ch == '\\') {
			if (i == n)
				return -EINVAL;
			switch (src[i++]) {
			case '\\':
				ch = '\\';
				break;
			case 'n':
				ch = '\n';
				break;
			case 't':
				ch = '\t';
				break;
			case 'r':
				ch = '\r';
				break;
			case 's':
				ch = ' ';
				break;
			case 'x':
				if (n - i < 2 || hexval(src[i]) < 0 ||
				    hexval(src[i + 1]) < 0)
					return -EINVAL;
				ch = (char)(hexval(src[i]) * 16 +
					    hexval(src[i + 1]));
				i += 2;
				break;
			default:
				return -EINVAL;
			}
		}
		if (ch == '\0' && !allow_nul)
			return -EINVAL;
		dst[o++] = ch;
	}
	dst[o] = '\0';
	return (long)o;
}

/* Unsigned decimal or 0x hex, no sign, no overflow. */
static int parse_u64(const char *w, size_t n, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	size_t i = 0;
	int d;

	if (n > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return -EINVAL;
	for (; i < n; i++) {
		d = hexval(w[i]);
		if (d < 0 || (unsigned int)d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - (unsigned int)d) / base)
			return -EINVAL;
		v = v * base + (unsigned int)d;
	}
	*out = v;
	return 0;
}

/* A signed offset: [-]NUMBER, within int64_t. */
static int parse_s64(const char *w, size_t n, int64_t *out)
{
	bool neg = n > 0 && w[0] == '-';
	uint64_t v;

	if (parse_u64(w + neg, n - neg, &v))
		return -EINVAL;
	if (v > (uint64_t)INT64_MAX + neg)
		return -EINVAL;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static const struct {
	const char *name;
	uint32_t bit;
} poll_bits[] = {
	{ "in", 0x1 },	     { "pri", 0x2 },	 { "out", 0x4 },
	{ "err", 0x8 },	     { "hup", 0x10 },	 { "nval", 0x20 },
	{ "rdnorm", 0x40 },  { "rdband", 0x80 }, { "wrnorm", 0x100 },
	{ "wrband", 0x200 }, { "msg", 0x400 },	 { "rdhup", 0x2000 },
};

#define NPOLL_BITS (sizeof(poll_bits) / sizeof(poll_bits[0]))

/* "in|out", "IN,OUT", or a number. */
static int parse_events(const char *w, size_t n, uint32_t *out)
{
	uint32_t mask = 0;
	uint64_t v;
	size_t i = 0, j, k;

	if (n && w[0] >= '0' && w[0] <= '9') {
		if (parse_u64(w, n, &v) || v > UINT32_MAX)
			return -EINVAL;
		*out = (uint32_t)v;
		return 0;
	}
	while (i < n) {
		j = i;
		while (j < n && w[j] != '|' && w[j] != ',')
			j++;
		for (k = 0; k < NPOLL_BITS; k++)
			if (strlen(poll_bits[k].name) == j - i &&
			    strncasecmp(poll_bits[k].name, w + i, j - i) == 0)
				break;
		if (k == NPOLL_BITS)
			return -EINVAL;
		mask |= poll_bits[k].bit;
		i = j + 1;
		if (j < n && i == n)
			return -EINVAL; /* trailing separator */
	}
	if (!mask)
		return -EINVAL;
	*out = mask;
	return 0;
}

/* A bare word kept as it is (a tag, a counter name): printable, bounded. */
static int take_word(const char *w, size_t n, char **scratch, char **out)
{
	size_t i;

	if (n == 0 || n > WIRE_TEXT_WORD_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if ((unsigned char)w[i] <= ' ' || (unsigned char)w[i] >= 0x7f)
			return -EINVAL;
	memcpy(*scratch, w, n);
	(*scratch)[n] = '\0';
	*out = *scratch;
	*scratch += n + 1;
	return 0;
}

/* data=TAG and resfd=NAME; returns 1 if @w was not an option. */
static int take_option(const char *w, size_t n, char **scratch,
		       struct wire_text_req *out)
{
	if (n >= 5 && memcmp(w, "data=", 5) == 0) {
		if (out->tag)
			return -EINVAL;
		return take_word(w + 5, n - 5, scratch, &out->tag);
	}
	if (n >= 6 && memcmp(w, "resfd=", 6) == 0) {
		if (out->resfd)
			return -EINVAL;
		return take_word(w + 6, n - 6, scratch, &out->resfd);
	}
	return 1;
}

/*
 * The next positional word, after any options in front of it.  Returns 0,
 * or -EINVAL for a bad option or the end of the line.
 */
static int positional(struct cur *c, char **scratch, struct wire_text_req *out,
		      const char **w, size_t *n)
{
	int ret;

	for (;;) {
		if (!next_word(c, w, n))
			return -EINVAL;
		ret = take_option(*w, *n, scratch, out);
		if (ret < 0)
			return ret;
		if (ret == 1)
			return 0;
	}
}

static int take_path(const char *w, size_t n, char **scratch, char **out)
{
	long got = unescape(w, n, *scratch, false);

	if (got <= 0)
		return -EINVAL;
	*out = *scratch;
	*scratch += got + 1;
	return 0;
}

static const struct {
	const char *verb;
	enum wire_text_op op;
} verbs[] = {
	{ "setup", WT_SETUP },	 { "pread", WT_PREAD },
	{ "pwrite", WT_PWRITE }, { "fsync", WT_FSYNC },
	{ "fdsync", WT_FDSYNC }, { "poll", WT_POLL },
	{ "cancel", WT_CANCEL },
};

int wire_text_parse(const char *line, size_t len, char *scratch,
		    struct wire_text_req *out)
{
	struct cur c = { line, line + len };
	const char *w;
	uint64_t v;
	size_t n, i;
	long got;
	int ret;

	memset(out, 0, sizeof(*out));
	if (memchr(line, '\0', len))
		return -EINVAL;
	if (!next_word(&c, &w, &n) || w[0] == '#') {
		out->op = WT_NONE;
		return 0;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (word_is(w, n, verbs[i].verb))
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]))
		return -EINVAL;
	out->op = verbs[i].op;

	switch (out->op) {
	case WT_SETUP:
		if (!next_word(&c, &w, &n) || parse_u64(w, n, &v) ||
		    v > UINT32_MAX)
			return -EINVAL;
		out->events = (uint32_t)v;
		break;
	case WT_CANCEL:
		if (!next_word(&c, &w, &n) ||
		    take_word(w, n, &scratch, &out->tag))
			return -EINVAL;
		break;
	case WT_PWRITE:
		if (positional(&c, &scratch, out, &w, &n) ||
		    take_path(w, n, &scratch, &out->path) ||
		    !next_word(&c, &w, &n) || parse_s64(w, n, &out->offset))
			return -EINVAL;
		/* DATA: everything after the one blank that follows. */
		if (c.p < c.end)
			c.p++;
		got = unescape(c.p, (size_t)(c.end - c.p), scratch, true);
		if (got < 0)
			return -EINVAL;
		out->data = scratch;
		out->datalen = (size_t)got;
		return 0;
	default: /* pread, fsync, fdsync, poll */
		if (positional(&c, &scratch, out, &w, &n) ||
		    take_path(w, n, &scratch, &out->path))
			return -EINVAL;
		if (out->op == WT_PREAD) {
			if (!next_word(&c, &w, &n) ||
			    parse_s64(w, n, &out->offset) ||
			    !next_word(&c, &w, &n) ||
			    parse_u64(w, n, &out->len) ||
			    out->len > WIRE_TEXT_READ_MAX)
				return -EINVAL;
		} else if (out->op == WT_POLL) {
			if (!next_word(&c, &w, &n) ||
			    parse_events(w, n, &out->events))
				return -EINVAL;
		}
		break;
	}
	/* Trailing options only; setup and cancel take none. */
	while (next_word(&c, &w, &n)) {
		if (out->op == WT_SETUP || out->op == WT_CANCEL)
			return -EINVAL;
		ret = take_option(w, n, &scratch, out);
		if (ret)
			return -EINVAL;
	}
	return 0;
}

static void put(char *dst, size_t cap, size_t *o, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, (*o)++)
		if (*o + 1 < cap)
			dst[*o] = s[i];
}

size_t wire_text_escape(char *dst, size_t cap, const void *src, size_t len)
{
	const unsigned char *s = src;
	char tmp[8];
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char ch = s[i];

		if (ch == '\\')
			put(dst, cap, &o, "\\\\", 2);
		else if (ch == '\n')
			put(dst, cap, &o, "\\n", 2);
		else if (ch == '\t')
			put(dst, cap, &o, "\\t", 2);
		else if (ch == '\r')
			put(dst, cap, &o, "\\r", 2);
		else if (ch >= 0x20 && ch < 0x7f)
			put(dst, cap, &o, (const char *)&ch, 1);
		else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
			put(dst, cap, &o, tmp, 4);
		}
	}
	if (cap)
		dst[o < cap ? o : cap - 1] = '\0';
	return o;
}

size_t wire_text_poll_names(char *dst, size_t cap, uint32_t mask)
{
	char tmp[16];
	size_t o = 0, k;
	uint32_t rest = mask;

	if (!mask)
		put(dst, cap, &o, "0", 1);
	for (k = 0; k < NPOLL_BITS; k++) {
		char up[8];
		size_t j, n = strlen(poll_bits[k].name);

		if (!(mask & poll_bits[k].bit))
			continue;
		for (j = 0; j < n; j++)
			up[j] = (char)(poll_bits[k].name[j] - 'a' + 'A');
		if (o)
			put(dst, cap, &o, "|", 1);
		put(dst, cap, &o, up, n);
		rest &= ~poll_bits[k].bit;
	}
	if (rest) {
		if (o)
			put(dst, cap, &o, "|", 1);
		put(dst, cap, &o, tmp,
		    (size_t)snprintf(tmp, sizeof(tmp), "0x%x", rest));
	}
	if (cap)
		dst[o < cap ? o : cap - 1] = '\0';
	return o;
}
