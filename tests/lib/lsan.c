// SPDX-License-Identifier: GPL-2.0-only
/*
 * LeakSanitizer suppressions for the test binaries (SANITIZE=1).  The
 * Criterion 2.4.1 runner itself loses a 48-byte calloc now and then when
 * it runs tests in parallel (-j2): the block is allocated inside
 * libcriterion.so and none of our code sees it, yet the leak report makes
 * the whole suite binary exit 1.  Only allocations made from
 * libcriterion.so are suppressed; a leak in the daemon, the client
 * library or a test is still reported.  The sanitizer runtime looks this
 * function up by name at start-up; without ASan it is never called.
 */
const char *__lsan_default_suppressions(void);

__attribute__((used)) const char *__lsan_default_suppressions(void)
{
	return "leak:libcriterion.so\n";
}

/* Do not print the table of suppressions used at every exit. */
const char *__lsan_default_options(void);

__attribute__((used)) const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}
