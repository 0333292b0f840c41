#!/bin/sh
# make fuzz: build the fuzz target of the AIO record decoder and the
# aio.txt parser (tests/fuzz/src/fuzz_wire.c) and run it for a bounded time
# (FUZZ_SECONDS, default 60) over tests/fuzz/corpus.  With clang's libFuzzer
# when available, else with the target's own random driver.  New inputs go
# to a scratch directory, never into the committed corpus; a crash leaves
# its input in build/fuzz/ and makes this script fail.
set -eu
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
out=build/fuzz
corpus=tests/fuzz/corpus
srcs="tests/fuzz/src/fuzz_wire.c fused/wire.c fused/wire_text.c"
flags="-g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude -fno-omit-frame-pointer"
mkdir -p "$out"

if command -v clang >/dev/null 2>&1 &&
	echo 'int LLVMFuzzerTestOneInput(const char *d, long n){return 0;}' |
	clang -fsanitize=fuzzer -x c - -o "$out/.probe" 2>/dev/null; then
	rm -f "$out/.probe"
	clang $flags -fsanitize=fuzzer,address,undefined $srcs \
		-o "$out/fuzz_wire"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	echo "fuzz: libFuzzer, ${secs}s"
	"$out/fuzz_wire" -max_total_time="$secs" -timeout=10 -max_len=8192 \
		-print_final_stats=1 -artifact_prefix="$out/" \
		"$work" "$corpus"
else
	cc=${CC:-cc}
	$cc $flags -DFUZZ_STANDALONE -fsanitize=address,undefined $srcs \
		-o "$out/fuzz_wire_standalone"
	echo "fuzz: no libFuzzer here; standalone driver, ${secs}s"
	"$out/fuzz_wire_standalone" -t "$secs" "$corpus"/*
fi
