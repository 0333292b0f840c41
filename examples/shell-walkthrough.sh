#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# A tour of an evfdfs mount from the shell: every step is something you can
# type yourself.  Run it against a mounted evfdfs:
#
#     examples/shell-walkthrough.sh /tmp/evfdfs      (or EVFDFS_MOUNT=...)
#
# It narrates what it does, checks what it sees, and exits 0 when the mount
# behaved as described (non-zero, with the step that went wrong, if not).
# Nothing waits for ever: every read that could block runs under timeout(1).
# It needs coreutils, od, and getfattr/setfattr (the attr package).
set -eu

MNT=${1:-${EVFDFS_MOUNT:-}}
if [ -z "$MNT" ]; then
	echo "usage: $0 MOUNTPOINT (or set EVFDFS_MOUNT)" >&2
	exit 2
fi
cd "$MNT"

# A name of our own, so that several tours can share one mount.
C=tour-$$
WORK=$(mktemp -d)
cleanup() {
	exec 3>&- 2>/dev/null || true
	rm -f "$MNT/$C" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() {
	echo "FAILED: $*" >&2
	exit 1
}
# Read N values from a text view, one read(2) each, as `cat text/NAME`
# would, but stopping after N (cat would wait for more for ever) and
# giving up after 5 s.  (head(1) would try to seek back afterwards, which
# a counter, like a pipe, refuses.)
take() { timeout 5 dd if="text/$1" bs=64 count="$2" status=none; }
# The counter's value without consuming it: the value attribute is a peek.
peek() { getfattr --only-values -n user.evfdfs.value "$1"; }
# Wait (at most 5 s) until status shows counter $1 with field $2.
wait_status() {
	i=0
	until grep -q "^counter $1 .*$2" status; do
		i=$((i + 1))
		[ $i -le 500 ] || fail "status never showed $2 for $1"
		sleep 0.01
	done
}

step "The mount: counters, their text views, status, trace, AIO files"
ls

step "touch makes a counter; it starts at 0"
touch "$C"
echo "value: $(peek "$C")"
[ "$(peek "$C")" = 0 ] || fail "new counter is not 0"

step "echo adds through the text view: 3, then 1 and 2 (two writes)"
echo 3 >"text/$C"
echo "1 2" >"text/$C"
echo "value: $(peek "$C")"
[ "$(peek "$C")" = 6 ] || fail "expected 6"

step "The binary file keeps eventfd's rules: a text write to it is EINVAL"
if (echo 3 >"$C") 2>/dev/null; then
	fail "a text write to the binary counter succeeded"
fi
echo "echo 3 > $C: refused, as write(2) of 2 bytes to an eventfd is"

step "Reading the text view consumes: a normal counter gives all of it"
take "$C" 1 >"$WORK/read1" || fail "read timed out"
echo "read: $(cat "$WORK/read1")"
[ "$(cat "$WORK/read1")" = 6 ] || fail "expected to read 6"
echo "value now: $(peek "$C")"

step "Semaphore mode (EFD_SEMAPHORE) is an attribute: reads give 1 each"
setfattr -n user.evfdfs.semaphore -v 1 "$C"
echo "semaphore: $(getfattr --only-values -n user.evfdfs.semaphore "$C")"
echo 2 >"text/$C"
take "$C" 2 >"$WORK/read2" || fail "read timed out"
echo "read:" $(cat "$WORK/read2")
[ "$(echo $(cat "$WORK/read2"))" = "1 1" ] || fail "expected 1 then 1"

step "A read of an empty counter blocks until someone writes"
take "$C" 1 >"$WORK/read3" &
reader=$!
wait_status "$C" "readers=1"
echo "status while it waits:"
grep "^counter $C " status
echo 5 >"text/$C"
wait $reader || fail "the blocked reader did not finish"
echo "the reader woke up and read: $(cat "$WORK/read3")"
[ "$(cat "$WORK/read3")" = 1 ] || fail "expected 1"
echo "value left: $(peek "$C")"
[ "$(peek "$C")" = 4 ] || fail "expected 4 left"

step "Setting the value attribute replaces the count"
setfattr -n user.evfdfs.value -v 10 "$C"
echo "value: $(peek "$C")"

step "trace shows what happens, live (one line per event)"
timeout 10 cat trace >"$WORK/trace" &
tracer=$!
# trace shows events from the moment it is opened: write 0 (which changes
# nothing, but is an event) until the reader has seen one.
wait_trace() {
	i=0
	until grep -q "^[0-9]* [0-9.]* $1 $C " "$WORK/trace"; do
		i=$((i + 1))
		[ $i -le 500 ] || fail "trace never showed a $1 of $C"
		[ -z "${2:-}" ] || echo "$2" >"text/$C"
		sleep 0.01
	done
}
wait_trace write 0
echo 7 >"text/$C"
take "$C" 1 >/dev/null
wait_trace read
kill $tracer 2>/dev/null || true
wait $tracer 2>/dev/null || true
echo "what the trace showed (without sequence numbers, times and pids):"
grep " $C " "$WORK/trace" | grep -v "val=0 " |
	sed -e 's/^[0-9]* [0-9.]* //' -e 's/pid=[0-9]*/pid=N/' -e 's/handle=[0-9]*/handle=N/'

step "rm while open: the name goes, the counter lives on for its holders"
exec 3<>"$C"
rm "$C"
[ ! -e "$C" ] || fail "the name is still there"
echo "ls $C: gone"
# The binary interface through the descriptor: one 8-byte write of 7 ...
printf '\007\000\000\000\000\000\000\000' >&3
# ... and one read (semaphore mode: 1), as od shows it.
v=$(timeout 5 od -An -tu8 -N8 <&3 | tr -d ' ')
echo "read through the open descriptor: $v"
[ "$v" = 1 ] || fail "expected 1"
exec 3>&-

step "Done: the tour behaved as described"
exit 0
