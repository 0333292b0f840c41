#!/usr/bin/env bash
# Install what evfdfs needs, only if it is missing.
#   scripts/deps.sh run    libfuse3, fuse3 (fusermount3), libaio, attr, pkg-config
#   scripts/deps.sh test   the same, plus Criterion, xmllint and Chromium (make check)
# Debian/Ubuntu (apt-get); as root it installs, otherwise it prints the
# command to run.  Exits non-zero if something is still missing.
set -u
what=${1:-run}

missing=()
have_pc() { pkg-config --exists "$1" 2>/dev/null; }
have_hdr() { printf '#include <%s>\n' "$1" | ${CC:-cc} -E -x c - >/dev/null 2>&1; }

command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v ${CC:-cc} >/dev/null 2>&1 || missing+=(gcc)
have_pc fuse3 || missing+=(libfuse3-dev)
command -v fusermount3 >/dev/null 2>&1 || missing+=(fuse3)
have_hdr libaio.h || missing+=(libaio-dev)
command -v setfattr >/dev/null 2>&1 || missing+=(attr)
if [ "$what" = test ]; then
	have_hdr criterion/criterion.h || missing+=(libcriterion-dev)
	# evfdfs-trace2svg's tests check the SVG with xmllint
	command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
	# ... and render it in headless Chromium (Debian's package)
	[ -x /usr/bin/chromium ] || missing+=(chromium)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

echo "evfdfs: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "evfdfs: missing packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "evfdfs: no apt-get here; install: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || exit 1
apt-get install -y -qq "${missing[@]}" >&2 || exit 1
