#!/bin/sh
# umod run: the demo script passes, and its output matches the golden file
# (addresses normalised); a failing expectation makes the exit status 1.
set -eu
umod=$1
src=$2
build=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|build/release|$build|g" "$src/examples/demo.umod" > "$tmp/demo.umod"
"$umod" run "$tmp/demo.umod" > "$tmp/out" 2>&1 || { cat "$tmp/out"; echo "demo failed"; exit 1; }
# Sizes and addresses vary from build to build: normalise /proc/modules lines.
sed -e "s|$build|build/release|g" \
	-e '/ 0x[0-9a-f]\{16\}$/s/^\([^ ]*\) [0-9]* /\1 SIZE /' \
	-e 's/0x[0-9a-f]\{16\}$/0xADDRESS/' "$tmp/out" > "$tmp/normal"
diff -u "$src/tests/tools/golden/demo.out" "$tmp/normal"

# A line expected to fail that succeeds, and a failure not expected.
printf 'insmod %s/examples/modules/crc.so\n! lsmod\n' "$build" > "$tmp/bad.umod"
if "$umod" run "$tmp/bad.umod" > "$tmp/bad.out"; then echo "expected exit 1"; exit 1; fi
grep -q "expected a failure, but it succeeded" "$tmp/bad.out"
printf 'rmmod nothing\n' > "$tmp/bad2.umod"
if "$umod" run "$tmp/bad2.umod" > "$tmp/bad2.out"; then echo "expected exit 1"; exit 1; fi
grep -q "error ENOENT: module nothing is not loaded" "$tmp/bad2.out"
echo "umod run: golden output and exit statuses as expected"
