#!/bin/sh
# umod depmod against kmod 30's depmod beyond the default run: depmod.d
# configurations (search order with duplicate module names, built-in,
# override, external and the external search keyword, exclude, bad and
# unimplemented directives, continued lines, -C with files, directories and
# /dev/null), -e -F System.map (unknown symbols, malformed lines), -E/-F
# files that cannot be read, -A (up to date or not), -v, and module files
# named after the version (relative, missing, duplicate), -w. Every case: the ten
# files, stdout, stderr and exit status identical. Trees are built here from
# small objects (gcc -c gives ET_REL files like .ko); no real tree is needed.
set -u
umod=$1
. "$(dirname "$0")/lib.sh"
need_command depmod gcc
status=0
runs=0; compared=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
files="modules.dep modules.dep.bin modules.alias modules.alias.bin modules.softdep modules.symbols
modules.symbols.bin modules.builtin.bin modules.builtin.alias.bin modules.devname"

# run TREE [OPTIONS...]: depmod both ways on copies of $tmp/TREE (version 1.0);
# @ROOT@ in an option stands for the copy's root.
run() {
	name=$1; shift
	runs=$((runs + 1))
	rm -rf "$tmp/k" "$tmp/u"; cp -a "$tmp/$name" "$tmp/k"; cp -a "$tmp/$name" "$tmp/u"
	kargs=$(echo "$*" | sed "s|@ROOT@|$tmp/k|g"); uargs=$(echo "$*" | sed "s|@ROOT@|$tmp/u|g")
	# shellcheck disable=SC2086 # options are words
	depmod -b "$tmp/k" $kargs > "$tmp/k.out" 2> "$tmp/k.err"; k=$?
	# shellcheck disable=SC2086
	"$umod" depmod -b "$tmp/u" $uargs > "$tmp/u.out" 2> "$tmp/u.err"; u=$?
	sed -i "s|$tmp/k|$tmp/u|g" "$tmp/k.err" "$tmp/k.out"
	for f in $files; do
		if [ -e "$tmp/k/lib/modules/1.0/$f" ] || [ -e "$tmp/u/lib/modules/1.0/$f" ]; then
			compared=$((compared + 1))
			cmp -s "$tmp/k/lib/modules/1.0/$f" "$tmp/u/lib/modules/1.0/$f" ||
				{ echo "$name $*: $f differs"; status=1; }
		fi
	done
	cmp -s "$tmp/k.out" "$tmp/u.out" || { echo "$name $*: stdout differs"; diff "$tmp/k.out" "$tmp/u.out" | head; status=1; }
	cmp -s "$tmp/k.err" "$tmp/u.err" || { echo "$name $*: stderr differs"; diff "$tmp/k.err" "$tmp/u.err" | head; status=1; }
	[ "$k" = "$u" ] || { echo "$name $*: exit $k (kmod) vs $u"; status=1; }
}
# conf TEXT: the configuration file $tmp/conf/a.conf (printf format).
conf() { mkdir -p "$tmp/conf"; printf "$1" > "$tmp/conf/a.conf"; }

# mk TREE DIR NAME "EXPORTS" "IMPORTS" [modinfo key=value...]: DIR/NAME.ko
# (dashes in the file name) under TREE/lib/modules/1.0.
mk() {
	tree=$1; dir=$2; name=$3; shift 3
	mkdir -p "$tmp/$tree/lib/modules/1.0/$dir"
	make_ko "$tmp/$tree/lib/modules/1.0/$dir/$(echo "$name" | tr _ -).ko" "$name" "$@"
}

# Three copies of foo, two of dash_mod, a user of both; two external trees.
mk dup kernel/a foo "foo_fn" ""; mk dup extra foo "foo_fn" ""; mk dup updates foo "foo_fn" ""
mk dup kernel/c dash_mod "dash_fn" ""; mk dup extra dash_mod "dash_fn" ""; mk dup foobar dash_mod "dash_fn" ""
mk dup kernel/b bar "" "foo_fn dash_fn ksym_a ksym_b"
mk ext1 m foo "foo_fn" ""; mv "$tmp/ext1/lib/modules/1.0/m" "$tmp/ext1/mods"
mk ext2 m dash_mod "dash_fn" "foo_fn"; mv "$tmp/ext2/lib/modules/1.0/m" "$tmp/ext2/mods"
printf 'kernel/b/bar.ko\nkernel/a/foo.ko\nextra/foo.ko\n' > "$tmp/dup/lib/modules/1.0/modules.order"

