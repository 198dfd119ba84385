#!/bin/sh
# umod depmod --umod over a tree of umod's own modules (ELF shared objects
# built here from tests/tools/fixtures/umod_tree): modules.dep, .alias,
# .softdep, .symbols and .devname against golden files; -n prints the same
# text; the .bin tries answer kmod 30's modprobe (-D, -R over
# modules.dep.bin, .alias.bin, .symbols.bin) as the golden answers say; a
# dependency cycle is refused as kmod refuses one (messages, exit status,
# nothing written). UPDATE_GOLDEN=1 rewrites the golden files.
set -u
umod=$1
src=$2
golden=$src/tests/tools/golden/depmod_umod
fixtures=$src/tests/tools/fixtures/umod_tree
cc=${CC:-cc}
cxx=${CXX:-c++}
. "$(dirname "$0")/lib.sh"
need_command "$cc" "$cxx"
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# so TREE DIR FILE SOURCE: builds a umod module as umod_add_module() does.
so() {
	mkdir -p "$tmp/$1/lib/modules/1.0/$2"
	case $4 in *.cpp) compiler="$cxx -std=c++17" ;; *) compiler=$cc ;; esac
	$compiler -shared -fPIC -fvisibility=hidden -Wl,-Bsymbolic -I"$src/include" "$fixtures/$4" \
		-o "$tmp/$1/lib/modules/1.0/$2/$3" || { echo "could not build $4"; exit 1; }
}
so tree lib base.so base.c
so tree updates base.so base.c     # the same name twice: updates/ wins (kmod's default search)
so tree lib mid.so mid.c
so tree drivers top-mod.so top-mod.c
so tree extra renamed.so renamed.c
so tree cxx shapes.so shapes.cpp
so tree build skipped.so base.c    # build/ and source/ are never searched
echo "not a module" > "$tmp/tree/lib/modules/1.0/lib/notes.txt"

dir=$tmp/tree/lib/modules/1.0
"$umod" depmod --umod -C /dev/null -b "$tmp/tree" 1.0 > "$tmp/out" 2> "$tmp/err" ||
	{ echo "umod depmod --umod failed"; cat "$tmp/err"; status=1; }
[ -s "$tmp/out" ] || [ -s "$tmp/err" ] && { echo "unexpected output:"; cat "$tmp/out" "$tmp/err"; status=1; }
for f in modules.dep.bin modules.alias.bin modules.symbols.bin; do
	[ -s "$dir/$f" ] || { echo "$f missing or empty"; status=1; }
done

# kmod's modprobe reads only the .bin files: its answers check the tries.
{
	for q in top_mod extra_named symbol:mid_fn symbol:shapes::area symbol:_ZN6shapes4areaEi; do
		echo "# -D $q"; modprobe -C /dev/null -d "$tmp/tree" -S 1.0 -D "$q" 2>&1
	done
	for q in base-alias base_alias mid:v12d7 char-major-240-1; do
		echo "# -R $q"; modprobe -C /dev/null -d "$tmp/tree" -S 1.0 -R "$q" 2>&1
	done
} | sed "s|$tmp|ROOT|g" > "$tmp/modprobe.txt"
have_modprobe=1
command -v modprobe > /dev/null 2>&1 || have_modprobe=0

if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
	mkdir -p "$golden"
	for f in modules.dep modules.alias modules.softdep modules.symbols modules.devname; do cp "$dir/$f" "$golden/$f"; done
	[ $have_modprobe = 1 ] && cp "$tmp/modprobe.txt" "$golden/modprobe.txt"
fi
for f in modules.dep modules.alias modules.softdep modules.symbols modules.devname; do
	cmp -s "$golden/$f" "$dir/$f" || { echo "$f differs from the golden file:"; diff "$golden/$f" "$dir/$f" | head; status=1; }
done
if [ $have_modprobe = 1 ]; then
	cmp -s "$golden/modprobe.txt" "$tmp/modprobe.txt" ||
		{ echo "kmod's modprobe answers differently over the .bin files:"; diff "$golden/modprobe.txt" "$tmp/modprobe.txt" | head -20; status=1; }
else
	echo "(kmod's modprobe is not installed: the .bin files are not checked)"
fi

# -n: the same text on stdout, in kmod's order.
cat "$dir/modules.dep" "$dir/modules.alias" "$dir/modules.softdep" "$dir/modules.symbols" "$dir/modules.devname" > "$tmp/all"
"$umod" depmod --umod -n -C /dev/null -b "$tmp/tree" 1.0 > "$tmp/dry" 2> "$tmp/err"
cmp -s "$tmp/all" "$tmp/dry" || { echo "-n differs from the files"; diff "$tmp/all" "$tmp/dry" | head; status=1; }

# A cycle: reported, exit 1, nothing written.
so loop lib loop-a.so loop_a.c
so loop lib loop-b.so loop_b.c
"$umod" depmod --umod -C /dev/null -b "$tmp/loop" 1.0 > "$tmp/out" 2> "$tmp/err"; rc=$?
printf 'depmod: ERROR: Cycle detected: loop_b -> loop_a -> loop_b\ndepmod: ERROR: Found 2 modules in dependency cycles!\n' > "$tmp/expected"
[ $rc = 1 ] || { echo "cycle: exit $rc, not 1"; status=1; }
cmp -s "$tmp/expected" "$tmp/err" || { echo "cycle: messages differ"; diff "$tmp/expected" "$tmp/err"; status=1; }
[ -e "$tmp/loop/lib/modules/1.0/modules.dep" ] && { echo "cycle: files were written"; status=1; }

[ $status = 0 ] && echo "depmod --umod: the index of a .so tree matches the golden files"
exit $status
