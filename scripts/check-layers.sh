#!/usr/bin/env bash
# scripts/check-layers.sh: check that the daemon's files call only
# downward, as fused/LAYERS lays them out (see its header).  Reads the
# symbols of $B/fused/*.o (B=build by default; make check passes its own):
# a file's undefined symbols that another fused/ object defines are its
# calls (and data references) to that file.  Fails, saying why, on a file
# that is not in exactly one layer, a call to a later layer, or a cycle of
# calls within a layer that is not marked cycles-ok.  Prints one
# "check-layers:" summary line when all is well.
set -u
B=${B:-build}
cd "$(dirname "$0")/.." || exit 2
map=fused/LAYERS
NM=${NM:-nm}
bad=0
fail() {
	echo "check-layers: $*" >&2
	bad=1
}

# file -> layer rank, layer name; layer -> cycles-ok
declare -A rank lname cycok
nlayers=0
while IFS= read -r line; do
	line=${line%%#*}
	[[ $line =~ ^[[:space:]]*$ ]] && continue
	if ! [[ $line =~ ^[[:space:]]*([a-z0-9_-]+)([[:space:]]+cycles-ok)?:(.*)$ ]]; then
		fail "$map: cannot read: $line"
		continue
	fi
	name=${BASH_REMATCH[1]}
	[ -n "${BASH_REMATCH[2]}" ] && cycok[$name]=1
	nlayers=$((nlayers + 1))
	for f in ${BASH_REMATCH[3]}; do
		if [ -n "${rank[$f]+x}" ]; then
			fail "$map: $f is in layers ${lname[$f]} and $name"
			continue
		fi
		[ -e "fused/$f.c" ] || fail "$map: fused/$f.c does not exist"
		rank[$f]=$nlayers
		lname[$f]=$name
	done
done <"$map"

for src in fused/*.c; do
	f=$(basename "$src" .c)
	[ -n "${rank[$f]+x}" ] || fail "$src is in no layer of $map"
	[ -e "$B/fused/$f.o" ] || fail "$B/fused/$f.o missing: build first"
done
[ "$bad" -eq 0 ] || exit 1

# symbol -> defining file
declare -A def
for f in "${!rank[@]}"; do
	while read -r _ _ sym; do
		def[$sym]=$f
	done < <($NM --defined-only -g "$B/fused/$f.o")
done

# calls between files: "FROM TO SYMBOL"
edges=$(for f in "${!rank[@]}"; do
	$NM -u "$B/fused/$f.o" | while read -r _ sym; do
		t=${def[$sym]:-}
		[ -n "$t" ] && [ "$t" != "$f" ] && echo "$f $t $sym"
	done
done | sort)

ncalls=0
declare -A same
while read -r f t sym; do
	[ -n "$f" ] || continue
	ncalls=$((ncalls + 1))
	if [ "${rank[$t]}" -gt "${rank[$f]}" ]; then
		fail "fused/$f.c (${lname[$f]}) calls $sym of fused/$t.c" \
			"(${lname[$t]}, a layer above)"
	elif [ "${rank[$t]}" -eq "${rank[$f]}" ]; then
		same[${lname[$f]}]+="$f $t"$'\n'
	fi
done <<<"$edges"

# cycles within a layer: tsort names one loop at a time on stderr
for l in "${!same[@]}"; do
	[ -n "${cycok[$l]+x}" ] && continue
	out=$(printf '%s' "${same[$l]}" | sort -u | tsort 2>&1 >/dev/null)
	if [ -n "$out" ]; then
		fail "a cycle of calls within layer $l:" \
			$(echo "$out" | grep -v 'input contains a loop' |
				sed 's/^tsort: //')
	fi
done

[ "$bad" -eq 0 ] || exit 1
echo "check-layers: ${#rank[@]} files in $nlayers layers," \
	"$ncalls symbols used across files, none upward"
