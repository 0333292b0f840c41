#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# installed-system.sh SRC WORK [MAKE VARIABLES...]
#
# `make install` into the real root, as root, and use it the way a
# system's users would: mount(8) by type (`mount -t evfdfs`, an fstab
# line of type evfdfs, `mount -t fuse.evfdfs`), a program built with
# `pkg-config --libs evfdfs` and no rpath (so found through ldconfig's
# cache), the installed evfdfs-mount-helper; then `make uninstall` leaves
# nothing.  Run by install/installed_system_mounts_by_type inside
# `unshare -m`: /usr and /etc are overlays whose upper layers are under
# WORK, so that the install, ldconfig's cache and the fstab line exist in
# this mount namespace only.  Prints "ok: ..." per promise kept, "FAIL:
# ..." and exits 1 at the first one broken, exits 77 (after "SKIP: why")
# when the namespace cannot be set up.
set -u
src=$1 work=$2
shift 2
export LC_ALL=C

say() { echo "$*"; }
skip() {
	say "SKIP: $*"
	exit 77
}
mounts=
fail() {
	say "FAIL: $*"
	for m in $mounts; do umount -l "$m" 2>/dev/null; done
	exit 1
}
ok() { say "ok: $*"; }

# The pid of the daemon serving $1, from its command line.
daemon_of() {
	for p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" |
			grep -q "^/usr/local/bin/evfdfs .*$1 " && echo "${p#/proc/}" && return 0
	done
	return 1
}

