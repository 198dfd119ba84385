#!/bin/sh
# gdb breaks on a module function by name, and the backtrace names its source
# line: what the loader maps (a private copy of the checked bytes) keeps a
# real path and the debug information.
# Usage: gdb_breakpoint.sh UMOD_BINARY EXAMPLE_MODULES_DIR
set -eu
umod=$1
modules=$2
command -v gdb > /dev/null || { echo "gdb is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
script=$work/script.umod
printf 'insmod %s/crc.so\ninsmod %s/net.so\ncall net net_checksum\n' "$modules" "$modules" > "$script"
# The loader's private copies go under $TMPDIR: here, removed even though gdb kills the host.
export TMPDIR="$work"
out=$(timeout 240 gdb -batch -nx -ex 'set breakpoint pending on' -ex 'break net_checksum' -ex run -ex bt \
	-ex kill --args "$umod" run "$script" 2>&1) || true
if ! echo "$out" | grep -q 'Breakpoint 1, .*net_checksum'; then
	echo "$out"
	echo "gdb did not stop in net_checksum"
	exit 1
fi
if ! echo "$out" | grep -q 'net\.c:[0-9]'; then
	echo "$out"
	echo "the backtrace has no source line of net.c"
	exit 1
fi
echo "gdb stopped in net_checksum (net.c)"
