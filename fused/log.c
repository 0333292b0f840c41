// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's log.  Part of the base layer (fused/LAYERS): every file
 * may log, and this one calls nothing of the daemon.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "evfdfs_i.h"

/*
 * Logging: libfuse's messages and the daemon's own go through log_func()
 * (fuse_set_log_func): to stderr in the foreground, to syslog once the
 * daemon went to the background, where stderr is /dev/null.  Set before
 * the AIO workers start, never changed after.
 */
static bool log_to_syslog;

static void log_func(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	if (!log_to_syslog) {
		vfprintf(stderr, fmt, ap);
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	/* fuse_log_level's values are syslog's priorities. */
	syslog(LOG_DAEMON | (int)level, "%s", line);
}

static enum fuse_log_level level_of(const char *level)
{
	if (!strcmp(level, "error"))
		return FUSE_LOG_ERR;
	if (!strcmp(level, "warning"))
		return FUSE_LOG_WARNING;
	if (!strcmp(level, "notice"))
		return FUSE_LOG_NOTICE;
	if (!strcmp(level, "debug"))
		return FUSE_LOG_DEBUG;
	return FUSE_LOG_INFO;
}

void evfdfs_log(const char *level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_to_syslog) /* syslog adds "evfdfs[PID]: " */
		fuse_log(level_of(level), "%s: %s\n", level, line);
	else
		fuse_log(level_of(level), "evfdfs[%d]: %s: %s\n", (int)getpid(),
			 level, line);
}

/* Every message, libfuse's too, goes through log_func() from now on. */
void evfdfs_log_init(void)
{
	fuse_set_log_func(log_func);
}

/* The daemon went to the background: stderr is /dev/null from now on. */
void evfdfs_log_to_syslog(void)
{
	openlog("evfdfs", LOG_PID, LOG_DAEMON);
	log_to_syslog = true;
}
