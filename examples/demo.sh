#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# A guided demo for a room: blocking, semaphore mode, readiness, an AIO
# completion landing on a counter, and a process killed while blocked, one
# step at a time.
#
#     examples/demo.sh MOUNTPOINT          (or EVFDFS_MOUNT=...)
#
# Before each step it says what to watch in the live view, which runs in a
# second terminal:
#
#     evfdfs-top MOUNTPOINT                (or: cat MOUNTPOINT/trace)
#
# Enter goes on to the next step; DEMO_DELAY=SECONDS goes on by itself
# after that many seconds (DEMO_DELAY=0: straight through, as the tests
# run it).  Its counters are demo-jobs, demo-sem, demo-ready, demo-done
# and demo-victim; it removes them at the end.  Nothing else shows in the
# trace: it waits for its own processes with status (a read, no event),
# wait and kill, never with a counter of its own.
# Step 5 uses build/examples/epoll_ready (make builds it; set
# EVFDFS_EXAMPLES_BIN to its directory if it is elsewhere), or perl's
# select(2) without it.  It needs coreutils, getfattr/setfattr (the attr
# package) and perl.
set -eu

MNT=${1:-${EVFDFS_MOUNT:-}}
if [ -z "$MNT" ]; then
	echo "usage: $0 MOUNTPOINT (or set EVFDFS_MOUNT)" >&2
	exit 2
fi
# The epoll example, built by make (EVFDFS_EXAMPLES_BIN: where it is).
EPOLL_READY=$(cd "${EVFDFS_EXAMPLES_BIN:-$(dirname "$0")/../build/examples}" \
	2>/dev/null && pwd)/epoll_ready
cd "$MNT"
if [ ! -e status ] || [ ! -e aio.txt ]; then
	echo "$0: $MNT is not an evfdfs mount" >&2
	exit 2
fi

NAMES="demo-jobs demo-sem demo-ready demo-done demo-victim"
WORK=$(mktemp -d)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	exec 3>&- 2>/dev/null || true
	for n in $NAMES; do [ ! -e "$MNT/$n" ] || rm -f "$MNT/$n"; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bold=
plain=
if [ -t 1 ]; then
	bold=$(printf '\033[1m')
	plain=$(printf '\033[0m')
fi
say() { printf '%s\n' "$*"; }
# Each step: its title, then what to watch, then the Enter (or the delay).
step() {
	printf '\n%s== %s%s\n' "$bold" "$1" "$plain"
	shift
	for l in "$@"; do say "   watch: $l"; done
	go_on
}
go_on() {
	if [ -n "${DEMO_DELAY:-}" ]; then
		sleep "$DEMO_DELAY"
	elif [ -t 0 ]; then
		printf '   [Enter] '
		read -r _
	else
		read -r _ || true
	fi
}
# Show a command, then run it.
run() {
	say "   \$ $*"
	sh -c "$*"
}
peek() { getfattr --only-values -n user.evfdfs.value "$1"; }
# Wait (at most 10 s) until status shows field $2 for counter $1: reading
# status is no event, so this leaves nothing in the trace.
until_status() {
	i=0
	until grep -q "^counter $1 .*$2" status; do
		i=$((i + 1))
		[ $i -le 1000 ] || {
			echo "$0: $1 never showed $2" >&2
			exit 1
		}
		sleep 0.01
	done
}
# A reader in the background: one read of text/$1, printed with its pid.
reader() {
	(
		v=$(dd if="text/$1" bs=64 count=1 status=none) &&
			say "   reader $(sh -c 'echo $PPID'): got $v"
	) &
	PIDS="$PIDS $!"
}

say "${bold}evfdfs: a guided demo on $MNT$plain"
say "Start the live view in a second terminal, where the room can see it:"
say "    evfdfs-top $MNT        (or: cat $MNT/trace)"
for n in $NAMES; do [ ! -e "$n" ] || rm -f "$n"; done
go_on

