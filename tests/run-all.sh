#!/usr/bin/env bash
# Run the Criterion suites named on the command line (build/test-NAME),
# in the order unit, conformance, integration, then any others, each under
# an outer timeout.  Prints no passing test's name: every failure (FAIL,
# with its assertion messages) and every skip (SKIP, with its reason), one
# "run-all:" summary line per suite, and a closing "check: N passed,
# N failed, N skipped" line.  Lines of its own start with "run-all:".
# Exits non-zero if any test failed or crashed, or a suite binary itself
# failed (its daemon did not exit cleanly, say).
set -u
B=${B:-build}
JOBS=${EVFDFS_TEST_JOBS:-2}
order=(unit conformance integration)
suites=()
for s in "${order[@]}"; do
	for a in "$@"; do [ "$a" = "$s" ] && suites+=("$s"); done
done
for a in "$@"; do
	case " ${order[*]} " in *" $a "*) ;; *) suites+=("$a") ;; esac
done

total_pass=0 total_fail=0 total_skip=0 bad=0
for s in "${suites[@]}"; do
	bin="$B/test-$s"
	if [ ! -x "$bin" ]; then
		echo "run-all: $bin missing" >&2
		bad=1
		continue
	fi
	log=$(mktemp)
	tap=$(mktemp)
	env_extra=()
	[ "$s" = unit ] && env_extra=(EVFDFS_NO_SHARED_MOUNT=1)
	env "${env_extra[@]}" B="$B" timeout -k 10 600 "$bin" -j"$JOBS" \
		--verbose=1 --tap="$tap" \
		"${EVFDFS_TEST_ARGS[@]+${EVFDFS_TEST_ARGS[@]}}" >"$log" 2>&1
	rc=$?
	# Criterion's TAP report: "ok - NAME  (TIME)", "ok - NAME  # SKIP WHY",
	# "not ok - NAME WHY" followed by an indented block of messages.  A
	# failure whose block is empty gets the "[----]" lines that came just
	# before its "[FAIL]" line in the verbose log instead.  "test was
	# skipped" is a test left out by --filter (or disabled): not listed.
	awk '
		FNR == NR {
			if ($0 ~ /^\[----\] / && $0 !~ /^\[----\] Criterion/) {
				line = substr($0, 8); sub(/^ +/, "", line)
				if (line != "") buf = buf "    " line "\n"
				next
			}
			if ($0 ~ /^\[FAIL\] /) {
				n = $0; sub(/^\[FAIL\] /, "", n); sub(/: .*/, "", n)
				logmsg[n] = buf
			}
			buf = ""
			next
		}
		function flush() {
			if (cur != "" && !said) printf "%s", logmsg[cur]
			cur = ""
		}
		/^not ok - / {
			flush()
			sub(/^not ok - /, ""); print "FAIL " $0
			cur = $1; said = 0; inblock = 1; next
		}
		/^ok - .*# SKIP test was skipped$/ { flush(); inblock = 0; next }
		/^ok - .*# SKIP/ {
			flush()
			name = $0; sub(/^ok - /, "", name); sub(/ *# SKIP.*/, "", name)
			why = $0; sub(/.*# SKIP */, "", why)
			print "SKIP " name ": " why; inblock = 0; next
		}
		/^(ok|#|TAP|1\.\.)/ { flush(); inblock = 0; next }
		inblock && !/^  (---|\.\.\.|assertions:|failures:)/ {
			line = $0; sub(/^ */, "", line); sub(/ *\|\+$/, "", line)
			if (line ~ /^- /) { loc = substr(line, 3); next }
			if (line != "") { print "    " loc (loc == "" ? "" : " ") line; said = 1 }
			loc = ""
		}
		END { flush() }
	' "$log" "$tap" | head -400
	# Criterion's own warnings (a crash in a test's .init or .fini).
	grep -E '^\[WARN\]|Warning!' "$log" | sed 's/^\[WARN\] */WARN /' | head -50
	passing=$(grep -E '^ok - ' "$tap" | grep -vc '# SKIP')
	failing=$(grep -c '^not ok - ' "$tap")
	skipped=$(grep '^ok - .*# SKIP' "$tap" | grep -vc '# SKIP test was skipped$')
	syn=$(grep 'Synthesis:' "$log" | tail -1)
	total_pass=$((total_pass + passing))
	total_fail=$((total_fail + failing))
	total_skip=$((total_skip + skipped))
	echo "run-all: $s: $passing passed, $failing failed, $skipped skipped"
	# A test worker's leak report comes after its result was sent, so
	# Criterion counts it passed and exits 0: the log is what tells.
	sanitizer=$(grep -cE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$log")
	if [ "$rc" -ne 0 ] || [ -z "$syn" ] || [ "$sanitizer" -ne 0 ]; then
		bad=1
		echo "run-all: suite $s exited with status $rc," \
			"$sanitizer sanitizer report(s)" >&2
		[ -z "$syn" ] && tail -30 "$log" >&2
		[ "$sanitizer" -ne 0 ] &&
			grep -A12 -E 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$log" | head -60 >&2
		[ "$failing" -eq 0 ] && total_fail=$((total_fail + 1))
	fi
	rm -f "$log" "$tap"
done
echo "check: $total_pass passed, $total_fail failed, $total_skip skipped"
[ "$bad" -eq 0 ] && [ "$total_fail" -eq 0 ]
