#!/bin/sh
# umod modprobe against kmod 30's modprobe on the Debian cloud tree indexed by
# kmod's depmod: -D for every module name, -R for every 5th alias and some
# symbol: names, and the error for unknown names (text and exit status).
# Without the tree (none here, no download possible), skipped with a reason
# (a failure in CI). kmod must succeed for every module name it indexed.
set -u
umod=$1
src=$2
. "$(dirname "$0")/lib.sh"
need_command modprobe depmod
need_cloud_tree "$src"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -a "$tree" "$tmp/root"
kver=$(ls "$tmp/root/lib/modules" | head -n 1)
kmod_depmod "$tmp/root" "$kver"
dir="$tmp/root/lib/modules/$kver"

sed 's|:.*||; s|.*/||; s|\.ko.*||' "$dir/modules.dep" > "$tmp/names"
echo "no_such_module" >> "$tmp/names"
awk '/^alias/ && NR % 5 == 0 {print $2}' "$dir/modules.alias" > "$tmp/aliases"
awk '/^alias/ && NR % 50 == 0 {print $2}' "$dir/modules.symbols" >> "$tmp/aliases"
echo "no-such-alias" >> "$tmp/aliases"

for tool in kmod umod; do
	if [ $tool = kmod ]; then run="modprobe"; else run="$umod modprobe"; fi
	while read -r n; do
		echo "== -D $n"; $run -C /dev/null -d "$tmp/root" -S "$kver" -D "$n" 2>&1; echo "exit $?"
	done < "$tmp/names" > "$tmp/$tool.D"
	while read -r a; do
		echo "== -R $a"; $run -C /dev/null -d "$tmp/root" -S "$kver" -R "$a" 2>&1; echo "exit $?"
	done < "$tmp/aliases" > "$tmp/$tool.R"
done
status=0
# The reference worked: kmod resolved every indexed name and most aliases.
at_least "$(grep -c '^exit 0$' "$tmp/kmod.D")" 1121 "module names that kmod's modprobe -D resolved"
at_least "$(grep -c '^exit 0$' "$tmp/kmod.R")" 500 "aliases that kmod's modprobe -R resolved"
for f in D R; do
	if ! cmp -s "$tmp/kmod.$f" "$tmp/umod.$f"; then
		echo "modprobe -$f differs from kmod:"; diff "$tmp/kmod.$f" "$tmp/umod.$f" | head -20; status=1
	fi
done
[ $status = 0 ] && echo "modprobe: identical to kmod in $(($(wc -l < "$tmp/names") + $(wc -l < "$tmp/aliases"))) cases ($(wc -l < "$tmp/names") names with -D, $(wc -l < "$tmp/aliases") aliases with -R) of $tree"
exit $status