run dup -C /dev/null 1.0
for text in 'search extra updates built-in\n' 'search updates\nsearch extra\n' 'search built-in extra\n' \
	'search kernel\n' 'search kernel/a extra\n' 'search foo\n' 'search extra\nsearch updates\n' \
	'override foo * extra\n' 'override foo 1.* kernel/a\n' 'override foo 2\\..* extra\n' 'override foo [ extra\n' \
	'override dash-mod * extra\n' 'override dash_mod * extra\n' 'override foo * extra\noverride foo * updates\n' \
	"external 1.0 $tmp/ext1/mods\n" "external 1.0 $tmp/ext1/mods\nsearch external updates\n" \
	"external 1.0 $tmp/ext1/mods\nsearch updates external\n" \
	"external 1.0 $tmp/ext1/mods\nexternal 1.0 $tmp/ext2/mods\nsearch external built-in\n" \
	"external 1.0 $tmp/ext1/mods\nexternal 1.0 $tmp/ext2/mods\nsearch kernel external\n" \
	"external 2.0 $tmp/ext1/mods\nsearch external\n" "external 1.0 $tmp/nonexistent\nsearch external\n" \
	'exclude extra updates\n' 'exclude kernel\nsearch extra\n' 'exclude foo.ko\n' \
	'# comment\n\nsearch kernel \\\n  built-in\nbogus x y\noverride\noverride a b\nexternal 1.0\ninclude foo\nmake_map_files\n\tsearch\n  \nexclude\nsearch updates\\\n\n' \
	'bogus \\\nmore\nsea\\rch kernel\nsearch\\\n\n\\\nfoo2\n  # not a comment\nzork'; do
	conf "$text"
	run dup -C "$tmp/conf" 1.0
done
# Files: sorted by name over every -C, a name read once; directories inside skipped.
conf 'search updates\n'; printf 'search extra\nfrob\n' > "$tmp/b.conf"; mkdir -p "$tmp/conf/sub.conf" "$tmp/conf2"
printf 'search kernel\n' > "$tmp/conf2/a.conf"; printf 'frob2\n' > "$tmp/conf/notes.txt"
run dup -C "$tmp/conf" -C "$tmp/conf2" -C "$tmp/b.conf" -C "$tmp/nonexistent" 1.0
run dup -C "$tmp/conf2" -C "$tmp/conf" 1.0
run dup -v -C "$tmp/conf" 1.0

# -F System.map: the kernel's exports for -e; malformed lines.
printf 'ffffffff81000000 T _text\nffffffff82000000 R __ksymtab_ksym_a\nbadline\nffffffff82000010 r  __ksymtab_x\nx y __ksymtab_ksym_b extra\nffffffff82000020 R __ksymtab_foo_fn\n' > "$tmp/System.map"
run dup -C /dev/null -e -F "$tmp/System.map" 1.0
run dup -C /dev/null -e -n -F "$tmp/System.map" 1.0
run dup -C /dev/null -F "$tmp/System.map" 1.0
run dup -C /dev/null -e -F "$tmp/nonexistent" 1.0
run dup -C /dev/null -e -E "$tmp/nonexistent" 1.0
run dup -C /dev/null -e 1.0

# -E: malformed Module.symvers lines (kmod's %m: errno left by its open of
# modules.softdep, then strtoull's), three fields, blanks, a symbol prefix (-P).
printf '0x1234abcd\tfoo_fn\tvmlinux\tEXPORT_SYMBOL\n0xzz\tksym_a\tvmlinux\tX\n0x1\tksym_b\tvmlinux\n0x00000001 ksym_b  vmlinux  X\n_foo\n' > "$tmp/symvers"
printf '0xfffffffffffffffffffffff\tfoo_fn\tvmlinux\tX\n0xzz\tksym_a\tvmlinux\tX\n' > "$tmp/symvers.range"
printf '0x1234abcd\t_foo_fn\tvmlinux\tEXPORT_SYMBOL\n' > "$tmp/symvers.prefixed"
run dup -C /dev/null -e -E "$tmp/symvers" 1.0
rm -rf "$tmp/indexed"; cp -a "$tmp/dup" "$tmp/indexed"; depmod -b "$tmp/indexed" -C /dev/null 1.0 2> /dev/null
run indexed -C /dev/null -e -E "$tmp/symvers" 1.0
run indexed -C /dev/null -e -E "$tmp/symvers.range" 1.0
run dup -C /dev/null -e -P _ -E "$tmp/symvers.prefixed" 1.0
run dup -C /dev/null -P ab 1.0
# modules.builtin lines that do not start with a letter; brackets in modules.builtin.modinfo.
printf 'kernel/foo/builtin1.ko\n1bad\n\nok.ko' > "$tmp/indexed/lib/modules/1.0/modules.builtin"
printf 'a.alias=x[\0b.alias=y\0' > "$tmp/indexed/lib/modules/1.0/modules.builtin.modinfo"
run indexed -C /dev/null 1.0

