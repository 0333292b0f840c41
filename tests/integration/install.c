// SPDX-License-Identifier: GPL-2.0-only
/*
 * `make install DESTDIR=...` produces a usable library: a program built
 * with `pkg-config --cflags --libs evfdfs` against the installed copy
 * (and nothing from the source tree) runs against a mount, loading the
 * installed libevfdfs.so.0.1.0; the scripts name the daemon's final path;
 * `make uninstall` takes every file away again.
 *
 * pkg-config reads the installed evfdfs.pc, whose paths name the final
 * prefix (/usr/local), not the staging directory: PKG_CONFIG_SYSROOT_DIR
 * points them into DESTDIR, as a packager's or cross build's does.
 *
 * And, as root, installed into the real root as a system would have it
 * (installed-system.sh, in a private mount namespace where /usr and /etc
 * are overlays): ldconfig, mount -t evfdfs, fstab, the installed helper.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/evtest.h"

#if defined(__SANITIZE_ADDRESS__)
/* make check SANITIZE=1 built build/san only: install that, and build the
 * program the same way, so that the ASan runtime comes first. */
#define MAKE_VARS "SANITIZE=1"
#define CC_SAN "-fsanitize=address,undefined"
#else
#define MAKE_VARS ""
#define CC_SAN ""
#endif

/* What the installed library must do for a program. */
static const char program[] =
	"#include <evfdfs.h>\n"
	"#include <libaio.h>\n"
	"#include <stdio.h>\n"
	"#include <string.h>\n"
	"#include <sys/eventfd.h>\n"
	"#include <unistd.h>\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	char line[4096];\n"
	"	uint64_t v = 0;\n"
	"	int fd = evfdfs_eventfd(argv[1], 5, EFD_NONBLOCK);\n"
	"	FILE *maps = fopen(\"/proc/self/maps\", \"r\");\n"
	"	(void)argc;\n"
	"	if (fd < 0 || evfdfs_write(fd, 2) || evfdfs_read(fd, &v))\n"
	"		return 1;\n"
	"	printf(\"value %llu\\n\", (unsigned long long)v);\n"
	"	while (maps && fgets(line, sizeof(line), maps))\n"
	"		if (strstr(line, \"libevfdfs.so\"))\n"
	"			printf(\"loaded %s\", strchr(line, '/'));\n"
	"	return 0;\n"
	"}\n";

