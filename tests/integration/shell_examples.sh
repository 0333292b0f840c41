#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run every shell example of the documentation as written and check what it
# prints, so that no example can rot.
#
#     tests/integration/shell_examples.sh [-l] [FILE...]
#
# FILEs default to README.md and man/*.[178].  -l lists the examples
# found (and those marked not-run) without running anything.  B names the
# build directory (default build): its evfdfs serves the mounts and comes
# first in PATH.  Exits 0 when every example printed what the document
# says; prints "examples: R run, F failed, N not-run" last either way.
#
# The convention (the documents follow it, and this script is its
# definition):
#
# - An example is a block whose first line starts with "$ ": in Markdown
#   an indented code block (4 spaces), in a man page a .nf/.fi or .EX/.EE
#   block.  Blocks without a leading "$ " (C code, synopses, fstab lines)
#   are not shell examples.
# - A "$ " line is a command; "> " lines right after it continue it (as
#   bash's PS2 shows a loop being typed).  The lines after a command, up
#   to the next "$ ", are what it prints (stdout and stderr, as a terminal
#   shows them), including what background jobs ("&") print while it
#   runs.  Before each command the runner waits until every background job
#   is asleep or gone and the mount's status file has stopped changing, as
#   a person typing would, so a blocked `cat text/x &` has printed what it
#   was going to print.  Commands run in bash, non-interactive, with
#   stdin from /dev/null; ls lists in columns, as on an 80-column
#   terminal; bash's job messages ("[1] 1234") are not shown.
# - In expected output, "..." matches any text within a line, and a line
#   that is only "..." matches any number of lines (Python doctest's
#   ELLIPSIS): for pids, times, sequence numbers and lines in an order
#   that varies.  Trailing blank lines are ignored.
# - /tmp/evfdfs is the mount under test: each example gets a fresh mount
#   (so the first counter has id 1) substituted for that path, in commands
#   and output.  /tmp/ev is a fresh empty directory, for examples that
#   mount their own.  Each example starts in a fresh directory where
#   examples/ is the source tree's and build/ the build directory (links),
#   so that examples/demo.sh and build/evfdfs-top work as from the top of
#   the tree.
# - An example that cannot run here (a second terminal, root-only system
#   changes) is marked just before it with <!-- not-run: REASON --> in
#   Markdown, or .\" not-run: REASON in a man page.  They are counted and
#   listed; more than EVFDFS_EXAMPLES_MAX_NOT_RUN (3) fails the run.
# - Background jobs still running when an example ends are killed.  An
#   example fails when a command's output differs, when it runs for more
#   than 120 s, or when its daemon does not then exit 0 with a clean log
#   (EVFDFS_EXAMPLES_DEBUG=1 shows the unmount of every example).
set -u

B=${B:-build}
MAX_NOT_RUN=${EVFDFS_EXAMPLES_MAX_NOT_RUN:-3}
SETTLE_MS=${EVFDFS_EXAMPLES_SETTLE_MS:-40}
list_only=0
if [ "${1:-}" = -l ]; then
	list_only=1
	shift
