#!/bin/sh
# umod run at the stacks tracking level: every report names the module
# function that took or dropped the reference (grab is not exported: its name
# comes from ext4.so's symbol table), with file:line, in text and in JSON;
# UMOD_TRACK sets the level without a `track` command.
set -eu
umod=$1
src=$2
build=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|build/release|$build|g" "$src/examples/stacks.umod" > "$tmp/stacks.umod"
"$umod" run "$tmp/stacks.umod" > "$tmp/out" 2>&1 || { cat "$tmp/out"; echo "stacks script failed"; exit 1; }

expect() {
	grep -qF -- "$1" "$tmp/out" || { cat "$tmp/out"; echo "missing: $1"; exit 1; }
}
# holders, then the refused unload: both references, taken in grab.
expect "  2 reference(s) to crc:crc16 held by ext4, acquired at ext4.so: grab+0x"
expect "      ext4.so: ext4_grab+0x"
expect "(ext4.c:"
expect "  error EAGAIN: crc is in use: module ext4 (static 0, dynamic 2: crc16 x2)"
[ "$(grep -c "acquired at ext4.so: grab+0x" "$tmp/out")" -eq 3 ] || { cat "$tmp/out"; echo "want 3 acquisition reports"; exit 1; }
# The unmatched put, where it was made.
expect "[unmatched-put] unmatched put: badput put crc32 of crc without a matching get"
expect "  put at badput.so: badput_put+0x"
# The leak at unload, with the stack of the reference still held.
expect "[leak] leak: ext4 still held 1 reference(s) to crc (crc16 x1), released"
expect "  1 reference(s) to crc:crc16 held by ext4, acquired at ext4.so: grab+0x"
# JSON reports.
expect '"unmatched_put": {'
expect '"function": "badput_put",'
expect '"object": "badput.so",'
expect '"errno": "ENOENT",'
expect '"module": "crc"'
expect '"function": "grab",'

# Reading line tables loads libdw and zlib after crc, which exports crc32 as
# zlib does: zlib must not bind to crc's, or crc could never be unmapped.
expect "  crc unloaded, code unmapped"

# The environment sets the level.
printf 'insmod %s/examples/modules/crc.so\ninsmod %s/examples/modules/ext4.so\ncall ext4 ext4_grab\nholders crc\ncall ext4 ext4_release\n' \
	"$build" "$build" > "$tmp/env.umod"
UMOD_TRACK=stacks "$umod" run "$tmp/env.umod" > "$tmp/env.out" 2>&1
grep -qF "1 reference(s) to crc:crc16 held by ext4, acquired at ext4.so: grab+0x" "$tmp/env.out" ||
	{ cat "$tmp/env.out"; echo "UMOD_TRACK=stacks ignored"; exit 1; }
UMOD_TRACK=counts "$umod" run "$tmp/env.umod" > "$tmp/counts.out" 2>&1
if grep -q "acquired at" "$tmp/counts.out"; then cat "$tmp/counts.out"; echo "stacks at counts"; exit 1; fi
printf 'track loud\n' > "$tmp/bad.umod"
if "$umod" run "$tmp/bad.umod" > "$tmp/bad.out" 2>&1; then echo "expected exit 1"; exit 1; fi
grep -qF 'error EINVAL: tracking level "loud" is not off, counts or stacks' "$tmp/bad.out"
echo "umod run: stacks reports as expected"
