// SPDX-License-Identifier: GPL-2.0-only
/*
 * `make install DESTDIR=...` produces a usable library: a program built
 * with `pkg-config --cflags --libs evfdfs` against the installed copy
 * (and nothing from the source tree) runs against a mount, loading the
 * installed libevfdfs.so.0; `make uninstall` takes every file away again.
 *
 * pkg-config reads the installed evfdfs.pc, whose paths name the final
 * prefix (/usr/local), not the staging directory: PKG_CONFIG_SYSROOT_DIR
 * points them into DESTDIR, as a packager's or cross build's does.
 */
#include <criterion/criterion.h>
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
	/* The shim, the overview page and an alias page (a symlink). */
	snprintf(cmd, sizeof(cmd),
		 "cd %s/usr/local && test -f lib/libevfdfs-preload.so && "
		 "test -f share/man/man3/libevfdfs.3 && "
		 "test -L share/man/man3/evfdfs_io_pgetevents.3 && "
		 "test -f share/man/man3/evfdfs_io_pgetevents.3",
		 stage);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "installed files missing: %s", out);

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
		 "value 7\nloaded %s/usr/local/lib/libevfdfs.so.0\n", stage);
	cr_assert(strncmp(out, want, strlen(want)) == 0,
		  "expected it to load the installed copy:\n%s\ngot:\n%s", want,
		  out);

	snprintf(cmd, sizeof(cmd),
		 "%s uninstall %s DESTDIR=%s 2>&1 && find %s ! -type d",
		 make_env, MAKE_VARS, stage, stage);
	st = evt_sh(cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "make uninstall: %d\n%s", st, out);
	cr_assert_str_empty(out, "left after uninstall:\n%s", out);

	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", stage, work);
	evt_sh(cmd, NULL, 0);
}
