/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Running the tools of tools/ (evfdfs-top, evfdfs-trace2svg) and other
 * programs from the tests: found in $B (build/), with a deadline, their
 * output captured.
 */
#ifndef EVFDFS_TOOLRUN_H
#define EVFDFS_TOOLRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* $B/@name (build/@name), failing the test if it is not built. */
const char *tool_path(const char *name, char *buf, size_t len);

/*
 * tool_run() - run @argv (argv[0] a path, or a name looked up in PATH)
 * with standard input from @in (NULL: /dev/null) and standard output to
 * @outfile (NULL: captured into @out, NUL-terminated, at most @len - 1
 * bytes); standard error is captured too when @out is given.  Killed
 * after @ms.  Returns the exit code, or -1 when it did not exit.
 */
int tool_run(const char *const *argv, const char *in, const char *outfile,
	     char *out, size_t len, int ms);

/*
 * text_line_with() - does one line of @text hold every string of @all
 * (NULL-terminated), in any order?  For trace lines whose keys may come
 * in either order.
 */
bool text_line_with(const char *text, const char *const *all);

#endif /* EVFDFS_TOOLRUN_H */
