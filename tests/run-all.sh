#!/usr/bin/env bash
# Run the Criterion suites named on the command line (build/test-NAME),
# in the order unit, conformance, integration, then any others, each under
# an outer timeout.  Prints every skip with its reason, one summary line per
# suite and a closing "N passed, N failed, N skipped" line; exits non-zero
# if any test failed or crashed, or a suite binary itself failed (its
# daemon did not exit cleanly, say).
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
	echo "=== $s"
	log=$(mktemp)
	env_extra=()
	[ "$s" = unit ] && env_extra=(EVFDFS_NO_SHARED_MOUNT=1)
	env "${env_extra[@]}" B="$B" timeout -k 10 600 "$bin" -j"$JOBS" \
		--verbose=1 "${EVFDFS_TEST_ARGS[@]+${EVFDFS_TEST_ARGS[@]}}" >"$log" 2>&1
	rc=$?
	grep -E '\[(FAIL|SKIP|----)\]|Assertion|FAILED|Sanitizer|runtime error|Synthesis|Warning|Timed out|CRASH|signal' "$log" \
		| grep -v '^\[----\] Criterion' | head -200
	syn=$(grep 'Synthesis:' "$log" | tail -1)
	tested=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$syn")
	passing=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$syn")
	failing=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$syn")
	crashing=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$syn")
	skipped=$(grep -c '\[SKIP\]' "$log")
	tested=${tested:-0} passing=${passing:-0} failing=${failing:-0} crashing=${crashing:-0}
	total_pass=$((total_pass + passing))
	total_fail=$((total_fail + failing))
	total_skip=$((total_skip + skipped))
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
	rm -f "$log"
done
echo "check: $total_pass passed, $total_fail failed, $total_skip skipped"
[ "$bad" -eq 0 ] && [ "$total_fail" -eq 0 ]
