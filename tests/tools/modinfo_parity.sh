#!/bin/sh
# umod modinfo against kmod 30's modinfo on every module of a real Debian
# tree (the cloud kernel, 1,121 modules): stdout, stderr and exit status must
# be byte-identical, for the default listing and for -p, -F, -0 and -n, plus
# broken files. The tree comes from $UMOD_CLOUD_TREE, /work/trees/cloud, or a
# download with shared/scripts/get-real-modules.sh; when none is possible the
# test is skipped (exit 77) saying why, and fails in CI. Every module counts
# as one case per listing compared; kmod must print something for each.
set -u
umod=$1
src=$2
. "$(dirname "$0")/lib.sh"
need_command modinfo depmod xz zstd
kmod_modinfo=$(command -v modinfo)
need_cloud_tree "$src"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
find "$tree/lib/modules" -name '*.ko' | sort > "$tmp/list"
count=$(wc -l < "$tmp/list")
[ "$count" -gt 1000 ] || { echo "only $count modules in $tree"; exit 1; }
head -c 1000 "$(head -n 1 "$tmp/list")" > "$tmp/trunc.ko"
echo "not an ELF file" > "$tmp/not-elf.ko"
# Shorter than the longest compression magic (xz's 6 bytes): libkmod's EINVAL.
printf 'abcde' > "$tmp/tiny.ko"; : > "$tmp/empty.ko"; printf 'abcdef' > "$tmp/six.ko"
# Compressed copies of a few modules (kmod reads .ko.xz and .ko.zst).
for ko in $(head -n 3 "$tmp/list"); do
	name=$(basename "$ko")
	xz -c "$ko" > "$tmp/$name.xz"
	zstd -q -c "$ko" > "$tmp/$name.zst"
done
printf 'garbage' | xz -c | head -c 20 > "$tmp/broken.ko.xz"

status=0
cases=0
compare() {  # compare ARGS...: same stdout, stderr and exit status
	"$kmod_modinfo" "$@" > "$tmp/k.out" 2> "$tmp/k.err"; k=$?
	"$umod" modinfo "$@" > "$tmp/u.out" 2> "$tmp/u.err"; u=$?
	[ -s "$tmp/k.out" ] || [ -s "$tmp/k.err" ] || { echo "FAIL: kmod's modinfo $1 ... printed nothing"; exit 1; }
	for arg in "$@"; do case $arg in -*) ;; *) cases=$((cases + 1)) ;; esac; done
	if ! cmp -s "$tmp/k.out" "$tmp/u.out" || ! cmp -s "$tmp/k.err" "$tmp/u.err" || [ $k != $u ]; then
		echo "DIFFERENT for modinfo $1 ...:"; diff "$tmp/k.out" "$tmp/u.out" | head -20
		diff "$tmp/k.err" "$tmp/u.err" | head -5; echo "exit $k vs $u"
		status=1
	fi
}
# shellcheck disable=SC2046
compare $(cat "$tmp/list")
for option in -p "-F alias" "-F parm" -0 -n "-F signature"; do
	# shellcheck disable=SC2046,SC2086
	compare $option $(cat "$tmp/list")
done
compare "$tmp/trunc.ko" "$tmp/not-elf.ko" "$(head -n 1 "$tmp/list")"
compare "$tmp/tiny.ko" "$tmp/empty.ko" "$tmp/six.ko"
# Both streams into one file: kmod's stdout is buffered (4 KiB), its errors
# are not, so they land where its buffer stood; umod's must land there too.
# shellcheck disable=SC2046
set -- $(head -n 60 "$tmp/list") "$tmp/not-elf.ko" no-such-module $(sed -n '61,120p' "$tmp/list")
"$kmod_modinfo" "$@" > "$tmp/k.both" 2>&1; k=$?
"$umod" modinfo "$@" > "$tmp/u.both" 2>&1; u=$?
cases=$((cases + 1))
if ! cmp -s "$tmp/k.both" "$tmp/u.both" || [ $k != $u ]; then
	echo "DIFFERENT for modinfo with stdout and stderr in one file:"; diff "$tmp/k.both" "$tmp/u.both" | head -10; status=1
fi
compare "$tmp"/*.ko.xz "$tmp"/*.ko.zst

# By name, alias and built-in name, through the tree's index (kmod's depmod).
cp -a "$tree" "$tmp/root"
kver=$(ls "$tmp/root/lib/modules" | head -n 1)
kmod_depmod "$tmp/root" "$kver"
names=$(sed 's|:.*||; s|.*/||; s|\.ko.*||' "$tmp/root/lib/modules/$kver/modules.dep")
at_least "$(echo "$names" | wc -l)" 1121 "module names"
builtins=$(sed 's|.*/||; s|\.ko.*||' "$tmp/root/lib/modules/$kver/modules.builtin")
# shellcheck disable=SC2086
compare -b "$tmp/root" -k "$kver" $names $builtins crypto-crc32c fs-vfat no-such-module
# shellcheck disable=SC2086
compare -b "$tmp/root" -k "$kver" -m $(echo "$names" | head -n 50) crypto-crc32c
at_least "$cases" $((count * 7 + 1121)) "modinfo cases"
[ $status = 0 ] && echo "modinfo: identical to kmod in $cases cases (all $count modules, 7 listings, by name and alias) of $tree"
exit $status
