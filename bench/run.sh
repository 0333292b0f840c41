#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run the benchmarks: mount barefuse and evfdfs in a private temporary
# directory, run build/bench/evbench on both (and on the kernel's eventfd and
# a pipe), print the table and keep it in $B/bench/results.txt.
#
#   bench/run.sh full    what BENCHMARKS.md shows (a few minutes)
#   bench/run.sh quick   every figure, small sizes (well under a minute)
#
# Extra arguments go to evbench (-s pingpong,poll to run some sections).
# EVFDFS_BIN=path runs another build of the daemon (to measure a change).
# Whatever happens (failure, ^C, the time limit), the mounts are taken down
# and the daemons and the benchmark are killed: the trap does it, and a
# time limit holds even when the benchmark is stuck in a FUSE request
# (killing the daemons first is what frees such a task).
set -u
mode=${1:-full}
shift || true
B=${B:-build}
evfdfs_bin=${EVFDFS_BIN:-$B/evfdfs} # another build of the daemon, to compare
case "$mode" in
full) limit=${EVBENCH_LIMIT:-1200} args=() ;;
quick) limit=${EVBENCH_LIMIT:-58} args=(-q) ;;
*)
	echo "usage: $0 full|quick [evbench options]" >&2
	exit 2
	;;
esac

for f in "$evfdfs_bin" "$B/bench/barefuse" "$B/bench/evbench"; do
	if [ ! -x "$f" ]; then
		echo "bench: $f missing (run make first)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d /tmp/evbench.XXXXXX) || exit 1
bpid='' epid='' benchpid='' wdpid=''

unmount() {
	local m=$1
	grep -q " $m " /proc/mounts 2>/dev/null || return 0
	fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null ||
		umount -l "$m" 2>/dev/null
}

stop_pid() {
	local p=$1 _
	[ -n "$p" ] || return 0
	kill -0 "$p" 2>/dev/null || return 0
	kill -TERM "$p" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
}

cleanup() {
	[ -n "$wdpid" ] && kill "$wdpid" 2>/dev/null
	[ -n "$benchpid" ] && kill -KILL "$benchpid" 2>/dev/null
	unmount "$tmp/bare"
	unmount "$tmp/evfdfs"
	stop_pid "$bpid"
	stop_pid "$epid"
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$tmp/bare" "$tmp/evfdfs" || exit 1
"$B/bench/barefuse" -f "$tmp/bare" 2>"$tmp/bare.log" &
bpid=$!
"$evfdfs_bin" -f "$tmp/evfdfs" 2>"$tmp/evfdfs.log" &
epid=$!

# Wait (bounded) for both mounts; fail at once if a daemon dies.
for _ in $(seq 100); do
	ok=1
	for m in "$tmp/bare" "$tmp/evfdfs"; do
		grep -q " $m " /proc/mounts || ok=0
	done
	[ "$ok" = 1 ] && break
	if ! kill -0 "$bpid" 2>/dev/null || ! kill -0 "$epid" 2>/dev/null; then
		echo "bench: a daemon exited before mounting" >&2
		cat "$tmp/bare.log" "$tmp/evfdfs.log" >&2
		exit 1
	fi
	sleep 0.05
done
if [ "$ok" != 1 ]; then
	echo "bench: mounts did not come up" >&2
	exit 1
fi

out="$B/bench/results.txt"
[ "$mode" = quick ] && out="$B/bench/results-quick.txt"
mkdir -p "$B/bench"

"$B/bench/evbench" "${args[@]}" -o "$out" \
	--bare "$tmp/bare" --bare-pid "$bpid" \
	--evfdfs "$tmp/evfdfs" --evfdfs-pid "$epid" "$@" &
benchpid=$!
sleep "$limit" &
wdpid=$!
wait -n "$benchpid" "$wdpid"
if kill -0 "$benchpid" 2>/dev/null; then
	echo "bench: time limit of ${limit}s reached, stopping" >&2
	# The daemons first: that aborts any FUSE request the benchmark is
	# stuck in, so that it can die.
	kill -KILL "$bpid" "$epid" "$benchpid" 2>/dev/null
fi
wait "$benchpid"
rc=$?
benchpid=''

for log in "$tmp/bare.log" "$tmp/evfdfs.log"; do
	if grep -Eiq 'error|warning|Sanitizer' "$log"; then
		echo "bench: $(basename "$log"):" >&2
		cat "$log" >&2
	fi
done
[ $rc -eq 0 ] && echo "bench: table written to $out"
exit $rc