alive() {
	[ -e "/proc/$1" ] && [ "$(sed 's/^[0-9]* (.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# Use mount point $1 that was mounted by mount(8): a counter works, the
# daemon is the installed one, and umount takes it down for good.
use_and_umount() {
	mnt=$1 how=$2
	grep -qs " $mnt fuse.evfdfs " /proc/mounts || fail "$how: not mounted"
	mounts="$mounts $mnt"
	pid=$(daemon_of "$mnt") || fail "$how: no /usr/local/bin/evfdfs serving $mnt"
	echo 4 >"$mnt/text/c" || fail "$how: cannot write a counter"
	# one read(2), which takes the value (cat would wait for the next)
	[ "$(dd if="$mnt/text/c" bs=64 count=1 status=none)" = 4 ] ||
		fail "$how: the counter does not read 4"
	umount "$mnt" || fail "$how: umount"
	n=0
	while alive "$pid"; do
		n=$((n + 1))
		[ $n -lt 3000 ] || fail "$how: the daemon stayed after umount"
		sleep 0.01
	done
	ok "$how mounts with the installed daemon (pid $pid), umount ends it"
}

for d in usr etc; do
	mkdir -p "$work/$d.upper" "$work/$d.work" || exit 1
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$work/$d.upper,workdir=$work/$d.work" "/$d" ||
		skip "cannot mount an overlay over /$d in a private mount namespace"
done
mkdir -p "$work/m1" "$work/m2" "$work/m3" "$work/m4" "$work/state" "$work/prog"

cd "$src" || exit 1
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -s install "$@" \
	>"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "make install"; }
grep -qx ldconfig "$work/install.log" || { cat "$work/install.log"; fail "make install did not run ldconfig"; }
ldconfig -p | grep -q "libevfdfs.so.0 (.*) => /usr/local/lib/libevfdfs.so.0\$" ||
	fail "ldconfig's cache has no /usr/local/lib/libevfdfs.so.0"
ok "make install as root runs ldconfig: libevfdfs.so.0 is in its cache"

lib=/usr/local/lib
if [ ! -f $lib/libevfdfs.so.0.1.0 ] || [ -L $lib/libevfdfs.so.0.1.0 ]; then
	fail "no file $lib/libevfdfs.so.0.1.0"
fi
[ "$(readlink $lib/libevfdfs.so.0)" = libevfdfs.so.0.1.0 ] || fail "libevfdfs.so.0 -> $(readlink $lib/libevfdfs.so.0)"
[ "$(readlink $lib/libevfdfs.so)" = libevfdfs.so.0 ] || fail "libevfdfs.so -> $(readlink $lib/libevfdfs.so)"
soname=$(objdump -p $lib/libevfdfs.so.0.1.0 | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = libevfdfs.so.0 ] || fail "SONAME '$soname'"
ok "libevfdfs.so.0.1.0, SONAME libevfdfs.so.0, links libevfdfs.so.0 and libevfdfs.so"

[ -f $lib/evfdfs/libevfdfs-preload.so ] || fail "no $lib/evfdfs/libevfdfs-preload.so"
[ ! -e $lib/libevfdfs-preload.so ] || fail "the preload shim is in $lib, the linker's path"
[ "$(pkg-config --variable=preloaddir evfdfs)" = $lib/evfdfs ] || fail "pkg-config's preloaddir"
ok "the preload shim is in $lib/evfdfs, named by pkg-config --variable=preloaddir"

doc=/usr/local/share/doc/evfdfs/examples
for f in examples/*; do
	cmp -s "$f" "$doc/${f##*/}" || fail "$f is not installed in $doc"
done
[ -x "$doc/shell-walkthrough.sh" ] || fail "$doc/shell-walkthrough.sh is not executable"
ok "the examples are in $doc"

cat >"$work/prog/use.c" <<'EOF'
#include <evfdfs.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
int main(int argc, char **argv)
{
	char line[4096];
	uint64_t v = 0;
	int fd = evfdfs_eventfd(argv[1], 5, EFD_NONBLOCK);
	FILE *maps = fopen("/proc/self/maps", "r");
	(void)argc;
	if (fd < 0 || evfdfs_write(fd, 2) || evfdfs_read(fd, &v))
		return 1;
	printf("value %llu\n", (unsigned long long)v);
	while (maps && fgets(line, sizeof(line), maps))
		if (strstr(line, "libevfdfs"))
			printf("loaded %s", strchr(line, '/'));
	return 0;
}
EOF
# shellcheck disable=SC2046,SC2086 # the words of pkg-config and EVFDFS_CC_SAN
cc ${EVFDFS_CC_SAN:-} -o "$work/prog/use" "$work/prog/use.c" $(pkg-config --cflags --libs evfdfs) ||
	fail "cc \$(pkg-config --cflags --libs evfdfs)"
ok "a program builds with pkg-config's flags and no rpath"

mount -t evfdfs none "$work/m1" -o allow_other || fail "mount -t evfdfs"
out=$("$work/prog/use" "$work/m1") || fail "the program on the mount: $out"
printf '%s\n' "$out" | grep -qx "value 7" || fail "the program said: $out"
printf '%s\n' "$out" | grep -qx "loaded $lib/libevfdfs.so.0.1.0" ||
	fail "the program did not load $lib/libevfdfs.so.0.1.0: $out"
ok "the program runs on it, loading $lib/libevfdfs.so.0.1.0 through ldconfig's cache"
use_and_umount "$work/m1" "mount -t evfdfs none MNT"

printf 'none %s evfdfs noauto,allow_other 0 0\n' "$work/m2" >>/etc/fstab
mount "$work/m2" || fail "mount MNT with an fstab line of type evfdfs"
use_and_umount "$work/m2" "an fstab line of type evfdfs"

mount -t fuse.evfdfs evfdfs "$work/m3" || fail "mount -t fuse.evfdfs"
use_and_umount "$work/m3" "mount -t fuse.evfdfs evfdfs MNT"

cd / || exit 1
out=$(EVFDFS_STATE_DIR="$work/state" EVFDFS_DEADLINE=20 evfdfs-mount-helper start "$work/m4" 2>&1) ||
	fail "evfdfs-mount-helper start: $out"
mounts="$mounts $work/m4"
pid=$(daemon_of "$work/m4") || fail "no daemon serving $work/m4: $out"
[ "$(readlink "/proc/$pid/exe")" = /usr/local/bin/evfdfs ] ||
	fail "evfdfs-mount-helper did not run /usr/local/bin/evfdfs: $out"
out=$(EVFDFS_STATE_DIR="$work/state" evfdfs-mount-helper stop "$work/m4" 2>&1) ||
	fail "evfdfs-mount-helper stop: $out"
ok "the installed evfdfs-mount-helper runs the installed daemon"

cd "$src" || exit 1
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -s uninstall "$@" \
	>"$work/uninstall.log" 2>&1 || { cat "$work/uninstall.log"; fail "make uninstall"; }
left=$(cd "$work/usr.upper" && find . ! -type d)
[ -z "$left" ] || fail "left after make uninstall: $left"
ldconfig -p | grep -q libevfdfs && fail "libevfdfs is still in ldconfig's cache"
ok "make uninstall takes every file away, and ldconfig forgets the library"
exit 0
