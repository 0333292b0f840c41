#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# mount-helper.sh: start, stop and inspect an evfdfs mount.
#
#   ./mount-helper.sh start [MOUNTPOINT] [-- EVFDFS OPTIONS...]
#       Install what is missing, build if needed, recover a stale mount
#       left by a killed daemon, mount (default: $EVFDFS_MNT or
#       /tmp/evfdfs), and return once the mount answers.
#   ./mount-helper.sh stop [MOUNTPOINT]
#       Unmount and wait for the daemon to exit (SIGTERM: the daemon
#       unmounts itself, lazily if files are still open).
#   ./mount-helper.sh status [MOUNTPOINT]
#       Say whether it is mounted and by which pid.
#       Exit status: 0 mounted, 2 stale, 3 not mounted.
#
# The daemon's log goes to $EVFDFS_STATE_DIR (default
# ${XDG_RUNTIME_DIR:-/tmp}/evfdfs-state-UID)/NAME.log, its pid to NAME.pid.
# From a checkout it builds and runs build/evfdfs; installed (as
# evfdfs-mount-helper) it runs the daemon installed with it.  start refuses
# a mount point already served by another daemon binary (another build, or
# this one rebuilt since): stop it first.
set -u

# Set by make install; empty in the source tree.
installed_daemon=

here=$(cd "$(dirname "$0")" && pwd)
default_mnt=${EVFDFS_MNT:-/tmp/evfdfs}
state=${EVFDFS_STATE_DIR:-${XDG_RUNTIME_DIR:-/tmp}/evfdfs-state-$(id -u)}
deadline_s=${EVFDFS_DEADLINE:-10}

die() { echo "mount-helper: $*" >&2; exit 1; }
say() { echo "mount-helper: $*"; }

usage() {
	sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-1}"
}

# The daemon binary: the installed one, or this checkout's build.
daemon_path() {
	if [ -n "$installed_daemon" ]; then
		echo "$installed_daemon"
	else
		echo "$here/build/evfdfs"
	fi
}

# Whether process $1 runs the binary $2 (the same file, not a copy, and
# not one replaced since the process started it).  0 same, 1 another,
# 2 cannot tell (/proc/PID/exe is not ours to read).
runs_binary() {
	local exe
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 2
	case "$exe" in
	*" (deleted)") return 1 ;;
	esac
	[ "$(stat -L -c %d:%i "/proc/$1/exe" 2>/dev/null)" = \
		"$(stat -L -c %d:%i "$2" 2>/dev/null)" ]
}

abs_path() {
	case "$1" in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}

key_of() { echo "$1" | sed 's|[^A-Za-z0-9._-]|_|g'; }

pidfile_of() { echo "$state/$(key_of "$1").pid"; }
logfile_of() { echo "$state/$(key_of "$1").log"; }

# mounted | stale | none.  statfs always reaches the daemon (a stat may be
# answered from the kernel's attribute cache even after the daemon died).
mount_state() {
	local mnt=$1
	if grep -qs " $mnt fuse.evfdfs " /proc/mounts; then
		if stat -f -c %T "$mnt" >/dev/null 2>&1; then
			echo mounted
		else
			echo stale
		fi
	elif stat -f "$mnt" 2>&1 >/dev/null | grep -q "not connected"; then
		echo stale
	else
		echo none
	fi
}

# Whether process $1 runs: kill -0 also succeeds on a zombie, which a
# daemon stays until its parent (a subreaper, say) reaps it.
alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(sed -n 's/^[0-9]* (.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ "$st" != Z ]
}

daemon_pid() {
	local mnt=$1 pf pid
	pf=$(pidfile_of "$mnt")
	if [ -f "$pf" ]; then
		pid=$(cat "$pf")
		if [ -n "$pid" ] && alive "$pid" &&
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "evfdfs"; then
			echo "$pid"
			return 0
		fi
	fi
	# Started some other way: look for an evfdfs process naming it.
	pid=$(pgrep -f "evfdfs .*$mnt\$" 2>/dev/null | head -1)
	[ -n "$pid" ] && echo "$pid"
	[ -n "$pid" ]
}

unmount_stale() {
	local mnt=$1
	say "recovering a stale mount at $mnt (its daemon is gone)"
	fusermount3 -uz "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null ||
		die "cannot unmount the stale mount at $mnt"
}

