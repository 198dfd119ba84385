#!/bin/sh
# umod modprobe against kmod 30's modprobe with crafted modprobe.d
# configurations (-C) on the Debian cloud tree indexed by kmod's depmod: every
# directive (alias, options, install, remove, blacklist, softdep), bad lines,
# directory rules (sorting, same-name override, nested directories, hidden
# files), and their effect on -D, -R, -n [-v], -r, -b, -i, -a, -q and -c. Then
# broken indexes: a missing, truncated, wrong-magic or wrong-version .bin must
# give kmod's output; a .bin whose trie is corrupt (offsets past the end, a
# loop) must give a clear error and exit 1, never a crash or a hang.
# stdout, stderr and the exit status must be identical. Without the tree,
# skipped (exit 77) saying why; in CI, failed.
set -u
umod=$1
. "$(dirname "$0")/lib.sh"
need_command modprobe depmod
need_cloud_tree

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -a "$tree" "$tmp/root"
kver=$(ls "$tmp/root/lib/modules" | head -n 1)
kmod_depmod "$tmp/root" "$kver"
dir="$tmp/root/lib/modules/$kver"
cd "$tmp" || exit 1

# --- configurations ----------------------------------------------------------
mkdir -p c/main c/second c/main/nested.conf
cat > c/main/10-directives.conf <<'EOF'
# every directive
alias my-udf udf
alias fs_g* isofs
alias udf isofs-shadowed-by-name
alias to-nothing no_such_module
alias to-builtin ext4
options udf foo=1	bar=2
options udf  second=line
options cdrom baz=3
options my_udf via_alias=1
options ext4 never_shown=1
install fuse /bin/echo installing fuse $CMDLINE_OPTS
install cus* /bin/echo glob install
install only-install /bin/true
remove only-remove /bin/false
remove udf /bin/echo removing
blacklist virtio-ring
blacklist cuse
softdep udf pre: fuse post: crc-itu-t
softdep isofs pre: a post: b pre: cdrom
softdep xfs pre: nls_utf8
install xfs /bin/echo ignored because of the softdep
softdep btrfs pre: x[
EOF
cat > c/main/20-bad.conf <<'EOF'
bogus directive here
alias lonely
options udf
options udf 
install fuse
softdep udf
  # an indented comment is a bad line to kmod
include /etc/other.conf
config something
blacklist
EOF
printf 'options udf continued=\\\n1\n' > c/main/30-wrapped.conf
echo 'options udf hidden=1' > c/main/.hidden.conf
echo 'options udf from_alias_file=1' > c/main/x.alias
echo 'options udf not_a_conf=1' > c/main/notes.txt
echo 'options udf overridden=1' > c/second/10-directives.conf
echo 'options udf second_dir=1' > c/second/05-early.conf
echo 'softdep btrfs pre: nls_utf8' > c/second/zz-after-modules-softdep.conf
echo 'softdep xfs pre: crc32c' > c/single.txt

status=0
cases=0
resolved=0   # cases where kmod printed a result and exited 0: the reference did work
compare() {  # compare ARGS...: same stdout, stderr and exit status
	cases=$((cases + 1))
	modprobe "$@" > k.out 2> k.err; k=$?
	[ $k = 0 ] && [ -s k.out ] && resolved=$((resolved + 1))
	"$umod" modprobe "$@" > u.out 2> u.err; u=$?
	if ! cmp -s k.out u.out || ! cmp -s k.err u.err || [ $k != $u ]; then
		echo "DIFFERENT: modprobe $*"; diff k.out u.out | head -10; diff k.err u.err | head -6
		echo "exit $k (kmod) vs $u (umod)"; status=1
	fi
}
tree_args="-d $tmp/root -S $kver"
for config in "-C c/main" "-C c/main -C c/second" "-C c/second -C c/main" "-C c/single.txt" \
	"-C c/main/10-directives.conf" "-C /no/such/dir -C c/main"; do
	for args in "-D udf" "-D udf x=1 y=two\ words" "-D my-udf" "-D fs_gx" "-D to-nothing" "-D to-builtin" \
		"-R my-udf" "-R fs-g1" "-R to-nothing" "-D fuse" "-D fuse a=1" "-D cuse" "-D virtiofs" "-b -D virtiofs" \
		"-b -D cuse" "-D char-major-10-229" "-R char-major-10-229" "-D only-install" "-R only-install" \
		"-D only-remove" "-R only-remove" "-D isofs" "-D xfs" "-i -D xfs" "-i -D fuse" "-D btrfs" \
		"-n udf" "-n -v udf" "-n -v fuse" "-n -v ext4" "-n -v to-builtin" "-a -D udf nosuch fuse" \
		"-q -D nosuch" "-D nosuch" "-R nosuch" "-D bad[" "-c" \
		"-r -D udf" "-r -D isofs" "-r -n -v fuse" "-r -n -v udf" "-r -D ext4" "-r -n -v ext4" "-r -D nosuch" \
		"-r -D only-remove" "-r -D --remove-holders udf" "-r -i -D udf" "-r -a -D udf nosuch fuse" \
		"-r -n -v --first-time udf" "-r -D -w x udf" "-r -D btrfs" "-r -D my-udf"; do
		# shellcheck disable=SC2086
		compare $config $tree_args $args
	done
done

# Options from the environment, as kmod prepends them (quotes, empty words).
for env in '-b' '-C c/main' '"-C c/main" -v' '-C  c/"ma"in' "'-q' -C c/second"; do
	export MODPROBE_OPTIONS="$env"
	for args in "-D cuse" "-D udf" "-D nosuch"; do
		# shellcheck disable=SC2086
		compare $tree_args $args
	done
	unset MODPROBE_OPTIONS
done
# The default configuration directories (this machine's), no -C.
for args in "-D udf" "-R fs-vfat" "-c"; do
	# shellcheck disable=SC2086
	compare $tree_args $args
done

# --- broken indexes ------------------------------------------------------------
for f in dep alias symbols builtin.alias builtin; do cp "$dir/modules.$f.bin" "$tmp/good.$f.bin"; done
restore() { for f in dep alias symbols builtin.alias builtin; do cp "$tmp/good.$f.bin" "$dir/modules.$f.bin"; done; }
probe_all() {  # the lookups each index serves, and -c (which dumps two of them)
	for args in "-D udf" "-R char-major-10-229" "-R symbol:cdrom_open" "-D ext4" "-R net-pf-1" "-c"; do
		# shellcheck disable=SC2086
		compare -C /dev/null $tree_args $args
	done
}
for f in dep alias symbols builtin.alias builtin; do
	restore; rm "$dir/modules.$f.bin"; probe_all                                     # missing
	restore; head -c 5 "$tmp/good.$f.bin" > "$dir/modules.$f.bin"; probe_all          # shorter than a header
	restore; printf 'XX' | dd of="$dir/modules.$f.bin" bs=1 conv=notrunc 2>/dev/null; probe_all        # magic
	restore; printf '\000\003' | dd of="$dir/modules.$f.bin" bs=1 seek=4 conv=notrunc 2>/dev/null; probe_all  # version
done
restore; : > "$dir/modules.builtin.bin"; probe_all  # what kmod 30's depmod leaves without modules.builtin
restore; rm "$dir/modules.dep.bin" "$dir/modules.alias.bin"; printf 'XX' | dd of="$dir/modules.symbols.bin" bs=1 conv=notrunc 2>/dev/null; probe_all

# A corrupt trie: umod's own clear error, exit 1, no crash (kmod's behaviour
# there is undefined, so it is not compared).
corrupt() {  # corrupt NAME ARGS...: "corrupt kmod index" on stderr, exit 1
	cases=$((cases + 1))
	"$umod" modprobe -C /dev/null $tree_args "$@" > u.out 2> u.err; u=$?
	if [ $u != 1 ] || ! grep -q "corrupt kmod index" u.err; then
		echo "corrupt index: modprobe $* gave exit $u:"; head -5 u.err; status=1
	fi
}
restore; printf '\040\377\377\377' | dd of="$dir/modules.dep.bin" bs=1 seek=8 conv=notrunc 2>/dev/null
corrupt -D udf
# A root whose '*' child is the root itself (a loop), and whose 'u' child
# points past the end of the file.
{ printf '\260\007\364\127\000\002\000\001\040\000\000\014\052\165\040\000\000\014'
  head -c 296 /dev/zero; printf '\040\377\377\377'; } > "$dir/modules.alias.bin"
corrupt -R some-alias
corrupt -c
restore
at_least "$cases" 400 "modprobe configuration and index cases"
at_least "$resolved" 200 "cases that kmod's modprobe resolved"
[ $status = 0 ] && echo "modprobe config and broken indexes: identical to kmod in $cases cases ($resolved resolved by kmod) on $tree"
exit $status