fi
if [ $# -eq 0 ]; then
	set -- README.md man/*.[178]
fi
case $B in /*) ;; *) B=$PWD/$B ;; esac
TOP=$(cd "$(dirname "$0")/../.." && pwd)
if [ $list_only = 0 ] && [ ! -x "$B/evfdfs" ]; then
	echo "examples: $B/evfdfs is not built" >&2
	exit 2
fi

WORK=$(mktemp -d /tmp/shex.XXXXXX)
daemon=
cleanup() {
	if [ -n "$daemon" ]; then
		fusermount3 -uz "$WORK/mnt" 2>/dev/null
		kill -KILL "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
	fi
	fusermount3 -uz "$WORK/mnt" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- extraction -------------------------------------------------------------

# extract FILE: write each example as $WORK/ex/NNN (first line "# FILE:LINE",
# the block's lines after it), and each not-run block as $WORK/ex/NNN.skip
# (first line "# FILE:LINE REASON").
mkdir -p "$WORK/ex"
n=0
extract() {
	awk -v file="$1" -v dir="$WORK/ex" -v start="$n" '
	function deroff(s) {
		gsub(/\\-/, "-", s); gsub(/\\\(aq/, "\047", s)
		gsub(/\\\(dq/, "\"", s); gsub(/\\\(ga/, "`", s)
		gsub(/\\&/, "", s); gsub(/\\ /, " ", s); gsub(/\\e/, "\\", s)
		return s
	}
	function flush(   i, f) {
		if (nl == 0) return
		if (lines[1] ~ /^\$ /) {
			start++
			f = sprintf("%s/%03d", dir, start)
			if (skip != "") {
				print "# " file ":" first " " skip > (f ".skip")
				close(f ".skip")
			} else {
				print "# " file ":" first > f
				for (i = 1; i <= nl; i++) print lines[i] > f
				close(f)
			}
		}
		skip = ""
		nl = 0
	}
	BEGIN { man = (file !~ /\.md$/); inblk = 0; nl = 0; skip = "" }
	man && /^\.\\" not-run:/ { skip = $0; sub(/^\.\\" not-run: */, "", skip); next }
	!man && /<!-- not-run:/ {
		blanks = 0; flush()
		skip = $0; sub(/.*<!-- not-run: */, "", skip); sub(/ *-->.*/, "", skip); next
	}
	man && /^\.(nf|EX)/ { inblk = 1; nl = 0; first = NR + 1; next }
	man && /^\.(fi|EE)/ { inblk = 0; flush(); next }
	man && inblk { if ($0 !~ /^\.\\"/) lines[++nl] = deroff($0); next }
	man { next }
	# Markdown: an indented block, blank lines inside it kept.
	/^    / {
		if (nl == 0) first = NR
		for (; blanks > 0; blanks--) lines[++nl] = ""
		lines[++nl] = substr($0, 5); next
	}
	/^[ \t]*$/ { if (nl > 0) blanks++; next }
	{ blanks = 0; flush() }
	END { blanks = 0; flush(); print start > (dir "/count") }
	' "$1"
	n=$(cat "$WORK/ex/count")
}
for f in "$@"; do
	extract "$f"
done

run=0 failed=0 skipped=0
for s in "$WORK"/ex/*.skip; do
	[ -e "$s" ] || continue
	skipped=$((skipped + 1))
	echo "not-run: $(head -1 "$s" | cut -c3-)"
done
if [ $list_only = 1 ]; then
	for e in "$WORK"/ex/[0-9][0-9][0-9]; do
		[ -e "$e" ] || continue
		echo "example: $(head -1 "$e" | cut -c3-)"
		tail -n +2 "$e" | sed 's/^/    /'
	done
	exit 0
fi

# --- matching ---------------------------------------------------------------

# A glob for one expected line: "..." matches anything, the rest literally.
glob_of() {
	local s=$1 g='' c
	while [ -n "$s" ]; do
		if [ "${s:0:3}" = ... ]; then
			g+='*'
			s=${s:3}
			continue
		fi
		c=${s:0:1}
		case $c in
		'*' | '?' | '[' | ']' | '\') g+="\\$c" ;;
		*) g+=$c ;;
		esac
		s=${s:1}
	done
	printf '%s' "$g"
}

# match I J: do expected lines EXP[I..] match actual lines ACT[J..]?
match() {
	local i=$1 j=$2 k
	if [ "$i" -ge ${#EXP[@]} ]; then
		[ "$j" -ge ${#ACT[@]} ]
		return
	fi
	if [ "${EXP[$i]}" = ... ]; then
		for ((k = j; k <= ${#ACT[@]}; k++)); do
			match $((i + 1)) $k && return 0
		done
		return 1
	fi
	[ "$j" -lt ${#ACT[@]} ] || return 1
	# shellcheck disable=SC2053
	[[ ${ACT[$j]} == ${GLOB[$i]} ]] || return 1
	match $((i + 1)) $((j + 1))
}

# load ARRAY FILE: the file's lines, trailing blank lines dropped.
load() {
	local -n arr=$1
	mapfile -t arr <"$2"
	while [ ${#arr[@]} -gt 0 ] && [[ ${arr[-1]} =~ ^[[:space:]]*$ ]]; do
		unset 'arr[-1]'
	done
}

# --- running ----------------------------------------------------------------

# What the generated script runs between commands: wait until no
# descendant of the shell is running (all asleep, stopped or gone) and
# nothing changes (their states, the output, the mount's status) for
# three samples in a row, at most 20 s.
cat >"$WORK/sync.sh" <<'EOF'
# Each descendant of pid $1 but $2 (and its own), as PID:STATE, read
# from /proc without starting a process.
__desc() {
	local t k kids st
	for t in /proc/$1/task/*/children; do
		kids=()
		read -r -a kids <"$t" 2>/dev/null
		for k in "${kids[@]}"; do
			[ "$k" = "$2" ] && continue
			st=
			read -r st <"/proc/$k/stat" 2>/dev/null
			st=${st##*) }
			printf '%s:%s ' "$k" "${st%% *}"
			__desc "$k" "$2"
		done
	done
}
__sample() {
	local l
	__desc $$ $BASHPID
	stat -c %s "$__OUT"
	while IFS= read -r l; do echo "$l"; done <"$__MNT/status" 2>/dev/null
}
__sync() {
	local prev= cur same=0 tries=0
	while [ $same -lt 3 ] && [ $tries -lt $((20000 / (__SETTLE_MS + 1))) ]; do
		sleep "$__SETTLE"
		cur=$(__sample)
		tries=$((tries + 1))
		case $cur in *:R*) same=0; prev=; continue ;; esac
		if [ "$cur" = "$prev" ]; then same=$((same + 1)); else same=1; fi
		prev=$cur
	done
}
__restore() { return "$1"; }
# ls lists in columns, as on an 80-column terminal.
ls() { command ls -C -w 80 "$@"; }
EOF

