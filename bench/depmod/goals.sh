#!/bin/sh
# depmod.wall_vs_kmod (≤ 0.5) and depmod.rss_vs_kmod (≤ 1.0): `umod depmod`
# and kmod 30's depmod on copies of Debian's generic 6.1 tree (4,022
# modules), warm cache, alternating, median of 5 runs each (GNU time).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/release}
umod=$build/tools/umod/umod
. "$root/bench/common/generic_tree.sh"
generic_tree "depmod.wall_vs_kmod 0.5" "depmod.rss_vs_kmod 1.0"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -a "$tree" "$work/k" && cp -a "$tree" "$work/u"
depmod -b "$work/k" $kver 2>/dev/null; "$umod" depmod -b "$work/u" $kver 2>/dev/null   # warm the cache
for i in 1 2 3 4 5; do
	/usr/bin/time -f "%e %M" -a -o "$work/k.times" depmod -b "$work/k" $kver 2>/dev/null
	/usr/bin/time -f "%e %M" -a -o "$work/u.times" "$umod" depmod -b "$work/u" $kver 2>/dev/null
done
median() { sort -n | sed -n 3p; }
kw=$(cut -d' ' -f1 "$work/k.times" | median); uw=$(cut -d' ' -f1 "$work/u.times" | median)
kr=$(cut -d' ' -f2 "$work/k.times" | median); ur=$(cut -d' ' -f2 "$work/u.times" | median)
echo "depmod: kmod $kw s $kr KB, umod $uw s $ur KB" >&2
for f in modules.dep modules.dep.bin modules.alias.bin modules.symbols.bin; do
	cmp -s "$work/k/lib/modules/$kver/$f" "$work/u/lib/modules/$kver/$f" || echo "depmod goals: $f differs from kmod's" >&2
done
wall=$(echo "scale=3; $uw / $kw" | bc); rss=$(echo "scale=3; $ur / $kr" | bc)
verdict() { [ "$(echo "$1 $2 $3" | bc)" = 1 ] && echo PASS || echo FAIL; }
echo "GOAL depmod.wall_vs_kmod $wall 0.5 $(verdict "$wall" '<=' 0.5)"
echo "GOAL depmod.rss_vs_kmod $rss 1.0 $(verdict "$rss" '<=' 1.0)"
