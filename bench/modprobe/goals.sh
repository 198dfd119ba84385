#!/bin/sh
# modprobe.show_depends_vs_kmod: `umod modprobe -D NAME` for a fixed list of
# 200 module names of Debian's generic 6.1 tree (every 20th line of its
# modules.dep, indexed by kmod's depmod), one invocation per name, ÷ kmod 30's
# modprobe the same way; -C /dev/null, warm cache, alternating rounds, median
# of 5 each. Outputs must be identical. Bar: ≤ 1.0.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/release}
umod=$build/tools/umod/umod
. "$root/bench/common/generic_tree.sh"
generic_tree "modprobe.show_depends_vs_kmod 1.0"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -al "$tree" "$work/root" 2>/dev/null || cp -a "$tree" "$work/root"   # hard links when the file system allows
depmod -b "$work/root" $kver 2>/dev/null
sed -n 's|:.*||; s|.*/||; s|\.ko.*||; 1~20p' "$work/root/lib/modules/$kver/modules.dep" | head -n 200 > "$work/names"
now() { date +%s.%N; }
run_all() {  # run_all OUT COMMAND...: -D for every name, one invocation each
	out=$1; shift
	while read -r n; do "$@" -C /dev/null -d "$work/root" -S $kver -D "$n" 2>&1; done < "$work/names" > "$out"
}
run_all "$work/k.out" modprobe; run_all "$work/u.out" "$umod" modprobe   # warm the cache
cmp -s "$work/k.out" "$work/u.out" || echo "modprobe goal: umod's output differs from kmod's" >&2
for i in 1 2 3 4 5; do
	t0=$(now); run_all /dev/null modprobe; t1=$(now)
	run_all /dev/null "$umod" modprobe; t2=$(now)
	echo "$t1 - $t0" | bc >> "$work/k.times"
	echo "$t2 - $t1" | bc >> "$work/u.times"
done
median() { sort -n | sed -n 3p; }
k=$(median < "$work/k.times"); u=$(median < "$work/u.times")
echo "modprobe -D: kmod $k s, umod $u s for $(wc -l < "$work/names") names, one process each" >&2
ratio=$(echo "scale=3; $u / $k" | bc)
if [ "$(echo "$ratio <= 1.0" | bc)" = 1 ]; then verdict=PASS; else verdict=FAIL; fi
echo "GOAL modprobe.show_depends_vs_kmod $ratio 1.0 $verdict"
