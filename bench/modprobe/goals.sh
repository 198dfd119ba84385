#!/bin/sh
# modprobe.show_depends_vs_kmod: `umod modprobe -D NAME` for a fixed list of
# 200 module names of Debian's generic 6.1 tree (every 20th line of its
# modules.dep, indexed by kmod's depmod), one invocation per name, ÷ kmod 30's
# modprobe the same way; -C /dev/null, warm cache, alternating rounds, median
# of 5 each. Every invocation must exit 0 and print what kmod's prints.
# Bar: ≤ 0.70.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/release}
umod=$build/tools/umod/umod
. "$root/bench/common/tool_goals.sh"
generic_tree "modprobe.show_depends_vs_kmod 0.70"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -al "$tree" "$work/root" 2>/dev/null || cp -a "$tree" "$work/root"   # hard links when the file system allows
depmod -b "$work/root" $kver 2>/dev/null || fail_goals "kmod's depmod exited $?"
sed -n 's|:.*||; s|.*/||; s|\.ko.*||; 1~20p' "$work/root/lib/modules/$kver/modules.dep" | head -n 200 > "$work/names"
names=$(wc -l < "$work/names")
[ "$names" -gt 0 ] || fail_goals "kmod's depmod indexed no modules"
# run_all OUT COMMAND...: -D for every name, one invocation each; returns the
# number of invocations that failed.
run_all() {
	out=$1; shift; failed=0
	while read -r n; do "$@" -C /dev/null -d "$work/root" -S $kver -D "$n" 2>&1 || failed=$((failed + 1)); done < "$work/names" > "$out"
	return $failed
}
# The check, which also warms the cache.
run_all "$work/k.out" modprobe || fail_goals "kmod's modprobe -D failed for $? of $names names"
run_all "$work/u.out" "$umod" modprobe || fail_goals "umod modprobe -D failed for $? of $names names"
same_output "modprobe -D" "$work/k.out" "$work/u.out"
for i in 1 2 3 4 5; do
	t0=$(now); run_all /dev/null modprobe; t1=$(now)
	run_all /dev/null "$umod" modprobe || fail_goals "umod modprobe -D failed for $? names in timed run $i"
	t2=$(now)
	echo "$t1 - $t0" | bc >> "$work/k.times"
	echo "$t2 - $t1" | bc >> "$work/u.times"
done
k=$(median < "$work/k.times"); u=$(median < "$work/u.times")
echo "modprobe -D: kmod $k s, umod $u s for $names names, one process each, outputs identical" >&2
verdict modprobe.show_depends_vs_kmod "$(echo "scale=3; $u / $k" | bc)" 0.70 '<='
