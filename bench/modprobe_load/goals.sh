#!/bin/sh
# modprobe.load_vs_kmod: `umod modprobe NAME` of a module with 5 dependencies
# (the first such line of Debian's generic 6.1 tree's modules.dep, indexed by
# kmod's depmod), loading all six, under the project's fake kernel
# (tests/tools/fake_kernel: the module system calls and /sys/module,
# /proc/modules are served from a fake root) ÷ kmod 30's modprobe the same
# way: 20 invocations per round, each on a fresh fake root made beforehand,
# -C /dev/null, warm cache, alternating rounds, median of 5 each. Every
# invocation must exit 0 and print, load and leave in /proc/modules what
# kmod's does. Bar: ≤ 0.8.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/release}
umod=$build/tools/umod/umod
preload=$build/tests/tools/fake_kernel.so
. "$root/bench/common/tool_goals.sh"
generic_tree "modprobe.load_vs_kmod 0.8"
[ -f "$preload" ] || fail_goals "no fake kernel at $preload (build the fake_kernel target)"
work=$(mktemp -d)
# The fake roots (what the fake kernel writes: /sys/module, /proc/modules)
# live in memory when /dev/shm is there, so that what is timed is the tools,
# not the journal of the disk under them; the tree stays beside $work.
roots=$(mktemp -d -p /dev/shm 2> /dev/null || mktemp -d)
trap 'rm -rf "$work" "$roots"' EXIT
cp -al "$tree" "$work/tree" 2>/dev/null || cp -a "$tree" "$work/tree"
depmod -b "$work/tree" $kver 2>/dev/null || fail_goals "kmod's depmod exited $?"
name=$(awk 'NF == 6 {sub(":", "", $1); print $1; exit}' "$work/tree/lib/modules/$kver/modules.dep" |
	sed 's|.*/||; s|\.ko.*||')
[ -n "$name" ] || fail_goals "no module with 5 dependencies in modules.dep"
# fresh DIR: a booted machine's fake root at DIR, running release $kver.
fresh() {
	mkdir -p "$1/sys/module" "$1/proc" "$1/lib/modules"
	: > "$1/proc/modules"; : > "$1/proc/cmdline"
	ln -s "$work/tree/lib/modules/$kver" "$1/lib/modules/$kver"
}
# load ROOT TOOL...: `TOOL modprobe -C /dev/null NAME` under the fake kernel on ROOT.
load() {
	r=$1; shift
	FAKE_KERNEL_ROOT=$r FAKE_KERNEL_RELEASE=$kver LD_PRELOAD=$preload "$@" -C /dev/null "$name"
}
# transcript ROOT TOOL...: one load's exit status, output, system calls and /proc/modules.
transcript() {
	r=$1; fresh "$r"
	load "$@" > "$r.out" 2>&1; echo "exit $?" >> "$r.out"
	cat "$r/log" "$r/proc/modules" >> "$r.out" 2>/dev/null
	cat "$r.out"
}
transcript "$roots/check-k" modprobe > "$work/k.out"
transcript "$roots/check-u" "$umod" modprobe > "$work/u.out"
grep -qx "exit 0" "$work/k.out" || fail_goals "kmod's modprobe $name failed under the fake kernel"
[ "$(grep -c . "$roots/check-k/proc/modules")" = 6 ] || fail_goals "kmod's modprobe $name did not load six modules"
grep -qx "exit 0" "$work/u.out" || fail_goals "umod modprobe $name failed under the fake kernel"
same_output "modprobe $name" "$work/k.out" "$work/u.out"
# round TOOL...: 20 loads, each on its own fresh root; prints the seconds they took.
round() {
	rm -rf "$roots/r"; mkdir "$roots/r"
	for i in $(seq 20); do fresh "$roots/r/$i"; done
	t0=$(now)
	for i in $(seq 20); do load "$roots/r/$i" "$@" > /dev/null 2>&1 || return 1; done
	t1=$(now)
	echo "$t1 - $t0" | bc
}
for i in 1 2 3 4 5; do
	round modprobe >> "$work/k.times" || fail_goals "kmod's modprobe $name failed in timed run $i"
	round "$umod" modprobe >> "$work/u.times" || fail_goals "umod modprobe $name failed in timed run $i"
done
k=$(median < "$work/k.times"); u=$(median < "$work/u.times")
echo "modprobe $name (5 dependencies) under the fake kernel: kmod $k s, umod $u s for 20 loads, same effects" >&2
verdict modprobe.load_vs_kmod "$(echo "scale=3; $u / $k" | bc)" 0.8 '<='
