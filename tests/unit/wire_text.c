// SPDX-License-Identifier: GPL-2.0-only
/* The aio.txt line parser and escaping alone (fused/wire_text.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../fused/wire_i.h"

static char scratch[4096];

static int parse(const char *line, struct wire_text_req *rq)
{
	return wire_text_parse(line, strlen(line), scratch, rq);
}

Test(wire_text, each_verb)
{
	struct wire_text_req rq;

	cr_assert_eq(parse("pread /etc/hostname 10 64", &rq), 0);
	cr_expect_eq(rq.op, WT_PREAD);
	cr_expect_str_eq(rq.path, "/etc/hostname");
	cr_expect_eq(rq.offset, 10);
	cr_expect_eq(rq.len, 64);
	cr_expect_null(rq.tag);
	cr_assert_eq(parse("pwrite out 0x10 two  words\\n", &rq), 0);
	cr_expect_eq(rq.op, WT_PWRITE);
	cr_expect_eq(rq.offset, 16);
	cr_expect_eq(rq.datalen, 11);
	cr_expect_eq(memcmp(rq.data, "two  words\n", 11), 0);
	cr_assert_eq(parse("fsync f", &rq), 0);
	cr_expect_eq(rq.op, WT_FSYNC);
	cr_assert_eq(parse("fdsync f", &rq), 0);
	cr_expect_eq(rq.op, WT_FDSYNC);
	cr_assert_eq(parse("poll /tmp/fifo in|rdnorm,OUT", &rq), 0);
	cr_expect_eq(rq.op, WT_POLL);
	cr_expect_eq(rq.events, 0x1 | 0x40 | 0x4);
	cr_assert_eq(parse("poll f 0x41", &rq), 0);
	cr_expect_eq(rq.events, 0x41);
	cr_assert_eq(parse("cancel t1", &rq), 0);
	cr_expect_eq(rq.op, WT_CANCEL);
	cr_expect_str_eq(rq.tag, "t1");
	cr_assert_eq(parse("setup 512", &rq), 0);
	cr_expect_eq(rq.op, WT_SETUP);
	cr_expect_eq(rq.events, 512);
	cr_assert_eq(parse("   ", &rq), 0);
	cr_expect_eq(rq.op, WT_NONE);
	cr_assert_eq(parse("# pread x 0 1", &rq), 0);
	cr_expect_eq(rq.op, WT_NONE);
}

Test(wire_text, options_before_and_after)
{
	struct wire_text_req rq;

	cr_assert_eq(parse("pread data=a resfd=c1 f 0 8", &rq), 0);
	cr_expect_str_eq(rq.tag, "a");
	cr_expect_str_eq(rq.resfd, "c1");
	cr_expect_str_eq(rq.path, "f");
	cr_assert_eq(parse("poll f in resfd=c2 data=b", &rq), 0);
	cr_expect_str_eq(rq.tag, "b");
	cr_expect_str_eq(rq.resfd, "c2");
	cr_assert_eq(parse("pwrite data=w f 0 resfd=x is data", &rq), 0);
	cr_expect_str_eq(rq.tag, "w");
	cr_expect_null(rq.resfd, "after OFFSET everything is data");
	cr_expect_eq(rq.datalen, 15);
	cr_expect_eq(parse("pread data=a data=b f 0 8", &rq), -EINVAL);
	cr_expect_eq(parse("pread f 0 8 colour=red", &rq), -EINVAL);
	cr_expect_eq(parse("setup 5 data=x", &rq), -EINVAL);
}

Test(wire_text, paths_and_escapes)
{
	struct wire_text_req rq;

	cr_assert_eq(parse("fsync a\\sb\\x41\\\\", &rq), 0);
	cr_expect_str_eq(rq.path, "a bA\\");
	cr_expect_eq(parse("fsync a\\x00b", &rq), -EINVAL, "NUL in a path");
	cr_expect_eq(parse("fsync a\\q", &rq), -EINVAL);
	cr_expect_eq(parse("fsync a\\x4", &rq), -EINVAL);
	cr_expect_eq(parse("fsync a\\", &rq), -EINVAL);
	cr_assert_eq(parse("pwrite f 0 \\x00\\xff", &rq), 0);
	cr_expect_eq(rq.datalen, 2);
	cr_expect_eq((unsigned char)rq.data[1], 0xff);
	cr_assert_eq(parse("pwrite f 0", &rq), 0);
	cr_expect_eq(rq.datalen, 0);
	cr_expect_eq(wire_text_parse("fsync a\0b", 9, scratch, &rq), -EINVAL);
}

Test(wire_text, malformed_lines)
{
	static const char *const bad[] = {
		"frob f",
		"pread",
		"pread f",
		"pread f 0",
		"pread f x 8",
		"pread f 0 -8",
		"pread f 0 65537",
		"pread f 0 8 9",
		"pwrite",
		"pwrite f",
		"pwrite f 1e3 x",
		"poll f",
		"poll f sideways",
		"poll f in|",
		"poll f 99999999999",
		"cancel",
		"cancel a b",
		"setup",
		"setup -1",
		"setup 4294967296",
		"fsync",
		"fsync f g",
		"pread f 99999999999999999999 8",
		"PREAD f 0 8",
	};
	struct wire_text_req rq;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(parse(bad[i], &rq), -EINVAL, "'%s'", bad[i]);
	cr_expect_eq(parse("pread f -9223372036854775808 8", &rq), 0);
	cr_expect_eq(rq.offset, INT64_MIN);
	cr_expect_eq(parse("pread f -9223372036854775809 8", &rq), -EINVAL);
}

Test(wire_text, escape_and_poll_names)
{
	char out[64];

	cr_expect_eq(
		wire_text_escape(out, sizeof(out), "a b\\\n\t\r\x01\xff", 9),
		19);
	cr_expect_str_eq(out, "a b\\\\\\n\\t\\r\\x01\\xff");
	cr_expect_eq(wire_text_escape(out, 4, "abcdef", 6), 6, "the full size");
	cr_expect_str_eq(out, "abc");
	cr_expect_eq(wire_text_poll_names(out, sizeof(out), 0x41), 9);
	cr_expect_str_eq(out, "IN|RDNORM");
	wire_text_poll_names(out, sizeof(out), 0x8 | 0x10 | 0x8000);
	cr_expect_str_eq(out, "ERR|HUP|0x8000");
	wire_text_poll_names(out, sizeof(out), 0);
	cr_expect_str_eq(out, "0");
}
