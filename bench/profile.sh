#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Where the time goes: the same workload on barefuse and on evfdfs, one
# daemon at a time, and for each one what the daemon did per FUSE request.
#
#   bench/profile.sh [ROUNDS [ITERS]]
#
# perf stat (software events and syscall tracepoints, which work in a VM
# without hardware counters) on the daemon's pid: CPU time, context
# switches and syscalls per request, where a request is a read of
# /dev/fuse that returned one.  Then, if valgrind is installed, each daemon
# runs under callgrind with its counts zeroed just before the
# workload: user-space instructions per request.  Rounds alternate the
# daemons, and the medians are printed.
set -u
rounds=${1:-5}
iters=${2:-4000}
B=${B:-build}
evfdfs_bin=${EVFDFS_BIN:-$B/evfdfs} # another build of the daemon, to compare
sections=(pingpong nonblock poll)

for f in "$evfdfs_bin" "$B/bench/barefuse" "$B/bench/evbench"; do
	[ -x "$f" ] || { echo "profile: $f missing (make first)" >&2; exit 1; }
done
command -v perf >/dev/null || { echo "profile: perf not installed" >&2; exit 1; }

tmp=$(mktemp -d /tmp/evprofile.XXXXXX) || exit 1
pids=()
cleanup() {
	for m in "$tmp"/m-*; do
		[ -d "$m" ] || continue
		grep -q " $m " /proc/mounts && { fusermount3 -u "$m" 2>/dev/null ||
			fusermount3 -uz "$m" 2>/dev/null; }
	done
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mount NAME CMD...: mount a daemon on $tmp/m-NAME, echo its pid.
mount_daemon() {
	local name=$1 m="$tmp/m-$1" _
	shift
	mkdir -p "$m"
	"$@" -f "$m" 2>"$tmp/$name.log" &
	pids+=($!)
	for _ in $(seq 200); do
		grep -q " $m " /proc/mounts && return 0
		sleep 0.05
	done
	echo "profile: $name did not mount" >&2
	exit 1
}

# workload NAME SECTION: run it on that daemon's mount alone.
workload() {
	local opt=--bare
	[ "$1" = evfdfs ] && opt=--evfdfs
	timeout 300 "$B/bench/evbench" -q -r 1 -n "$iters" -s "$2" \
		"$opt" "$tmp/m-$1" >/dev/null 2>&1 ||
		echo "profile: the $2 workload failed on $1" >&2
}

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

mount_daemon barefuse "$B/bench/barefuse"
bpid=${pids[-1]}
mount_daemon evfdfs "$evfdfs_bin"
epid=${pids[-1]}

echo "per FUSE request, median of $rounds rounds ($iters iterations each):"
printf '%-10s %-9s %8s %8s %9s %8s %8s\n' section daemon "cpu us" "ctxsw" syscalls reads epolls
for s in "${sections[@]}"; do
	for d in barefuse evfdfs; do : >"$tmp/$s.$d"; done
	for _ in $(seq "$rounds"); do
		for d in barefuse evfdfs; do
			pid=$bpid
			[ $d = evfdfs ] && pid=$epid
			perf stat -x, -o "$tmp/perf" -p "$pid" \
				-e task-clock,context-switches \
				-e syscalls:sys_exit_read --filter 'ret > 0' \
				-e raw_syscalls:sys_enter \
				-e syscalls:sys_enter_read \
				-e syscalls:sys_enter_epoll_wait &
			sp=$!
			sleep 0.3
			workload $d "$s"
			kill -INT $sp
			wait $sp
			awk -F, '
				/task-clock/ { t = $1 }
				/context-switches/ { c = $1 }
				/sys_exit_read/ { q = $1 }
				/raw_syscalls:sys_enter/ { a = $1 }
				/sys_enter_read/ { r = $1 }
				/sys_enter_epoll_wait/ { e = $1 }
				END { if (q > 0) printf "%f %f %f %f %f\n",
					t * 1000 / q, c / q, a / q, r / q, e / q }
			' "$tmp/perf" >>"$tmp/$s.$d"
		done
	done
	for d in barefuse evfdfs; do
		printf '%-10s %-9s' "$s" "$d"
		for col in 1 2 3 4 5; do
			printf ' %8.2f' "$(cut -d' ' -f$col "$tmp/$s.$d" | median)"
		done
		echo
	done
done

command -v valgrind >/dev/null || exit 0
echo
echo "user-space instructions per FUSE request (callgrind, ping-pong):"
for m in barefuse evfdfs; do
	fusermount3 -u "$tmp/m-$m"
done
wait "$bpid" "$epid" 2>/dev/null
mount_daemon barefuse valgrind --tool=callgrind --compress-strings=no \
	--callgrind-out-file="$tmp/cg-barefuse.out" "$B/bench/barefuse"
cbpid=${pids[-1]}
mount_daemon evfdfs valgrind --tool=callgrind --compress-strings=no \
	--callgrind-out-file="$tmp/cg-evfdfs.out" "$evfdfs_bin"
cepid=${pids[-1]}
for d in barefuse evfdfs; do
	pid=$cbpid
	[ $d = evfdfs ] && pid=$cepid
	workload $d pingpong # warm: counters made, buffers allocated
	callgrind_control -z "$pid" >/dev/null 2>&1
	workload $d pingpong
	callgrind_control -d "$pid" >/dev/null 2>&1
	for _ in $(seq 100); do # the dump is written after the answer
		grep -qs '^totals:' "$tmp"/cg-$d.out.* && break
		sleep 0.1
	done
	# Requests: calls of the handlers, bare_* and op_* (perf would count
	# valgrind's own pipe reads too).
	cat "$tmp"/cg-$d.out.* 2>/dev/null | awk -v d=$d '
		/^summary:/ { ir += $2 }
		/^cfn=/ { proc = ($0 ~ /^cfn=(bare|op)_[a-z_]+$/) }
		/^calls=/ { if (proc) req += substr($1, 7); proc = 0 }
		END { printf "%-9s %6.0f instructions per request (%d requests)\n",
			d, (req > 0 ? ir / req : 0), req }'
done
