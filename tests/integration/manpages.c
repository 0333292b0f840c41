// SPDX-License-Identifier: GPL-2.0-only
/*
 * The man pages say what the code does: evfdfs(7)'s "The aio.txt
 * language" names every request verb and every poll event name that the
 * parser (fused/wire_text.c) accepts, the options and the escapes, so a
 * user needs no source to write aio.txt lines.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/evtest.h"

/* Does @text contain @word as a whole word? */
static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = text; (p = strstr(p, word)); p++) {
		bool before = p == text || !(p[-1] >= 'a' && p[-1] <= 'z');
		bool after = !(p[n] >= 'a' && p[n] <= 'z');

		if (before && after)
			return true;
	}
	return false;
}

Test(manpages, evfdfs7_documents_the_aio_text_grammar, .timeout = 60)
{
	static char section[65536], names[8192];
	static const char *const also[] = { "data=", "resfd=", "\\xHH",
					    "\\s",   "0x",     "tag op res" };
	char *w, *save;
	size_t i;
	int st;

	cr_assert(access("man/evfdfs.7", R_OK) == 0 &&
			  access("fused/wire_text.c", R_OK) == 0,
		  "tests must run from the source tree");
	/* The section, rendered as a reader sees it (unhyphenated). */
	st = evt_sh("groff -man -Tascii -rHY=0 -rLL=300n man/evfdfs.7 "
		    "2>/dev/null | col -b | "
		    "sed -n \"/The aio.txt language/,/^[A-Z][A-Z]/p\"",
		    section, sizeof(section));
	cr_assert_eq(st, 0, "man -l man/evfdfs.7: %s", section);
	cr_assert(strstr(section, "The aio.txt language"),
		  "no \"The aio.txt language\" in evfdfs(7)");
	/* The parser's verbs and poll event names, from its tables. */
	st = evt_sh("grep -o \"{ \\\"[a-z]*\\\", \\(WT_\\|0x\\)\" "
		    "fused/wire_text.c | cut -d\\\" -f2",
		    names, sizeof(names));
	cr_assert_eq(st, 0, "%s", names);
	for (i = 0, w = strtok_r(names, "\n", &save); w;
	     w = strtok_r(NULL, "\n", &save), i++)
		cr_expect(has_word(section, w),
			  "\"%s\" (fused/wire_text.c) is not in evfdfs(7):\n%s",
			  w, section);
	cr_expect_geq(i, 19, "expected 7 verbs and 12 event names, found %zu",
		      i);
	for (i = 0; i < sizeof(also) / sizeof(also[0]); i++)
		cr_expect(strstr(section, also[i]), "no \"%s\" in:\n%s",
			  also[i], section);
}
