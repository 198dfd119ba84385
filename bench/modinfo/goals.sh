#!/bin/sh
# modinfo.all_vs_kmod: `umod modinfo` on all 4,022 modules of Debian's generic
# 6.1 tree in one invocation ÷ kmod 30's modinfo the same way; warm cache,
# alternating runs, median of 5 each. Both must exit 0 and print the same
# bytes. Bar: ≤ 0.35.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/release}
umod=$build/tools/umod/umod
. "$root/bench/common/tool_goals.sh"
generic_tree "modinfo.all_vs_kmod 0.35"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
list=$(find "$tree/lib/modules" -name '*.ko' | sort)
count=$(echo "$list" | grep -c .)
[ "$count" -gt 0 ] || fail_goals "no .ko files in $tree"
# The check, which also warms the cache: the same bytes, exit 0 both.
modinfo $list > "$work/k.out" 2>&1 || fail_goals "kmod's modinfo exited $?"
[ -s "$work/k.out" ] || fail_goals "kmod's modinfo printed nothing"
"$umod" modinfo $list > "$work/u.out" 2>&1 || fail_goals "umod modinfo exited $?"
same_output modinfo "$work/k.out" "$work/u.out"
for i in 1 2 3 4 5; do
	t0=$(now); modinfo $list > /dev/null 2>&1; t1=$(now)
	"$umod" modinfo $list > /dev/null 2>&1 || fail_goals "umod modinfo exited $? in timed run $i"
	t2=$(now)
	echo "$t1 - $t0" | bc >> "$work/k.times"
	echo "$t2 - $t1" | bc >> "$work/u.times"
done
k=$(median < "$work/k.times"); u=$(median < "$work/u.times")
echo "modinfo: kmod $k s, umod $u s for $count modules, outputs identical" >&2
verdict modinfo.all_vs_kmod "$(echo "scale=3; $u / $k" | bc)" 0.35 '<='
