#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# System calls per AIO batch: mount evfdfs in a private temporary
# directory, run build/bench/aiobatch on it under strace -c -f, with the
# daemon under strace -c -f too, and print each side's calls per batch
# (warm-up included), the busiest first.
#
#   bench/aio-syscalls.sh [BATCHES [K]]     (defaults: 200 batches of 32)
#
# strace slows everything down: the latency aiobatch prints here means
# nothing; run it without strace (build/bench/aiobatch MNT) for that.
# EVFDFS_BIN=path counts another build of the daemon.
set -u
batches=${1:-200}
k=${2:-32}
B=${B:-build}
evfdfs_bin=${EVFDFS_BIN:-$B/evfdfs}

for f in "$evfdfs_bin" "$B/bench/aiobatch"; do
	[ -x "$f" ] || { echo "aio-syscalls: $f missing (make first)" >&2; exit 1; }
done
command -v strace >/dev/null || { echo "aio-syscalls: strace not installed" >&2; exit 1; }

tmp=$(mktemp -d /tmp/evaiosys.XXXXXX) || exit 1
dpid=''
cleanup() {
	grep -q " $tmp/m " /proc/mounts && { fusermount3 -u "$tmp/m" 2>/dev/null ||
		fusermount3 -uz "$tmp/m" 2>/dev/null; }
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$tmp/m"
strace -c -f -o "$tmp/daemon" "$evfdfs_bin" -f "$tmp/m" 2>"$tmp/log" &
dpid=$!
for _ in $(seq 200); do
	grep -q " $tmp/m " /proc/mounts && break
	sleep 0.05
done
grep -q " $tmp/m " /proc/mounts || { echo "aio-syscalls: no mount" >&2; exit 1; }

strace -c -f -o "$tmp/client" "$B/bench/aiobatch" "$tmp/m" "$batches" "$k" ||
	exit 1
fusermount3 -u "$tmp/m"
wait "$dpid"
dpid=''

# strace -c: "% time seconds usecs/call calls [errors] syscall".
per_batch() {
	awk -v n=$((batches + 10)) '
		$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
			printf "%-18s %8.2f\n", $NF, $4 / n; total += $4
		}
		END { printf "%-18s %8.2f\n", "total", total / n }
	' "$1" | sort -k2 -g -r
}
for side in daemon client; do
	echo "$side: system calls per batch of $k ($batches batches + 10 warm-up)"
	per_batch "$tmp/$side" | head -16
	echo
done
