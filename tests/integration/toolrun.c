// SPDX-License-Identifier: GPL-2.0-only
/*
 * Running programs from the tests (toolrun.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ.h"
#include "toolrun.h"

const char *tool_path(const char *name, char *buf, size_t len)
{
	const char *b = getenv("B");

	snprintf(buf, len, "%s/%s", b && *b ? b : "build", name);
	cr_assert(access(buf, X_OK) == 0, "%s is not built", buf);
	return buf;
}

int tool_run(const char *const *argv, const char *in, const char *outfile,
	     char *out, size_t len, int ms)
{
	long long deadline = evt_now_ms() + ms;
	int p[2] = { -1, -1 }, status = 0;
	size_t have = 0;
	pid_t pid;

	if (out) {
		cr_assert(pipe2(p, O_CLOEXEC) == 0, "pipe: %s",
			  strerror(errno));
		out[0] = '\0';
	}
	pid = integ_fork();
	if (pid == 0) {
		int i = open(in ? in : "/dev/null", O_RDONLY);
		int o = outfile ? open(outfile, O_WRONLY | O_CREAT | O_TRUNC,
				       0644)
				: p[1];

		if (i < 0 || o < 0 || dup2(i, 0) < 0 || dup2(o, 1) < 0 ||
		    (out && dup2(p[1], 2) < 0))
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (out) {
		close(p[1]);
		for (;;) {
			struct pollfd pf = { .fd = p[0], .events = POLLIN };
			long long left = deadline - evt_now_ms();
			ssize_t n;
			char sink[4096];

			if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
				break;
			if (have + 1 < len)
				n = read(p[0], out + have, len - 1 - have);
			else
				n = read(p[0], sink, sizeof(sink));
			if (n <= 0)
				break;
			if (have + 1 < len) {
				have += (size_t)n;
				out[have] = '\0';
			}
		}
		close(p[0]);
	}
	{
		long long left = deadline - evt_now_ms();

		if (integ_reap(pid, &status, left > 0 ? (int)left : 0) < 0) {
			kill(pid, SIGKILL);
			integ_reap(pid, &status, 5000);
			return -1;
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool text_line_with(const char *text, const char *const *all)
{
	while (text && *text) {
		size_t l = strcspn(text, "\n");
		int i;

		for (i = 0; all[i]; i++) {
			const char *hit =
				memmem(text, l, all[i], strlen(all[i]));

			if (!hit)
				break;
		}
		if (!all[i])
			return true;
		text += l + (text[l] == '\n');
	}
	return false;
}