mount_fresh() {
	mkdir -p "$WORK/mnt"
	"$B/evfdfs" -f "$WORK/mnt" >"$WORK/daemon.log" 2>&1 &
	daemon=$!
	local i
	for i in $(seq 200); do
		[ -e "$WORK/mnt/status" ] && return 0
		kill -0 "$daemon" 2>/dev/null || break
		sleep 0.05
	done
	echo "examples: the daemon did not mount:" >&2
	cat "$WORK/daemon.log" >&2
	return 1
}

unmount() {
	local i rc
	local t=$SECONDS
	fusermount3 -u "$WORK/mnt" 2>/dev/null || { echo "busy: lazy unmount" >&2; fusermount3 -uz "$WORK/mnt"; }
	# (generous: a sanitizer build on a loaded machine is slow to leave)
	for i in $(seq 600); do
		kill -0 "$daemon" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$daemon" 2>/dev/null && echo "the daemon did not exit" &&
		kill -KILL "$daemon"
	wait "$daemon"
	rc=$?
	daemon=
	echo "daemon gone after $((SECONDS - t)) s" >&2
	if [ $rc -ne 0 ] || grep -qiE 'error|warning|sanitizer' "$WORK/daemon.log"; then
		echo "daemon exited $rc:"
		cat "$WORK/daemon.log"
		return 1
	fi
}

