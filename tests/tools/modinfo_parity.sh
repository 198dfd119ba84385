#!/bin/sh
# umod modinfo against kmod 30's modinfo on every module of a real Debian
# tree (the cloud kernel, 1,121 modules): stdout, stderr and exit status must
# be byte-identical, for the default listing and for -p, -F, -0 and -n, plus
# broken files. The tree comes from $UMOD_CLOUD_TREE, /work/trees/cloud, or a
# download with shared/scripts/get-real-modules.sh; when none is possible the
# test is skipped (exit 77) saying why.
set -u
umod=$1
src=$2
kmod_modinfo=$(command -v modinfo || echo /usr/sbin/modinfo)
[ -x "$kmod_modinfo" ] || { echo "kmod's modinfo is not installed (scripts/install-deps.sh installs kmod)"; exit 1; }

. "$(dirname "$0")/lib.sh"
cloud_tree "$src" || { echo "SKIP: no Debian cloud module tree here and it could not be downloaded"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
find "$tree/lib/modules" -name '*.ko' | sort > "$tmp/list"
count=$(wc -l < "$tmp/list")
[ "$count" -gt 1000 ] || { echo "only $count modules in $tree"; exit 1; }
head -c 1000 "$(head -n 1 "$tmp/list")" > "$tmp/trunc.ko"
echo "not an ELF file" > "$tmp/not-elf.ko"
# Compressed copies of a few modules (kmod reads .ko.xz and .ko.zst).
for ko in $(head -n 3 "$tmp/list"); do
	name=$(basename "$ko")
	xz -c "$ko" > "$tmp/$name.xz"
	zstd -q -c "$ko" > "$tmp/$name.zst"
done
printf 'garbage' | xz -c | head -c 20 > "$tmp/broken.ko.xz"

status=0
compare() {  # compare ARGS...: same stdout, stderr and exit status
	"$kmod_modinfo" "$@" > "$tmp/k.out" 2> "$tmp/k.err"; k=$?
	"$umod" modinfo "$@" > "$tmp/u.out" 2> "$tmp/u.err"; u=$?
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
compare "$tmp"/*.ko.xz "$tmp"/*.ko.zst

# By name, alias and built-in name, through the tree's index (kmod's depmod).
cp -a "$tree" "$tmp/root"
kver=$(ls "$tmp/root/lib/modules" | head -n 1)
depmod -b "$tmp/root" "$kver" 2>/dev/null
names=$(sed 's|:.*||; s|.*/||; s|\.ko.*||' "$tmp/root/lib/modules/$kver/modules.dep")
builtins=$(sed 's|.*/||; s|\.ko.*||' "$tmp/root/lib/modules/$kver/modules.builtin")
# shellcheck disable=SC2086
compare -b "$tmp/root" -k "$kver" $names $builtins crypto-crc32c fs-vfat no-such-module
# shellcheck disable=SC2086
compare -b "$tmp/root" -k "$kver" -m $(echo "$names" | head -n 50) crypto-crc32c
[ $status = 0 ] && echo "modinfo: identical to kmod for all $count modules of $tree"
exit $status
