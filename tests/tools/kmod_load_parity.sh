#!/bin/sh
# Loading and removing kernel modules: umod's insmod, rmmod, lsmod and
# modprobe against kmod 30's, both run under the project's fake kernel
# (tests/tools/fake_kernel: finit_module, init_module and delete_module are
# intercepted, /sys/module, /proc/modules, /proc/cmdline and /lib/modules come
# from a fake root; nothing reaches the real kernel). Each scenario starts
# from the same fake root for both; every command's stdout, stderr and exit
# status, the system calls the fake kernel saw (with parameters and flags)
# and /proc/modules after it must be identical.
#   kmod_load_parity.sh UMOD FAKE_KERNEL_SO
set -u
umod=$1
preload=$2
command -v modprobe > /dev/null && command -v insmod > /dev/null ||
	{ echo "SKIP: kmod's tools are not installed"; exit 77; }
command -v xz > /dev/null || { echo "SKIP: xz is not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

# The module tree, as the running kernel's: /lib/modules/1.0 of the fake root.
base="$tmp/tree"
dir="$base/lib/modules/1.0"
mkdir -p "$dir/kernel/sub" "$tmp/conf"
mk() { name=$1; shift; make_ko "$dir/kernel/sub/$(echo "$name" | tr _ -).ko" "$name" "$@"; }
mk mod_a "fa" "" "alias=alias-of-a"
mk mod_b "fb" "fa" "depends=mod_a"
mk mod_c "fc" "fb" "depends=mod_b" "alias=pci:v0000CAFEd*"
mk mod_d "" "" "softdep=pre: mod_e post: mod_f"
mk mod_e "" "" "alias=alias-of-e"
mk mod_f "" "fnothing" "depends=missing_mod"
mk sd_x "" "" "softdep=pre: sd_y"
mk sd_y "" "" "softdep=pre: sd_x"
mk inst_i "" ""
mk rem_r "" ""
mk mod_x "fx" "fa" "depends=mod_a"
xz "$dir/kernel/sub/mod-x.ko"
printf 'kernel/bi/builtin_z.ko\n' > "$dir/modules.builtin"
depmod -b "$base" 1.0 2> /dev/null || { echo "depmod failed"; exit 1; }
cat > "$tmp/conf/test.conf" <<'CONF'
options mod_a opt_a=1
options mod_c opt_c="x y"
blacklist mod_e
install inst_i echo installing inst_i with "$CMDLINE_OPTS"; $TEST_MODPROBE --ignore-install inst_i $CMDLINE_OPTS
remove rem_r echo removing rem_r; $TEST_MODPROBE -r --ignore-remove rem_r
install failing_f exit 3
alias failing_f mod_e
softdep mod_b pre: sd_x
CONF
# A tree without aliases: kmod's depmod, and umod's, write modules.alias.bin
# as the 12-byte header alone (an empty index, not a corrupt one).
mkdir -p "$tmp/empty/lib/modules/1.0/kernel" "$tmp/uempty"
make_ko "$tmp/empty/lib/modules/1.0/kernel/lone.ko" lone "" ""
cp -a "$tmp/empty/." "$tmp/uempty"
depmod -b "$tmp/empty" 1.0 2> /dev/null
"$umod" depmod -b "$tmp/uempty" 1.0 2> /dev/null
[ "$(wc -c < "$tmp/empty/lib/modules/1.0/modules.alias.bin")" = 12 ] || { echo "kmod's empty index is not 12 bytes"; exit 1; }
cmp -s "$tmp/empty/lib/modules/1.0/modules.alias.bin" "$tmp/uempty/lib/modules/1.0/modules.alias.bin" ||
	{ echo "umod depmod's empty modules.alias.bin differs from kmod's"; exit 1; }
printf 'quiet mod_a.from_cmdline=7 mod-b.q=2 bad[.x=1\n' > "$tmp/cmdline"

# reset: the fake root of a freshly booted machine running release 1.0.
reset() {
	rm -rf "$tmp/root"
	mkdir -p "$tmp/root/sys/module/builtin_z/parameters" "$tmp/root/proc" "$tmp/root/lib/modules"
	: > "$tmp/root/proc/modules"
	cp "$tmp/cmdline" "$tmp/root/proc/cmdline"
	ln -s "$dir" "$tmp/root/lib/modules/1.0"
}

# run ARGS...: one command under the fake kernel, its transcript.
run() {
	echo "== $*"
	env FAKE_KERNEL_ROOT="$tmp/root" FAKE_KERNEL_RELEASE=1.0 LD_PRELOAD="$preload" "$@" > "$tmp/out" 2> "$tmp/err"
	echo "exit $?"
	echo "-- stdout"; cat "$tmp/out"
	echo "-- stderr"; sed "s|$umod|UMOD|g" "$tmp/err"
	echo "-- kernel"; cat "$tmp/root/log" 2> /dev/null; rm -f "$tmp/root/log"
	echo "-- /proc/modules"; cat "$tmp/root/proc/modules"
}

scenarios() {
	C="-C $tmp/conf"
	reset
	run $MODPROBE $C mod_c
	run $LSMOD
	run $RMMOD mod_a
	run $MODPROBE $C -r mod_a
	run $MODPROBE $C -r -v --remove-holders mod_a
	run $MODPROBE $C -v mod_c extra=1 "spaced=a b"
	run $MODPROBE $C --first-time mod_c
	run $MODPROBE $C mod_c
	run $RMMOD mod_c mod_b
	run $RMMOD -v mod_a
	run $RMMOD mod_a
	run $RMMOD builtin_z
	run $MODPROBE $C builtin_z
	run $MODPROBE $C -r builtin_z
	run $MODPROBE $C --first-time -r mod_a
	run $MODPROBE $C no_such_module
	run $MODPROBE $C -q no_such_module
	run $MODPROBE $C -a mod_a no_such_module mod_e
	run $MODPROBE $C -r -a mod_a no_such_module
	run $LSMOD

	reset  # failures the kernel injects, per module and errno
	for e in ENOEXEC ENOENT EPERM EINVAL EBUSY ENOSPC; do
		FAKE_KERNEL_FAIL=mod_b:$e run $MODPROBE $C mod_c
	done
	FAKE_KERNEL_FAIL=mod_a:EEXIST run $MODPROBE $C mod_a
	FAKE_KERNEL_FAIL=sd_x:EPERM run $MODPROBE $C -v mod_b
	run $MODPROBE $C mod_f
	for e in ENOEXEC ENOENT EINVAL EKEYREJECTED; do
		FAKE_KERNEL_FAIL=mod_a:$e run $INSMOD "$dir/kernel/sub/mod-a.ko" p=1
	done
	run $INSMOD "$dir/kernel/sub/mod-a.ko" p=1 q=2
	run $INSMOD "$dir/kernel/sub/mod-a.ko"
	run $INSMOD "$dir/kernel/sub/no-such.ko"
	run $INSMOD -
	run $INSMOD
	run $RMMOD
	run $RMMOD no_such_module
	FAKE_KERNEL_FAIL_DELETE=mod_a:EPERM run $RMMOD mod_a
	FAKE_KERNEL_FAIL_DELETE=mod_a:EAGAIN run $MODPROBE $C -r mod_a
	FAKE_KERNEL_FAIL_DELETE=mod_b:EPERM run $MODPROBE $C -r -v mod_c
	run $MODPROBE $C -r -v mod_c
	run $RMMOD "$dir/kernel/sub/mod-a.ko"

	reset  # an old kernel without finit_module; compressed modules; forcing
	FAKE_KERNEL_NO_FINIT=1 run $MODPROBE $C mod_c
	FAKE_KERNEL_NO_FINIT=1 run $INSMOD "$dir/kernel/sub/mod-d.ko" a=1
	run $MODPROBE $C -v mod_x
	run $RMMOD mod_x
	run $INSMOD "$dir/kernel/sub/mod-x.ko.xz"
	run $MODPROBE $C -r mod_x
	run $MODPROBE $C -f mod_e
	run $MODPROBE $C --force-modversion mod_f
	run $MODPROBE $C --force-vermagic inst_i
	run $INSMOD -f "$dir/kernel/sub/rem-r.ko"
	FAKE_KERNEL_NO_FINIT=1 run $INSMOD -f "$dir/kernel/sub/sd-x.ko"
	run $RMMOD -f rem_r
	run $MODPROBE $C -r -f mod_e
	run $LSMOD

	reset  # install and remove commands (which run modprobe again), softdeps, blacklist
	run $MODPROBE $C -v inst_i a=1
	run $MODPROBE $C -v -i inst_i
	run $MODPROBE $C failing_f
	run $MODPROBE $C rem_r
	run $MODPROBE $C -r -v rem_r
	run $MODPROBE $C -v mod_d
	run $MODPROBE $C -r -v mod_d
	run $MODPROBE $C -v sd_x
	run $MODPROBE $C -v sd_y
	run $MODPROBE $C -b mod_e
	run $MODPROBE $C -b alias-of-e
	run $MODPROBE $C alias-of-e
	run $MODPROBE $C -v alias-of-a
	run $MODPROBE $C -v pci:v0000CAFEd00000001
	run $MODPROBE $C -n -v mod_c
	run $MODPROBE $C -D mod_c
	run $MODPROBE $C -r -w 1000 -v mod_c
	run $LSMOD
	run $LSMOD -x
	for d in "$tmp/empty" "$tmp/uempty"; do  # empty indexes: found empty
		run $MODPROBE -C /dev/null -d "$d" -S 1.0 no-such-alias
		run $MODPROBE -C /dev/null -d "$d" -S 1.0 -n -v lone
		run $MODPROBE -C /dev/null -d "$d" -S 1.0 -R pci:v00001234d00005678
	done
}

# kmod, then umod, from the same fake roots.
export TEST_MODPROBE
MODPROBE=modprobe INSMOD=insmod RMMOD=rmmod LSMOD=lsmod TEST_MODPROBE=modprobe scenarios > "$tmp/kmod.txt"
MODPROBE="$umod modprobe" INSMOD="$umod insmod" RMMOD="$umod rmmod" LSMOD="$umod lsmod" \
	TEST_MODPROBE="$umod modprobe" scenarios | sed "s|$umod |UMOD |g" > "$tmp/umod.txt"
sed -i "s|== modprobe|== MODPROBE|; s|== insmod|== INSMOD|; s|== rmmod|== RMMOD|; s|== lsmod|== LSMOD|" "$tmp/kmod.txt"
sed -i "s|== UMOD modprobe|== MODPROBE|; s|== UMOD insmod|== INSMOD|; s|== UMOD rmmod|== RMMOD|; s|== UMOD lsmod|== LSMOD|" "$tmp/umod.txt"
cases=$(grep -c '^== ' "$tmp/kmod.txt")
loads=$(grep -c '_module(.*= 0$' "$tmp/kmod.txt")
if ! cmp -s "$tmp/kmod.txt" "$tmp/umod.txt"; then
	echo "kmod (<) and umod (>) differ:"; diff "$tmp/kmod.txt" "$tmp/umod.txt" | head -60
	[ -n "${KEEP:-}" ] && cp "$tmp/kmod.txt" "$tmp/umod.txt" "$KEEP"
	exit 1
fi
# A script that compared nothing would pass: count what was compared.
[ "$cases" -ge 75 ] || { echo "only $cases commands compared"; exit 1; }
[ "$loads" -ge 40 ] || { echo "only $loads successful system calls"; exit 1; }
echo "insmod/rmmod/lsmod/modprobe: identical to kmod under the fake kernel in $cases commands ($loads successful system calls)"
