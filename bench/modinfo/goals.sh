#!/bin/sh
# modinfo.all_vs_kmod: `umod modinfo` on all 4,022 modules of Debian's generic
# 6.1 tree in one invocation ÷ kmod 30's modinfo the same way; warm cache,
# alternating runs, median of 5 each. Bar: ≤ 0.5.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/release}
umod=$build/tools/umod/umod
. "$root/bench/common/generic_tree.sh"
generic_tree "modinfo.all_vs_kmod 0.5"
list=$(find "$tree/lib/modules" -name '*.ko' | sort)
now() { date +%s.%N; }
median() { sort -n | sed -n 3p; }
: > /tmp/umod-modinfo-k.$$; : > /tmp/umod-modinfo-u.$$
modinfo $list > /dev/null 2>&1; "$umod" modinfo $list > /dev/null 2>&1   # warm the cache
for i in 1 2 3 4 5; do
	t0=$(now); modinfo $list > /dev/null 2>&1; t1=$(now)
	"$umod" modinfo $list > /dev/null 2>&1; t2=$(now)
	echo "$t1 - $t0" | bc >> /tmp/umod-modinfo-k.$$
	echo "$t2 - $t1" | bc >> /tmp/umod-modinfo-u.$$
done
k=$(median < /tmp/umod-modinfo-k.$$); u=$(median < /tmp/umod-modinfo-u.$$)
rm -f /tmp/umod-modinfo-k.$$ /tmp/umod-modinfo-u.$$
echo "modinfo: kmod $k s, umod $u s for $(echo "$list" | wc -l) modules" >&2
ratio=$(echo "scale=3; $u / $k" | bc)
if [ "$(echo "$ratio <= 0.5" | bc)" = 1 ]; then verdict=PASS; else verdict=FAIL; fi
echo "GOAL modinfo.all_vs_kmod $ratio 0.5 $verdict"
