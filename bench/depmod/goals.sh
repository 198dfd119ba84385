#!/bin/sh
# depmod.wall_vs_kmod (≤ 0.30) and depmod.rss_vs_kmod (≤ 0.5): `umod depmod`
# and kmod 30's depmod on copies of Debian's generic 6.1 tree (4,022
# modules), warm cache, alternating, median of 5 runs each (GNU time). Every
# run must exit 0, and all ten files must equal kmod's byte for byte.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/release}
umod=$build/tools/umod/umod
. "$root/bench/common/tool_goals.sh"
generic_tree "depmod.wall_vs_kmod 0.30" "depmod.rss_vs_kmod 0.5"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
files="modules.dep modules.dep.bin modules.alias modules.alias.bin modules.softdep modules.symbols
modules.symbols.bin modules.builtin.bin modules.builtin.alias.bin modules.devname"
cp -a "$tree" "$work/k" && cp -a "$tree" "$work/u" || fail_goals "cannot copy $tree"
for f in $files; do rm -f "$work/k/lib/modules/$kver/$f" "$work/u/lib/modules/$kver/$f"; done   # none left from earlier runs
depmod -b "$work/k" $kver 2>/dev/null || fail_goals "kmod's depmod exited $?"
"$umod" depmod -b "$work/u" $kver 2>/dev/null || fail_goals "umod depmod exited $?"
for f in $files; do
	[ -s "$work/k/lib/modules/$kver/$f" ] || [ "$f" = modules.devname ] || fail_goals "kmod's depmod wrote no $f"
	[ -e "$work/u/lib/modules/$kver/$f" ] || fail_goals "umod depmod wrote no $f"
	same_output "depmod $f" "$work/k/lib/modules/$kver/$f" "$work/u/lib/modules/$kver/$f"
done
# Wall time from now() (nanoseconds: /usr/bin/time's %e is 0.00 on a small
# tree, and a ratio of it nothing), peak RSS from /usr/bin/time.
for i in 1 2 3 4 5; do
	t0=$(now)
	/usr/bin/time -f "%M" -a -o "$work/k.rss" depmod -b "$work/k" $kver 2>/dev/null ||
		fail_goals "kmod's depmod exited $? in timed run $i"
	t1=$(now)
	/usr/bin/time -f "%M" -a -o "$work/u.rss" "$umod" depmod -b "$work/u" $kver 2>/dev/null ||
		fail_goals "umod depmod exited $? in timed run $i"
	t2=$(now)
	echo "$t1 - $t0" | bc >> "$work/k.wall"
	echo "$t2 - $t1" | bc >> "$work/u.wall"
done
kw=$(median < "$work/k.wall"); uw=$(median < "$work/u.wall")
kr=$(median < "$work/k.rss"); ur=$(median < "$work/u.rss")
echo "depmod: kmod $kw s $kr KB, umod $uw s $ur KB, all files identical" >&2
status=0
verdict depmod.wall_vs_kmod "$(echo "scale=3; $uw / $kw" | bc)" 0.30 '<=' || status=1
verdict depmod.rss_vs_kmod "$(echo "scale=3; $ur / $kr" | bc)" 0.5 '<=' || status=1
exit $status