cmd_start() {
	local mnt=$1
	shift
	local daemon pid log pf s t
	if [ -z "$installed_daemon" ] && [ -x "$here/scripts/deps.sh" ]; then
		"$here/scripts/deps.sh" run || die "dependencies missing"
	fi
	daemon=$(daemon_path)
	if [ -z "$installed_daemon" ] && [ -f "$here/Makefile" ]; then
		make -s -C "$here" >/dev/null || die "build failed (run make in $here)"
	fi
	[ -x "$daemon" ] || die "no daemon at $daemon"

	s=$(mount_state "$mnt")
	if [ "$s" = mounted ]; then
		if ! pid=$(daemon_pid "$mnt"); then
			say "already mounted at $mnt (by a daemon this script cannot find)"
			return 0
		fi
		runs_binary "$pid" "$daemon"
		case $? in
		0) say "already mounted at $mnt (pid $pid)" ;;
		1) die "$mnt is served by pid $pid running" \
			"$(readlink "/proc/$pid/exe"), not $daemon;" \
			"'$0 stop $mnt' first to use this one" ;;
		*) say "already mounted at $mnt (pid $pid; cannot tell which build it runs)" ;;
		esac
		return 0
	fi
	[ "$s" = stale ] && unmount_stale "$mnt"
	mkdir -p "$mnt" "$state" || die "cannot create $mnt or $state"
	log=$(logfile_of "$mnt")
	pf=$(pidfile_of "$mnt")
	setsid "$daemon" -f "$@" "$mnt" </dev/null >>"$log" 2>&1 &
	pid=$!
	echo "$pid" >"$pf"
	t=$((deadline_s * 100))
	while [ "$(mount_state "$mnt")" != mounted ]; do
		if ! alive "$pid"; then
			rm -f "$pf"
			tail -20 "$log" >&2
			die "evfdfs exited before mounting (log: $log)"
		fi
		t=$((t - 1))
		if [ "$t" -le 0 ]; then
			kill -9 "$pid" 2>/dev/null
			fusermount3 -uz "$mnt" 2>/dev/null
			rm -f "$pf"
			die "mount did not answer within ${deadline_s}s (log: $log)"
		fi
		sleep 0.01
	done
	say "mounted at $mnt (pid $pid, log $log)"
}

cmd_stop() {
	local mnt=$1 pid s t
	s=$(mount_state "$mnt")
	pid=$(daemon_pid "$mnt") || pid=
	if [ -z "$pid" ]; then
		case "$s" in
		stale) unmount_stale "$mnt" ;;
		mounted) fusermount3 -u "$mnt" || die "cannot unmount $mnt" ;;
		none) say "not mounted at $mnt" ;;
		esac
		rm -f "$(pidfile_of "$mnt")"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null
	t=$((deadline_s * 100))
	while alive "$pid"; do
		t=$((t - 1))
		if [ "$t" -le 0 ]; then
			echo "mount-helper: daemon $pid did not exit within ${deadline_s}s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null
			sleep 0.1
			break
		fi
		sleep 0.01
	done
	[ "$(mount_state "$mnt")" = none ] || fusermount3 -uz "$mnt" 2>/dev/null
	rm -f "$(pidfile_of "$mnt")"
	say "stopped (pid $pid), $mnt unmounted"
}

cmd_status() {
	local mnt=$1 pid
	case "$(mount_state "$mnt")" in
	mounted)
		pid=$(daemon_pid "$mnt") || pid="?"
		say "mounted at $mnt by pid $pid"
		return 0
		;;
	stale)
		say "stale mount at $mnt (daemon gone; 'stop' or 'start' recovers it)"
		return 2
		;;
	none)
		say "not mounted at $mnt"
		return 3
		;;
	esac
}

[ $# -ge 1 ] || usage
action=$1
shift
mnt=$default_mnt
if [ $# -ge 1 ] && [ "$1" != "--" ]; then
	mnt=$1
	shift
fi
[ "${1:-}" = "--" ] && shift
mnt=$(abs_path "$mnt")
mnt=${mnt%/}

case "$action" in
start) cmd_start "$mnt" "$@" ;;
stop) cmd_stop "$mnt" ;;
status) cmd_status "$mnt" ;;
-h | --help | help) usage 0 ;;
*) usage ;;
esac
