#!/bin/sh
# Modules of other architectures: ELF32 (i386) and big-endian ELF64 (s390x),
# and arm64 and ppc64el, built here with clang --target (no cross toolchain or
# download needed). umod depmod (all ten files, -e -E with version checks),
# modinfo, modprobe --show-exports, --show-modversions and -D must be
# identical to kmod 30's on each tree (the two --show options also on every
# tenth module of the Debian cloud tree, when there is one). A real
# Debian tree of another architecture is compared too when
# $UMOD_FOREIGN_TREES names directories holding them (each ROOT/lib/modules/VERSION,
# e.g. from shared/scripts/get-real-modules.sh linux-image-6.1.0-50-s390x:s390x ROOT).
set -u
umod=$1
command -v clang > /dev/null || { echo "SKIP: clang is not installed"; exit 77; }
command -v depmod > /dev/null || { echo "SKIP: kmod is not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
status=0
files="modules.dep modules.dep.bin modules.alias modules.alias.bin modules.softdep modules.symbols
modules.symbols.bin modules.builtin.bin modules.builtin.alias.bin modules.devname"

# show_symbols KO LABEL: modprobe --show-exports and --show-modversions.
show_symbols() {
	for opt in --show-exports --show-modversions; do
		modprobe -C /dev/null $opt "$1" > "$tmp/k.out" 2>&1; k=$?
		"$umod" modprobe -C /dev/null $opt "$1" > "$tmp/u.out" 2>&1; u=$?
		if [ $k != $u ] || ! cmp -s "$tmp/k.out" "$tmp/u.out"; then
			echo "$2 modprobe $opt $1 differs (exit $k vs $u)"; diff "$tmp/k.out" "$tmp/u.out" | head -5; status=1
		fi
		shown=$((shown + 1))
	done
}
shown=0

# compare ROOT KVER LABEL: depmod, modinfo of every module, modprobe -D of every name.
compare() {
	root=$1; kver=$2; label=$3
	rm -rf "$tmp/k" "$tmp/u"; cp -a "$root" "$tmp/k"; cp -a "$root" "$tmp/u"
	for extra in "" "-e -E $tmp/symvers"; do
		# shellcheck disable=SC2086
		depmod -b "$tmp/k" $extra "$kver" > "$tmp/k.out" 2> "$tmp/k.err"; k=$?
		# shellcheck disable=SC2086
		"$umod" depmod -b "$tmp/u" $extra "$kver" > "$tmp/u.out" 2> "$tmp/u.err"; u=$?
		sed -i "s|$tmp/k|$tmp/u|g" "$tmp/k.err"
		[ $k = $u ] || { echo "$label depmod $extra: exit $k (kmod) vs $u"; status=1; }
		cmp -s "$tmp/k.err" "$tmp/u.err" || { echo "$label depmod $extra: stderr differs"; diff "$tmp/k.err" "$tmp/u.err" | head; status=1; }
		for f in $files; do
			cmp -s "$tmp/k/lib/modules/$kver/$f" "$tmp/u/lib/modules/$kver/$f" ||
				{ echo "$label depmod $extra: $f differs"; status=1; }
		done
	done
	find "$tmp/k/lib/modules/$kver" -name '*.ko*' | sort > "$tmp/kos"
	while read -r ko; do
		modinfo "$ko" > "$tmp/k.out" 2>&1; k=$?
		"$umod" modinfo "$ko" > "$tmp/u.out" 2>&1; u=$?
		if [ $k != $u ] || ! cmp -s "$tmp/k.out" "$tmp/u.out"; then
			echo "$label modinfo $ko differs (exit $k vs $u)"; diff "$tmp/k.out" "$tmp/u.out" | head -5; status=1
		fi
		show_symbols "$ko" "$label"
	done < "$tmp/kos"
	sed 's|:.*||; s|.*/||; s|\.ko.*||' "$tmp/k/lib/modules/$kver/modules.dep" > "$tmp/names"
	while read -r n; do
		modprobe -C /dev/null -d "$tmp/k" -S "$kver" -D "$n" > "$tmp/k.out" 2>&1; k=$?
		"$umod" modprobe -C /dev/null -d "$tmp/k" -S "$kver" -D "$n" > "$tmp/u.out" 2>&1; u=$?
		if [ $k != $u ] || ! cmp -s "$tmp/k.out" "$tmp/u.out"; then
			echo "$label modprobe -D $n differs (exit $k vs $u)"; diff "$tmp/k.out" "$tmp/u.out" | head -5; status=1
		fi
	done < "$tmp/names"
	echo "$label: $(wc -l < "$tmp/kos") modules, $(wc -l < "$tmp/names") names compared"
}

printf '0x1234abcd\tcore_fn\tvmlinux\tEXPORT_SYMBOL\t\n0x00000042\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n' > "$tmp/symvers"
for target in i386-linux-gnu s390x-linux-gnu aarch64-linux-gnu powerpc64le-linux-gnu; do
	root="$tmp/tree-$target"
	d="$root/lib/modules/1.0/kernel/drivers"
	mkdir -p "$d"
	export KO_CC="clang --target=$target -Wno-unused-command-line-argument"
	make_ko "$d/core-lib.ko" core_lib "core_fn core_data" "" "alias=core-lib-alias" "alias=pci:v00001234d*sv*" \
		"description=a core library" "author=Someone <a@b.c>" "parm=debug:int" "vermagic=6.1.0 SMP mod_unload"
	make_ko "$d/net-drv.ko" net_drv "net_fn" "core_fn" "alias=net-pf-99" "softdep=pre: core_lib" \
		"alias=devname:netx" "alias=char-major-10-99" "depends=core_lib"
	make_ko "$d/fs-mod.ko" fs_mod "" "core_fn net_fn missing_fn" "depends=core_lib,net_drv"
	# Imports with versions: struct modversion_info is a target long then the name.
	cat > "$tmp/versioned.c" <<'C'
struct modversion_info { unsigned long crc; char name[64 - sizeof(unsigned long)]; };
__attribute__((section("__versions"), used)) static const struct modversion_info v[] = {
	{0x1234abcd, "core_fn"}, {0x99, "printk"}, {0x7, "net_fn"}};
__attribute__((section(".modinfo"), used, aligned(1))) static const char n[] = "name=versioned";
__attribute__((section(".modinfo"), used, aligned(1))) static const char l[] = "license=GPL";
extern int core_fn(void); extern int printk(void); extern int net_fn(void);
int use(void) { return core_fn() + printk() + net_fn(); }
C
	$KO_CC -c -fno-pic "$tmp/versioned.c" -o "$d/versioned.ko"
	cp "$d/fs-mod.ko" "$d/fs-mod-xz.ko" && xz "$d/fs-mod-xz.ko" 2> /dev/null
	compare "$root" 1.0 "$target"
done
unset KO_CC

# Errors: no such file, not ELF, no tables; the first name only, as kmod.
printf 'not an ELF file\n' > "$tmp/text.ko"
printf 'abcde' > "$tmp/tiny.ko"  # shorter than xz's magic: libkmod's EINVAL
for f in "$tmp/no-such.ko" "$tmp/text.ko" "$tmp/versioned.c" "$tmp/tiny.ko"; do show_symbols "$f" errors; done
if cloud_tree; then
	find "$tree/lib/modules" -name '*.ko*' | sort | awk 'NR % 10 == 0' > "$tmp/cloud-kos"
	while read -r ko; do show_symbols "$ko" cloud; done < "$tmp/cloud-kos"
	echo "cloud: --show-exports and --show-modversions on $(wc -l < "$tmp/cloud-kos") modules"
fi
[ "$shown" -ge 40 ] || { echo "only $shown --show cases compared"; status=1; }

for root in ${UMOD_FOREIGN_TREES:-}; do
	[ -d "$root/lib/modules" ] || { echo "SKIP (part): $root holds no module tree"; continue; }
	compare "$root" "$(ls "$root/lib/modules" | head -n 1)" "$root"
done
[ $status = 0 ] && echo "foreign architectures: depmod, modinfo and modprobe -D identical to kmod"
exit $status