step "1. A read of an empty counter blocks" \
	"demo-jobs appears with count 0; then a reader blocked on it (a park line)"
run "touch demo-jobs"
reader demo-jobs
until_status demo-jobs "readers=1"
say "   a reader is blocked in read(2), as on an empty eventfd"

step "2. A write wakes it" \
	"the write of 3, the reader woken (wake, read val=3), count back to 0"
run "echo 3 > text/demo-jobs"
wait
PIDS=
say "   demo-jobs is now $(peek demo-jobs)"

step "3. Semaphore mode: each read takes 1" \
	"demo-sem with semaphore=1 and three readers blocked on it"
run "touch demo-sem"
run "setfattr -n user.evfdfs.semaphore -v 1 demo-sem"
reader demo-sem
reader demo-sem
reader demo-sem
until_status demo-sem "readers=3"
say "   three readers blocked"

step "4. One write of 3 wakes all three" \
	"a write of 3, then three reads of val=1: each reader got 1"
run "echo 3 > text/demo-sem"
wait
PIDS=
say "   demo-sem is now $(peek demo-sem)"

step "5. Readiness: a poller waits without consuming" \
	"demo-ready with a poller (pollers=1; a poll line), waiting in epoll_wait(2)"
run "touch demo-ready"
if [ -x "$EPOLL_READY" ]; then
	say "   \$ epoll_ready demo-ready 30 &"
	"$EPOLL_READY" demo-ready 30 | sed 's/^/   poller: /' &
else
	# Without the built example: select(2), the same readiness.
	say "   \$ perl -e '... select(...) ...' < demo-ready &"
	(
		perl -e 'vec(my $r = "", 0, 1) = 1; exit !select($r, undef, undef, 30)' \
			<demo-ready && say "   poller: demo-ready: readable"
	) &
fi
PIDS="$PIDS $!"
until_status demo-ready "pollers=1"
say "   a poller is waiting"

step "6. A write makes it readable" \
	"the write of 1 and the pollers notified; the value stays: count=1"
run "echo 1 > text/demo-ready"
wait
PIDS=
say "   demo-ready still holds $(peek demo-ready): readiness consumes nothing"
say "   \$ dd if=text/demo-ready bs=64 count=1 status=none"
say "   $(dd if=text/demo-ready bs=64 count=1 status=none)"

step "7. AIO: a completion lands on a counter" \
	"a reader blocked on demo-done; an AIO context (aio.txt) submits a pwrite" \
	"whose completion signals demo-done (+1) and wakes the reader"
run "touch demo-done"
reader demo-done
until_status demo-done "readers=1"
exec 3<>aio.txt
say "   \$ exec 3<>aio.txt"
say "   \$ echo \"pwrite data=hello resfd=demo-done $WORK/out.txt 0 hello\" >&3"
: >"$WORK/out.txt"
echo "pwrite data=hello resfd=demo-done $WORK/out.txt 0 hello" >&3
read -r line <&3
say "   completion: $line"
wait
PIDS=
exec 3>&-
say "   the file holds: $(cat "$WORK/out.txt")"

step "8. A process killed while blocked" \
	"a reader blocked on demo-victim, then killed: an interrupt line, nothing consumed"
run "touch demo-victim"
dd if=text/demo-victim bs=64 count=1 status=none >/dev/null &
victim=$!
PIDS="$PIDS $victim"
until_status demo-victim "readers=1"
say "   reader $victim blocked; now: kill -KILL $victim"
go_on
kill -KILL $victim
wait $victim 2>/dev/null || true
PIDS=
until_status demo-victim "readers=0"
run "echo 2 > text/demo-victim"
say "   demo-victim holds $(peek demo-victim): the killed reader took nothing"

step "9. Clean up" "the demo's counters removed (unlink)"
for n in $NAMES; do run "rm $n"; done
say
say "${bold}Done.$plain  The same by hand: README.md, \"A tour from the shell\"."
