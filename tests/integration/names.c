// SPDX-License-Identifier: GPL-2.0-only
/*
 * The namespace of the mount: the fixed names (text, aio, aio.txt, status,
 * trace) cannot be created as counters or removed, nothing but counters
 * can be made (no directories, links or symlinks), and names that the
 * status and trace lines could not print on one line (white space,
 * control characters) are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "integ.h"

static const char *const reserved[] = { "text", "aio", "aio.txt", "status",
					"trace" };
#define NRESERVED (sizeof(reserved) / sizeof(reserved[0]))

/* What stat says of @path, to show a refused call changed nothing. */
static mode_t mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
	return st.st_mode;
}

INTEG_TEST(names, reserved_names_cannot_be_created, 60)
{
	const char *mnt = evt_shared_mnt();
	char path[PATH_MAX];
	size_t i;
	mode_t before;
	int fd;

	for (i = 0; i < NRESERVED; i++) {
		evt_path(path, sizeof(path), mnt, reserved[i]);
		before = mode_of(path);
		errno = 0;
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
		cr_assert_eq(fd, -1, "created %s", reserved[i]);
		cr_assert_eq(errno, EEXIST, "open(O_EXCL) %s: %s", reserved[i],
			     strerror(errno));
		errno = 0;
		cr_assert_eq(mknod(path, S_IFREG | 0600, 0), -1);
		cr_assert_eq(errno, EEXIST, "mknod %s: %s", reserved[i],
			     strerror(errno));
		cr_assert_eq(mode_of(path), before, "%s changed", reserved[i]);

		/* Through text/ the kernel finds no entry and asks the
		 * daemon, which must refuse the name itself. */
		snprintf(path, sizeof(path), "%s/text/%s", mnt, reserved[i]);
		errno = 0;
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
		cr_assert_eq(fd, -1, "created text/%s", reserved[i]);
		cr_assert_eq(errno, EEXIST, "text/%s: %s", reserved[i],
			     strerror(errno));
		errno = 0;
		cr_assert_eq(mknod(path, S_IFREG | 0600, 0), -1);
		cr_assert_eq(errno, EEXIST, "mknod text/%s: %s", reserved[i],
			     strerror(errno));
		cr_assert_eq(integ_field(mnt, reserved[i], "count"), -1,
			     "a counter named %s exists", reserved[i]);
	}
}

INTEG_TEST(names, reserved_names_cannot_be_removed, 60)
{
	const char *mnt = evt_shared_mnt();
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < NRESERVED; i++) {
		evt_path(path, sizeof(path), mnt, reserved[i]);
		errno = 0;
		if (strcmp(reserved[i], "text") == 0) {
			cr_assert_eq(rmdir(path), -1);
			cr_assert_eq(errno, EPERM, "rmdir text: %s",
				     strerror(errno));
			/* unlink(2) of a directory is the kernel's EISDIR
			 * before the daemon is asked. */
			cr_assert_eq(unlink(path), -1);
		} else {
			cr_assert_eq(unlink(path), -1, "removed %s",
				     reserved[i]);
			cr_assert_eq(errno, EPERM, "unlink %s: %s", reserved[i],
				     strerror(errno));
		}
		mode_of(path);
	}
}

INTEG_TEST(names, reserved_names_cannot_be_renamed_over_or_away, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], from[PATH_MAX], to[PATH_MAX];
	size_t i;
	int fd;

	evt_unique(name, sizeof(name), "ren");
	fd = evt_create_counter(mnt, name, 3, false, 0);
	evt_path(from, sizeof(from), mnt, name);
	for (i = 0; i < NRESERVED; i++) {
		evt_path(to, sizeof(to), mnt, reserved[i]);
		errno = 0;
		cr_assert_eq(rename(from, to), -1, "renamed onto %s",
			     reserved[i]);
		cr_assert(errno == EPERM || errno == EISDIR, "onto %s: %s",
			  reserved[i], strerror(errno));
		if (strcmp(reserved[i], "text") != 0) {
			errno = 0;
			cr_assert_eq(rename(to, from), -1, "renamed %s away",
				     reserved[i]);
			cr_assert_eq(errno, EPERM, "%s away: %s", reserved[i],
				     strerror(errno));
		}
		mode_of(to);
	}
	cr_assert_eq(evt_xattr_value(from), 3, "the counter was disturbed");
	close(fd);
	cr_assert_eq(unlink(from), 0);
}

INTEG_TEST(names, only_counters_can_be_made, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], path[PATH_MAX], hard[PATH_MAX + 8];
	struct stat st;
	int fd;

	evt_unique(name, sizeof(name), "dir");
	evt_path(path, sizeof(path), mnt, name);
	errno = 0;
	cr_assert_eq(mkdir(path, 0755), -1);
	cr_assert_eq(errno, EPERM, "mkdir: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/text/%s", mnt, name);
	errno = 0;
	cr_assert_eq(mkdir(path, 0755), -1);
	cr_assert_eq(errno, EPERM, "mkdir in text/: %s", strerror(errno));
	evt_path(path, sizeof(path), mnt, name);
	errno = 0;
	cr_assert_eq(symlink("status", path), -1);
	cr_assert_eq(errno, EPERM, "symlink: %s", strerror(errno));
	errno = 0;
	cr_assert_eq(mkfifo(path, 0600), -1);
	cr_assert_eq(errno, EPERM, "mkfifo: %s", strerror(errno));
	cr_assert_eq(stat(path, &st), -1, "something was made");

	fd = evt_create_counter(mnt, name, 0, false, 0);
	snprintf(hard, sizeof(hard), "%s.link", path);
	errno = 0;
	cr_assert_eq(link(path, hard), -1);
	cr_assert_eq(errno, EPERM, "link: %s", strerror(errno));
	close(fd);
	cr_assert_eq(unlink(path), 0);
}

INTEG_TEST(names, names_with_white_space_are_refused, 60)
{
	static const char *const bad[] = { "a b",   "tab\tname", "nl\nname",
					   " lead", "trail ",	 "del\x7f" };
	const char *mnt = evt_shared_mnt();
	char ok[128], path[PATH_MAX], to[PATH_MAX], out[256];
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		evt_path(path, sizeof(path), mnt, bad[i]);
		errno = 0;
		fd = open(path, O_RDWR | O_CREAT, 0600);
		if (fd >= 0)
			unlink(path);
		cr_assert_eq(fd, -1, "created '%s'", bad[i]);
		cr_assert_eq(errno, EINVAL, "'%s': %s", bad[i],
			     strerror(errno));
		cr_assert_eq(stat(path, &st), -1);
	}
	/* From the shell: touch fails and says why. */
	snprintf(path, sizeof(path), "touch \"%s/with space\"", mnt);
	cr_assert_neq(evt_sh(path, out, sizeof(out)), 0);
	cr_assert(strstr(out, "Invalid argument"), "%s", out);

	/* Renaming to such a name is refused too. */
	evt_unique(ok, sizeof(ok), "ws");
	fd = evt_create_counter(mnt, ok, 0, false, 0);
	evt_path(path, sizeof(path), mnt, ok);
	evt_path(to, sizeof(to), mnt, "x y");
	errno = 0;
	cr_assert_eq(rename(path, to), -1);
	cr_assert_eq(errno, EINVAL, "rename: %s", strerror(errno));
	cr_assert_eq(stat(path, &st), 0);
	close(fd);
	cr_assert_eq(unlink(path), 0);
}