Test(install, pkg_config_program_uses_installed_library, .timeout = 60)
{
	const char *mnt = evt_shared_mnt();
	char stage[] = "/tmp/evfdfs-install-XXXXXX";
	char work[] = "/tmp/evfdfs-install-prog-XXXXXX";
	char cmd[16384], out[16384], src[4096], want[4096];
	const char *make_env = "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "
			       "--no-print-directory -s";
	FILE *f;
	int st;

	cr_assert(access("Makefile", R_OK) == 0,
		  "tests must run from the source tree");
	cr_assert(mkdtemp(stage) && mkdtemp(work));
	snprintf(src, sizeof(src), "%s/use.c", work);
	f = fopen(src, "w");
	cr_assert(f && fputs(program, f) >= 0 && fclose(f) == 0);

	snprintf(cmd, sizeof(cmd), "%s install %s DESTDIR=%s 2>&1", make_env,
		 MAKE_VARS, stage);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "make install: %d\n%s", st, out);
	/* Staged: ldconfig is for the target, and make says so. */
	cr_assert(strstr(out, "run ldconfig"), "make install said:\n%s", out);
	/* The shim out of the linker's path, the overview page and an
	 * alias page (a symlink), the examples, the mount(8) helpers. */
	snprintf(
		cmd, sizeof(cmd),
		"cd %s/usr/local && test -f lib/evfdfs/libevfdfs-preload.so && "
		"test ! -e lib/libevfdfs-preload.so && "
		"test -f share/man/man3/libevfdfs.3 && "
		"test -L share/man/man3/evfdfs_io_pgetevents.3 && "
		"test -f share/man/man3/evfdfs_io_pgetevents.3 && "
		"test -f share/doc/evfdfs/examples/producer_consumer.c && "
		"test -x share/doc/evfdfs/examples/shell-walkthrough.sh && "
		"test -x %s/sbin/mount.evfdfs && "
		"test \"$(readlink %s/sbin/mount.fuse.evfdfs)\" = mount.evfdfs",
		stage, stage, stage);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "installed files missing: %s", out);
	/* The scripts name the daemon where it will be, not in DESTDIR. */
	snprintf(cmd, sizeof(cmd),
		 "grep -x installed_daemon=/usr/local/bin/evfdfs "
		 "%s/usr/local/bin/evfdfs-mount-helper && "
		 "grep -x daemon=/usr/local/bin/evfdfs %s/sbin/mount.evfdfs",
		 stage, stage);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "the scripts do not name the installed daemon: %s",
		     out);
	/* A fully versioned library: the file, its SONAME, the links. */
	snprintf(cmd, sizeof(cmd),
		 "cd %s/usr/local/lib && test -f libevfdfs.so.0.1.0 && "
		 "test ! -L libevfdfs.so.0.1.0 && readlink libevfdfs.so.0 && "
		 "readlink libevfdfs.so && objdump -p libevfdfs.so.0.1.0 | "
		 "grep SONAME",
		 stage);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "versioned library: %s", out);
	cr_assert(strstr(out, "libevfdfs.so.0.1.0\nlibevfdfs.so.0\n") == out &&
			  strstr(out, "SONAME") &&
			  strstr(out, " libevfdfs.so.0\n"),
		  "expected links .so.0 -> .so.0.1.0, .so -> .so.0 and SONAME "
		  "libevfdfs.so.0:\n%s",
		  out);

	snprintf(
		cmd, sizeof(cmd),
		"export PKG_CONFIG_PATH=%s/usr/local/lib/pkgconfig "
		"PKG_CONFIG_SYSROOT_DIR=%s; "
		"pkg-config --modversion evfdfs && "
		"cc %s -o %s/use %s/use.c $(pkg-config --cflags --libs evfdfs) "
		"-Wl,-rpath,%s/usr/local/lib",
		stage, stage, CC_SAN, work, work, stage);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "build against the installed copy: %d\n%s", st,
		     out);
	cr_assert_str_eq(out, EVFDFS_VERSION "\n");

	snprintf(cmd, sizeof(cmd), "%s/use %s", work, mnt);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "the program: %d\n%s", st, out);
	snprintf(want, sizeof(want),
		 "value 7\nloaded %s/usr/local/lib/libevfdfs.so.0.1.0\n",
		 stage);
	cr_assert(strncmp(out, want, strlen(want)) == 0,
		  "expected it to load the installed copy:\n%s\ngot:\n%s", want,
		  out);

	snprintf(cmd, sizeof(cmd),
		 "log=$(%s uninstall %s DESTDIR=%s 2>&1) || "
		 "{ echo \"$log\"; exit 1; }; find %s ! -type d",
		 make_env, MAKE_VARS, stage, stage);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "make uninstall: %d\n%s", st, out);
	cr_assert_str_empty(out, "left after uninstall:\n%s", out);

	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", stage, work);
	evt_sh(cmd, NULL, 0);
}

/*
 * The root-only half (installed-system.sh): the real root, seen through
 * overlays in a private mount namespace, so that nothing outside it
 * changes.  Its output is one "ok:" line per promise; it stops at the
 * first "FAIL:".
 */
Test(install, installed_system_mounts_by_type, .timeout = 240)
{
	static char out[65536];
	char work[] = "/tmp/evfdfs-system-XXXXXX";
	char cmd[8192];
	const char *const want[] = {
		"ok: make install as root runs ldconfig",
		"ok: libevfdfs.so.0.1.0, SONAME libevfdfs.so.0",
		"ok: the preload shim is in /usr/local/lib/evfdfs",
		"ok: the examples are in /usr/local/share/doc/evfdfs/examples",
		"ok: the program runs on it, loading "
		"/usr/local/lib/libevfdfs.so.0.1.0 through ldconfig's cache",
		"ok: mount -t evfdfs none MNT mounts with the installed daemon",
		"ok: an fstab line of type evfdfs mounts with the installed",
		"ok: mount -t fuse.evfdfs evfdfs MNT mounts with the installed",
		"ok: the installed evfdfs-mount-helper runs the installed daemon",
		"ok: make uninstall takes every file away",
	};
	size_t n = 0, i;
	FILE *p;
	int st;

	if (geteuid() != 0)
		cr_skip_test("needs root: mount namespaces, overlays over /usr "
			     "and /etc, and mount(8)");
	if (evt_fuse_missing())
		cr_skip_test("%s", evt_fuse_missing());
	if (evt_sh("command -v unshare && command -v mount.fuse3", NULL, 0))
		cr_skip_test("unshare(1) or mount.fuse3 is not installed");
	cr_assert(mkdtemp(work));
	snprintf(cmd, sizeof(cmd),
		 "EVFDFS_CC_SAN='%s' timeout -k 5 200 unshare -m "
		 "--propagation private tests/integration/installed-system.sh "
		 "\"$PWD\" %s %s 2>&1",
		 CC_SAN, work, MAKE_VARS);
	p = popen(cmd, "r");
	cr_assert(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	st = pclose(p);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", work);
	evt_sh(cmd, NULL, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		cr_skip_test("%s", out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "installed-system.sh: status %#x\n%s", st, out);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(strstr(out, want[i]), "missing \"%s\" in:\n%s",
			  want[i], out);
}
