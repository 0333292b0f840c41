// SPDX-License-Identifier: GPL-2.0-only
/*
 * A writer for tests/integration/opener_creds.c, meant to be made
 * set-user-ID root by the test and run by an unprivileged user, writing
 * to an AIO control file that the unprivileged user opened and left on a
 * descriptor: the situation of a set-user-ID program that prints its
 * argv[0] to an inherited stderr.
 *
 *   suid-writer FD text LINE
 *       write LINE and a newline to FD (an aio.txt).
 *   suid-writer FD MODE PATH
 *       open PATH read-only (as whoever this runs as: root when
 *       set-user-ID), then change credentials as MODE says, print the
 *       descriptor's number and this process's pid on stdout ("N PID\n"),
 *       wait for a byte on stdin (the test meanwhile asks the kernel
 *       whether it would let the opener take that descriptor with
 *       pidfd_getfd), and write one SUBMIT record to FD (an `aio`): an
 *       8-byte PREAD of that descriptor at offset 0, aio_data 0x5e.
 *       MODE: keep (no change), drop (seteuid to the real uid: the saved
 *       uid stays root), dropall (setresuid/setresgid to the real ids
 *       everywhere: the process is then not dumpable).
 *
 * Exit status: 0 when the write took everything, else its errno (at most
 * 255); 200 and up for the helper's own failures.
 */
#include <errno.h>
#include <evfdfs/wire.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int written(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	if (n < 0)
		return errno > 0 && errno < 200 ? errno : 199;
	return (size_t)n == len ? 0 : 198;
}

int main(int argc, char **argv)
{
	struct evfdfs_wire_submit sub;
	char line[8192], go;
	int fd, file;
	uid_t r = getuid();
	gid_t g = getgid();

	if (argc != 4)
		return 200;
	fd = atoi(argv[1]);
	if (strcmp(argv[2], "text") == 0) {
		int n = snprintf(line, sizeof(line), "%s\n", argv[3]);

		if (n < 0 || (size_t)n >= sizeof(line))
			return 201;
		return written(fd, line, (size_t)n);
	}
	file = open(argv[3], O_RDONLY);
	if (file < 0)
		return 202;
	if (strcmp(argv[2], "drop") == 0) {
		if (setegid(g) || seteuid(r))
			return 203;
	} else if (strcmp(argv[2], "dropall") == 0) {
		if (setresgid(g, g, g) || setresuid(r, r, r))
			return 204;
	} else if (strcmp(argv[2], "keep") != 0) {
		return 205;
	}
	printf("%d %d\n", file, (int)getpid());
	fflush(stdout);
	if (read(0, &go, 1) != 1)
		return 206;
	memset(&sub, 0, sizeof(sub));
	sub.hdr.version = EVFDFS_WIRE_VERSION;
	sub.hdr.type = EVFDFS_WIRE_SUBMIT;
	sub.hdr.len = sizeof(sub);
	sub.obj = 0x5e;
	sub.iocb.aio_data = 0x5e;
	sub.iocb.aio_lio_opcode = IOCB_CMD_PREAD;
	sub.iocb.aio_fildes = (__u32)file;
	sub.iocb.aio_buf = (__u64)(unsigned long)line;
	sub.iocb.aio_nbytes = 8;
	return written(fd, &sub, sizeof(sub));
}
