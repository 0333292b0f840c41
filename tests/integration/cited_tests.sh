#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every test that docs/conformance.md cites (`test-SUITE group/name`) must
# exist in the built test programs: prints each cited test that does not,
# and exits 1 if there is one (2 if the programs cannot be listed).
#
#   tests/integration/cited_tests.sh [BUILD_DIR]     (default: build)
set -u
B=${1:-build}
cd "$(dirname "$0")/../.." || exit 2
page=docs/conformance.md
have=$(mktemp) || exit 2
trap 'rm -f "$have"' EXIT
# (BXFI_MAP: set inside a Criterion test, it would make the programs
# below its workers)
for b in conformance integration unit shim; do
	[ -x "$B/test-$b" ] || { echo "cited_tests: $B/test-$b missing" >&2; exit 2; }
	env -u BXFI_MAP "$B/test-$b" --list | awk -v b="test-$b" '
		/: [0-9]+ tests?$/ { s = $1; sub(":", "", s) }
		/[├└]/ { print b, s "/" $2 }'
done | sort -u >"$have"
[ -s "$have" ] || { echo "cited_tests: no test listed" >&2; exit 2; }
missing=$(grep -o '`test-[a-z]* [a-z_0-9]*/[a-z_0-9]*`' "$page" | tr -d '`' |
	sort -u | comm -23 - "$have")
[ -z "$missing" ] && exit 0
echo "$page cites tests that do not exist:"
echo "$missing"
exit 1