# Module files after the version (ignored with -a).
run dup -a -C /dev/null 1.0 @ROOT@/lib/modules/1.0/kernel/a/foo.ko
run dup -C /dev/null 1.0 @ROOT@/lib/modules/1.0/kernel/b/bar.ko @ROOT@/lib/modules/1.0/kernel/a/foo.ko
run dup -n 1.0 kernel/b/bar.ko
run dup -n 1.0 "$tmp/ext1/mods/foo.ko" @ROOT@/lib/modules/1.0/kernel/b/bar.ko
run dup -n 1.0 @ROOT@/lib/modules/1.0/kernel/a/foo.ko @ROOT@/lib/modules/1.0/extra/foo.ko
run dup -n 1.0 @ROOT@/lib/modules/1.0/kernel/a/foo.ko @ROOT@/lib/modules/1.0/kernel/a/foo.ko
run dup -n 1.0 @ROOT@/lib/modules/1.0/nonexistent.ko
run dup -n 1.0 "$tmp/conf2/a.conf"

# -w: an alias a module gives twice (also after normalisation); not with -n.
mk aliases kernel dupal "" "" "alias=foo-bar" "alias=foo_bar" "alias=x[" "alias=foo-bar"
mk aliases kernel other "" "" "alias=foo-bar"
run aliases -w -C /dev/null 1.0
run aliases -w -n -C /dev/null 1.0

# -A: up to date (nothing done), a newer module, no modules.dep, -n.
rm -rf "$tmp/quick"; cp -a "$tmp/dup" "$tmp/quick"; depmod -b "$tmp/quick" -C /dev/null 1.0 2> /dev/null
touch -d '2020-01-02' "$tmp/quick/lib/modules/1.0/modules.dep"
find "$tmp/quick/lib/modules/1.0" -name '*.ko' -exec touch -d '2020-01-01' {} +
rm "$tmp/quick/lib/modules/1.0/modules.alias"
run quick -A -C /dev/null 1.0
[ -e "$tmp/u/lib/modules/1.0/modules.alias" ] && { echo "quick: -A rebuilt an index that is up to date"; status=1; }
run quick -A -n -C /dev/null 1.0
touch -d '2020-01-03' "$tmp/quick/lib/modules/1.0/extra/foo.ko"
run quick -A -C /dev/null 1.0
[ -e "$tmp/u/lib/modules/1.0/modules.alias" ] || { echo "quick: -A did not rebuild an outdated index"; status=1; }
run dup -A -C /dev/null 1.0

# Entries that are neither files nor directories, dangling links, a linked
# directory, build/: in the walk and in -A's (which names such an entry by the
# last path it wrote, as kmod does).
rm -rf "$tmp/odd"; cp -a "$tmp/dup" "$tmp/odd"; d=$tmp/odd/lib/modules/1.0
ln -s /nonexistent "$d/kernel/a/dangling.ko"; ln -s /dev/null "$d/kernel/null.ko"; ln -s kernel/a "$d/linked"
mkdir -p "$d/build"; cp "$d/kernel/a/foo.ko" "$d/build/"
run odd -C /dev/null 1.0
depmod -b "$tmp/odd" -C /dev/null 1.0 2> /dev/null; touch -d '2030-01-01' "$d/modules.dep"
run odd -A -C /dev/null 1.0

at_least "$runs" 30 "depmod configuration runs"
at_least "$compared" 100 "index files"
[ $status = 0 ] && echo "depmod: configuration, -F, -A, -v and module files identical to kmod in $runs runs ($compared files compared)"
exit $status