# run_example FILE: run one example; 0 when it printed what it says.
run_example() {
	local ex=$1 where cmds=0 line i k ok=1
	local dir="$WORK/run" mnt="$WORK/mnt" t0=$SECONDS
	where=$(head -1 "$ex" | cut -c3-)
	rm -rf "$dir" "$WORK/ev"
	mkdir -p "$dir/cwd" "$WORK/ev"
	ln -s "$TOP/examples" "$dir/cwd/examples"
	ln -s "$B" "$dir/cwd/build"
	mount_fresh || return 1
	local sub="s#/tmp/evfdfs\\b#$mnt#g; s#/tmp/ev\\b#$WORK/ev#g"
	# Split into commands and expected outputs.
	{
		printf '__OUT=%s __MNT=%s __SETTLE_MS=%d __SETTLE=%d.%03d\n' \
			"$dir/out" "$mnt" "$SETTLE_MS" $((SETTLE_MS / 1000)) \
			$((SETTLE_MS % 1000))
		echo "export PATH=\"$B:\$PATH\""
		echo ". $WORK/sync.sh"
		echo "cd $dir/cwd"
	} >"$dir/script"
	while IFS= read -r line; do
		if [[ $line == '$ '* ]]; then
			cmds=$((cmds + 1))
			: >"$dir/exp.$cmds"
			printf '%s\n' "${line:2}" >"$dir/cmd.$cmds"
		elif [[ $line == '> '* ]] && [ $cmds -gt 0 ] &&
			[ ! -s "$dir/exp.$cmds" ]; then
			printf '%s\n' "${line:2}" >>"$dir/cmd.$cmds"
		else
			printf '%s\n' "$line" >>"$dir/exp.$cmds"
		fi
	done < <(tail -n +2 "$ex" | sed "$sub")
	for ((i = 1; i <= cmds; i++)); do
		{
			echo "__sync; printf '\\n@@EVFDFS-EXAMPLE $i@@\\n'; __restore \${__st:-0}"
			cat "$dir/cmd.$i"
			echo "__st=\$?"
		} >>"$dir/script"
	done
	echo "__sync; printf '\\n@@EVFDFS-EXAMPLE end@@\\n'" >>"$dir/script"
	# The shell leads a process group of its own (its background jobs
	# stay in it: no job control), so whatever it leaves is killed with it.
	setsid bash "$dir/script" >"$dir/out" 2>&1 </dev/null &
	local sh=$! rc
	(
		sleep 120 &
		s=$!
		trap 'kill $s; exit 0' TERM
		wait $s && kill -KILL -- -$sh
	) >/dev/null 2>&1 &
	local watchdog=$!
	wait $sh
	rc=$?
	kill $watchdog 2>/dev/null
	wait $watchdog 2>/dev/null
	kill -TERM -- -$sh 2>/dev/null && sleep 0.1
	kill -KILL -- -$sh 2>/dev/null
	if [ $rc -eq 137 ]; then
		echo "FAIL $where: timed out"
		ok=0
	fi
	# Split the output at the markers.
	awk -v dir="$dir" '
		/^@@EVFDFS-EXAMPLE [0-9a-z]+@@$/ {
			if (f != "") close(f)
			id = $2; sub(/@@$/, "", id)
			f = (id == "end") ? "" : dir "/act." id
			if (f != "") printf "" > f
			next
		}
		f != "" { print > f }
	' "$dir/out"
	for ((i = 1; i <= cmds; i++)); do
		[ -e "$dir/act.$i" ] || : >"$dir/act.$i"
		load EXP "$dir/exp.$i"
		load ACT "$dir/act.$i"
		GLOB=()
		for ((k = 0; k < ${#EXP[@]}; k++)); do
			GLOB[k]=$(glob_of "${EXP[$k]}")
		done
		if ! match 0 0; then
			ok=0
			echo "FAIL $where: command $i:"
			sed 's/^/    $ /' "$dir/cmd.$i"
			echo "  expected:"
			sed 's/^/    /' "$dir/exp.$i"
			echo "  got:"
			sed 's/^/    /' "$dir/act.$i"
		fi
	done
	if ! unmount >"$dir/unmount" 2>&1; then
		ok=0
		echo "FAIL $where: $(cat "$dir/unmount")"
	fi
	[ -z "${EVFDFS_EXAMPLES_DEBUG:-}" ] || cat "$dir/unmount"
	[ $ok = 1 ] && echo "ok $where ($cmds commands, $((SECONDS - t0)) s, at $SECONDS s)"
	[ $ok = 1 ]
}

for e in "$WORK"/ex/[0-9][0-9][0-9]; do
	[ -e "$e" ] || continue
	run=$((run + 1))
	run_example "$e" || failed=$((failed + 1))
done

echo "examples: $run run, $failed failed, $skipped not-run"
if [ $skipped -gt "$MAX_NOT_RUN" ]; then
	echo "examples: more than $MAX_NOT_RUN examples are marked not-run" >&2
	exit 1
fi
[ $run -gt 0 ] && [ $failed -eq 0 ]
