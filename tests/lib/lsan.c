// SPDX-License-Identifier: GPL-2.0-only
/*
 * LeakSanitizer settings for the test binaries (SANITIZE=1).
 *
 * There is deliberately no suppression.  Criterion's runner leaks a
 * 48-byte timeout record of its own (tests/lib/shared.c explains it and
 * turns the check off in the runner only, once every test has run); a
 * suppression naming libcriterion.so would also hide every leak in a test
 * body, since each test is called from libcriterion.so's frames.  A
 * worker's leak report comes after its result has been sent, so
 * tests/run-all.sh fails the suite when the log has one.
 *
 * The sanitizer runtime looks this function up by name at start-up;
 * without ASan it is never called.
 */
const char *__lsan_default_options(void);

__attribute__((used)) const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}
