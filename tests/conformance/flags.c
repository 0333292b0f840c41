// SPDX-License-Identifier: GPL-2.0-only
/*
 * E4, E5, E58: the open file's flags and who shares the counter.
 * O_NONBLOCK given at open or set and cleared later (fcntl F_SETFL,
 * ioctl FIONBIO) rules the next read or write; dup and fork share one
 * counter and one open file description.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"

#define TOP 0xfffffffffffffffeull

/*
 * O_LARGEFILE as the kernel reports it in F_GETFL (<fcntl.h> defines
 * O_LARGEFILE as 0 on 64-bit builds).  open(2) on a 64-bit kernel always
 * adds it, so every file of the mount has it; an eventfd is never opened
 * with open(2) and never has it.  Masked here; differences.c records the
 * raw value.
 */
#define KERNEL_O_LARGEFILE 0100000

static void rec_flags(struct evt_transcript *t, const char *label, int fd)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);

	evt_rec(t, "%s: F_GETFL=%#o F_GETFD=%d", label,
		fl < 0 ? 0 : (unsigned int)fl & ~KERNEL_O_LARGEFILE, fdfl);
}

/* E4: O_RDWR, plus O_NONBLOCK if asked; FD_CLOEXEC if asked. */
CONFORM(fgetfl_reports_rdwr_and_nonblock)
{
	static const struct {
		const char *name;
		int flags;
	} c[] = {
		{ "none", 0 },
		{ "NONBLOCK", EFD_NONBLOCK },
		{ "CLOEXEC", EFD_CLOEXEC },
		{ "SEMAPHORE", EFD_SEMAPHORE },
		{ "all", EFD_NONBLOCK | EFD_CLOEXEC | EFD_SEMAPHORE },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int fd = b->open_counter(0, c[i].flags);

		rec_flags(t, c[i].name, fd);
		close(fd);
	}
}

/* E5: F_SETFL O_NONBLOCK on and off rules the next read and write. */
CONFORM(nonblock_set_and_cleared_with_fcntl)
{
	int fd = b->open_counter(0, 0);
	struct bg r;

	set_nonblock(fd, true);
	rec_flags(t, "set", fd);
	rec_read(t, "read empty", fd);
	b->set_count(fd, TOP);
	rec_write(t, "write 1 at top", fd, 1);
	rec_read(t, "read", fd);
	set_nonblock(fd, false);
	rec_flags(t, "cleared", fd);
	bg_start(&r, BG_READ, fd, 0, false);
	evt_rec(t, "read sleeps: %d", bg_asleep(&r));
	rec_write(t, "write 2", fd, 2);
	bg_rec(t, "read", &r, BG_DEADLINE_MS);
	bg_end(&r);
	close(fd);
}

/* E4, E5: EFD_NONBLOCK at open, then cleared: the next read sleeps. */
CONFORM(nonblock_from_open_then_cleared)
{
	int fd = b->open_counter(0, EFD_NONBLOCK);
	struct bg w;

	rec_read(t, "read empty", fd);
	b->set_count(fd, TOP);
	rec_write(t, "write 1 at top", fd, 1);
	set_nonblock(fd, false);
	bg_start(&w, BG_WRITE, fd, 1, false);
	evt_rec(t, "write sleeps: %d", bg_asleep(&w));
	set_nonblock(fd, true);
	rec_read(t, "read", fd);
	bg_rec(t, "write", &w, BG_DEADLINE_MS);
	bg_end(&w);
	rec_read(t, "read", fd);
	rec_read(t, "read empty", fd);
	close(fd);
}

/* E5: ioctl(FIONBIO) does the same as F_SETFL. */
CONFORM(nonblock_with_fionbio)
{
	int fd = b->open_counter(0, 0);
	int on = 1, off = 0;
	struct bg r;

	REC(t, "FIONBIO 1", ioctl(fd, FIONBIO, &on));
	rec_flags(t, "after FIONBIO 1", fd);
	rec_read(t, "read empty", fd);
	REC(t, "FIONBIO 0", ioctl(fd, FIONBIO, &off));
	rec_flags(t, "after FIONBIO 0", fd);
	bg_start(&r, BG_READ, fd, 0, false);
	evt_rec(t, "read sleeps: %d", bg_asleep(&r));
	rec_write(t, "write 6", fd, 6);
	bg_rec(t, "read", &r, BG_DEADLINE_MS);
	bg_end(&r);
	close(fd);
}

/* E58: a dup is the same open file: same counter, same flags. */
CONFORM(dup_shares_counter_and_flags)
{
	int fd = b->open_counter(0, 0);
	int d = dup(fd);

	cr_assert(d >= 0);
	rec_write(t, "write 4 via dup", d, 4);
	rec_count(t, "count via original", b, fd);
	set_nonblock(d, true);
	rec_flags(t, "original after F_SETFL on dup", fd);
	rec_read(t, "read via original", fd);
	rec_read(t, "read via dup", d);
	close(d);
	rec_write(t, "write 1 after closing the dup", fd, 1);
	rec_count(t, "count", b, fd);
	close(fd);
}

/* E58: a child shares the counter through the inherited descriptor. */
CONFORM(fork_shares_counter)
{
	int fd = b->open_counter(4, EFD_NONBLOCK);
	struct bg c;

	bg_start(&c, BG_READ, fd, 0, true);
	bg_rec(t, "child read", &c, BG_DEADLINE_MS);
	bg_end(&c);
	rec_count(t, "count in parent", b, fd);
	bg_start(&c, BG_WRITE, fd, 9, true);
	bg_rec(t, "child write 9", &c, BG_DEADLINE_MS);
	bg_end(&c);
	rec_read(t, "parent read", fd);
	close(fd);
}

/*
 * E5: what F_SETFL does with the other flags it can change (O_DIRECT
 * differs: differences.c).
 */
CONFORM(fsetfl_other_flags)
{
	static const struct {
		const char *name;
		int flag;
	} c[] = {
		{ "O_APPEND", O_APPEND },
		{ "O_ASYNC", O_ASYNC },
		{ "O_NOATIME", O_NOATIME },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int fd = b->open_counter(1, EFD_NONBLOCK);
		char label[64];

		snprintf(label, sizeof(label), "F_SETFL %s", c[i].name);
		REC(t, label, fcntl(fd, F_SETFL, O_NONBLOCK | c[i].flag));
		rec_flags(t, "flags", fd);
		rec_write(t, "write 2", fd, 2);
		rec_read(t, "read", fd);
		close(fd);
	}
}

/* E58: a descriptor passed with SCM_RIGHTS shares the counter. */
CONFORM(scm_rights_shares_counter)
{
	int fd = b->open_counter(0, EFD_NONBLOCK), sv[2], got = -1;
	char byte = 'x', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	cr_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	cr_assert(sendmsg(sv[0], &msg, 0) == 1);
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_controllen = sizeof(cbuf);
	cr_assert(recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC) == 1);
	cm = CMSG_FIRSTHDR(&msg);
	cr_assert(cm && cm->cmsg_type == SCM_RIGHTS);
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	close(sv[0]);
	close(sv[1]);
	rec_write(t, "write 7 via the received fd", got, 7);
	rec_read(t, "read via the original", fd);
	rec_flags(t, "received fd", got);
	close(got);
	close(fd);
}
