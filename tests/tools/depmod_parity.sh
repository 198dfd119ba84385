#!/bin/sh
# umod depmod against kmod 30's depmod: all ten files byte-identical on the
# Debian cloud tree (1,121 modules) and on small trees built here (aliases,
# softdeps, devnames, duplicate exports, no modules.order, -e -E warnings),
# the dry run (-n), and dependency cycles (same messages and exit status,
# nothing written). The real tree comes from $UMOD_CLOUD_TREE,
# /work/trees/cloud or a download; without one, that part is skipped (said),
# and in CI the test fails.
set -u
umod=$1
src=$2
status=0
runs=0; compared=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
files="modules.dep modules.dep.bin modules.alias modules.alias.bin modules.softdep modules.symbols
modules.symbols.bin modules.builtin.bin modules.builtin.alias.bin modules.devname"

# run NAME KVER [OPTIONS...]: depmod both ways on copies of $tmp/NAME, compare.
run() {
	name=$1; kver=$2; shift 2
	runs=$((runs + 1))
	rm -rf "$tmp/k" "$tmp/u"; cp -al "$tmp/$name" "$tmp/k"; cp -al "$tmp/$name" "$tmp/u"  # depmod replaces files, never writes into them
	depmod -b "$tmp/k" "$@" "$kver" > "$tmp/k.out" 2> "$tmp/k.err"; k=$?
	"$umod" depmod -b "$tmp/u" "$@" "$kver" > "$tmp/u.out" 2> "$tmp/u.err"; u=$?
	sed -i "s|$tmp/k|$tmp/u|g" "$tmp/k.err" "$tmp/k.out"
	for f in $files; do
		if [ -e "$tmp/k/lib/modules/$kver/$f" ] || [ -e "$tmp/u/lib/modules/$kver/$f" ]; then
			compared=$((compared + 1))
			cmp -s "$tmp/k/lib/modules/$kver/$f" "$tmp/u/lib/modules/$kver/$f" ||
				{ echo "$name $*: $f differs"; status=1; }
		fi
	done
	cmp -s "$tmp/k.out" "$tmp/u.out" || { echo "$name $*: stdout differs"; diff "$tmp/k.out" "$tmp/u.out" | head; status=1; }
	cmp -s "$tmp/k.err" "$tmp/u.err" || { echo "$name $*: stderr differs"; diff "$tmp/k.err" "$tmp/u.err" | head; status=1; }
	[ $k = $u ] || { echo "$name $*: exit $k (kmod) vs $u"; status=1; }
}

# Small trees: objects built with gcc -c are ET_REL like .ko files.
# mk TREE NAME "EXPORTS" "IMPORTS" [modinfo key=value...]
. "$(dirname "$0")/lib.sh"
need_command depmod gcc
mk() {
	tree=$1; name=$2; shift 2
	mkdir -p "$tmp/$tree/lib/modules/1.0/kernel/sub"
	make_ko "$tmp/$tree/lib/modules/1.0/kernel/sub/$(echo "$name" | tr _ -).ko" "$name" "$@"
}
mk plain core_lib "core_fn core_data" "" "alias=core-lib-alias" "alias=pci:v00001234d*sv*"
mk plain net_drv "net_fn" "core_fn" "alias=net-pf-99" "softdep=pre: core_lib" "alias=devname:netx" "alias=char-major-10-99"
mk plain fs_mod "" "core_fn net_fn missing_fn" "alias=fs-x[a-b]-y" "alias=fs-bad[" "import_ns=X"
mk plain dup_a "shared_fn" "" ; mk plain dup_b "shared_fn" "core_data"
printf 'kernel/sub/core-lib.ko\nkernel/sub/net-drv.ko\nkernel/sub/fs-mod.ko\n' > "$tmp/plain/lib/modules/1.0/modules.order"
printf 'kernel/foo/builtin1.ko\nkernel/bar/built-in2.ko\n' > "$tmp/plain/lib/modules/1.0/modules.builtin"
printf 'builtin1.alias=bi-one\0built_in2.license=GPL\0built_in2.alias=bi-two\0' > "$tmp/plain/lib/modules/1.0/modules.builtin.modinfo"
printf '0x1234abcd\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n0x00000001\tmissing_fn\tvmlinux\tEXPORT_SYMBOL_GPL\t\n' > "$tmp/symvers"
run plain 1.0
[ $k = 0 ] && [ -s "$tmp/k/lib/modules/1.0/modules.dep" ] || { echo "FAIL: kmod's depmod failed on the small tree (exit $k)"; exit 1; }
run plain 1.0 -n
run plain 1.0 -e -E "$tmp/symvers"
cp -a "$tmp/plain" "$tmp/noorder"; rm "$tmp/noorder/lib/modules/1.0/modules.order" "$tmp/noorder/lib/modules/1.0/modules.builtin"*
run noorder 1.0
# Module files that cannot be read: shorter than xz's magic (libkmod's
# EINVAL), and not ELF.
cp -a "$tmp/plain" "$tmp/broken"; printf 'abcde' > "$tmp/broken/lib/modules/1.0/kernel/tiny.ko"
printf 'not an ELF file\n' > "$tmp/broken/lib/modules/1.0/kernel/text.ko"
run broken 1.0

mk loops a "la" "lb"; mk loops b "lb" "lc"; mk loops c "lc" "la"; mk loops d "ld" "le"; mk loops e "le" "ld"
mk loops f "lf" "la"; mk loops h "lh" "li"; mk loops i "li" "lj"; mk loops j "lj" "lk lh"; mk loops k "lk" "lh"
run loops 1.0
[ -e "$tmp/u/lib/modules/1.0/modules.dep" ] && { echo "loops: files were written"; status=1; }
# A module that a cycle needs and that needs another: kmod's walk from the
# cycle went through it, and starting from it again it reports it alone.
mk loops2 a "la" "lb"; mk loops2 b "lb" "la ld"; mk loops2 d "ld" "le"; mk loops2 e "le" ""
mk loops2 r "lr" "lx ly"; mk loops2 x "lx" "lr"; mk loops2 y "ly" "lr"
run loops2 1.0
grep -q "Cycle detected: d$" "$tmp/u.err" || { echo "loops2: kmod's lone 'Cycle detected: d' is missing"; status=1; }

if cloud_tree "$src"; then
	kver=$(ls "$tree/lib/modules" | head -n 1)
	rm -rf "$tmp/cloud"; cp -al "$tree" "$tmp/cloud" 2>/dev/null || cp -a "$tree" "$tmp/cloud"
	run cloud "$kver"
	[ $k = 0 ] && [ "$(wc -l < "$tmp/k/lib/modules/$kver/modules.dep")" -ge 1121 ] ||
		{ echo "FAIL: kmod's depmod did not index the $tree's 1,121 modules (exit $k)"; exit 1; }
	run cloud "$kver" -n
	run cloud "$kver" -v -n
	# Debian's System.map is a stub: every kernel symbol is unknown (about 43,000 warnings).
	[ -f "$tree/boot/System.map-$kver" ] && run cloud "$kver" -e -F "$tree/boot/System.map-$kver"
	at_least "$runs" 8 "depmod runs"
	[ $status = 0 ] && echo "depmod: identical to kmod in $runs runs ($compared files compared) on $tree ($kver) and the small trees"
else
	[ -n "${CI:-}" ] && { echo "FAIL: $tree_problem (CI needs every reference: .ci/run prepares the trees)"; exit 1; }
	echo "SKIP (part): $tree_problem; small trees only"
	[ $status = 0 ] && echo "depmod: identical to kmod in $runs runs ($compared files compared) on the small trees"
fi
exit $status
