#!/bin/sh
# The performance goals can fail: goals.h, bench/ratios.sh and the tool goal
# scripts on work that was not done. Every goal resting on a benchmark that
# errored, a program that is missing or crashed, a goal nobody printed, or a
# tool that failed or printed other bytes than kmod's must be FAIL, with the
# reason, and ratios.sh must exit 1. A tool that does the work is measured.
# Usage: goals_test.sh BROKEN_BENCH SOURCE_DIR
set -u
broken=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$src/tests/tools/lib.sh"
status=0
fail() { echo "FAIL: $*"; status=1; }
# expect FILE LINE: FILE has LINE exactly.
expect() { grep -qxF "$2" "$1" || { fail "expected the line '$2' in:"; sed 's/^/    /' "$1"; }; }
cases=0
check() { cases=$((cases + 1)); expect "$@"; }

# 1. goals.h: errored and missing benchmarks.
"$broken" --benchmark_min_time=0.01 > "$tmp/broken.out" 2>&1; rc=$?
[ $rc = 1 ] || fail "broken_bench exited $rc, expected 1"
sed -n 's/^GOAL //p' "$tmp/broken.out" > "$tmp/broken.goals"
check "$tmp/broken.goals" "broken.works 1.000 2 PASS"
check "$tmp/broken.goals" "broken.rests_on_error unmeasured 1000 FAIL BM_Broken: the load failed on purpose"
check "$tmp/broken.goals" "broken.higher_rests_on_error unmeasured 0 FAIL BM_Broken: the load failed on purpose"
check "$tmp/broken.goals" "broken.rests_on_missing unmeasured 1e+12 FAIL BM_NoSuchBenchmark: did not run"
check "$tmp/broken.goals" "broken.record_of_error unmeasured - FAIL BM_Broken: the load failed on purpose"

# 2. ratios.sh on a build with a broken, a crashing and a missing program, and
# the real tool goal scripts on a small fake generic tree.
kver=6.1.0-50-amd64
tree=$tmp/generic
mkdir -p "$tree/lib/modules/$kver/kernel"
make_ko "$tree/lib/modules/$kver/kernel/base.ko" base "base_fn" ""
make_ko "$tree/lib/modules/$kver/kernel/top.ko" top "" "base_fn" "alias=top-alias"
printf 'kernel/base.ko\nkernel/top.ko\n' > "$tree/lib/modules/$kver/modules.order"
: > "$tree/lib/modules/$kver/modules.builtin"
: > "$tree/lib/modules/$kver/modules.builtin.modinfo"
build=$tmp/build
mkdir -p "$build/bench/broken" "$build/bench/crash" "$build/tools/umod"
cp "$broken" "$build/bench/broken/bench_broken"
printf '#!/bin/sh\necho "GOAL crash.goal 0.500 1 PASS"\nkill -SEGV $$\n' > "$build/bench/crash/bench_crash"
chmod +x "$build/bench/crash/bench_crash"
cat > "$tmp/goals.list" <<LIST
# a test list
broken.works                   bench_broken
broken.rests_on_error          bench_broken
broken.higher_rests_on_error   bench_broken
broken.record_of_error         bench_broken
broken.never_printed           bench_broken
crash.goal                     bench_crash
absent.goal                    bench_absent
modinfo.all_vs_kmod            modinfo/goals.sh
modprobe.show_depends_vs_kmod  modprobe/goals.sh
depmod.wall_vs_kmod            depmod/goals.sh
depmod.rss_vs_kmod             depmod/goals.sh
LIST
# ratios UMOD_SCRIPT: runs ratios.sh with that fake umod; output in $tmp/goals.
ratios() {
	printf '#!/bin/sh\n%s\n' "$1" > "$build/tools/umod/umod"; chmod +x "$build/tools/umod/umod"
	BUILD_DIR=$build BENCH_GOALS=$tmp/goals.list BENCH_LOG=$tmp/bench.log UMOD_GENERIC_TREE=$tree \
		sh "$src/bench/ratios.sh" > "$tmp/goals" 2> "$tmp/ratios.err"
}
# A umod that does nothing.
ratios 'exit 1'; rc=$?
[ $rc = 1 ] || fail "ratios.sh exited $rc with failing goals, expected 1"
check "$tmp/goals" "broken.works 1.000 2 PASS"
check "$tmp/goals" "broken.rests_on_error unmeasured 1000 FAIL BM_Broken: the load failed on purpose"
check "$tmp/goals" "broken.record_of_error unmeasured - FAIL BM_Broken: the load failed on purpose"
check "$tmp/goals" "broken.never_printed unmeasured - FAIL not printed by bench_broken"
check "$tmp/goals" "crash.goal 0.500 1 FAIL bench_crash exited-139"
check "$tmp/goals" "absent.goal unmeasured - FAIL not printed by bench_absent (missing)"
check "$tmp/goals" "broken.rests_on_missing - - FAIL not on goals.list"
check "$tmp/goals" "modinfo.all_vs_kmod unmeasured 0.35 FAIL umod modinfo exited 1"
check "$tmp/goals" "modprobe.show_depends_vs_kmod unmeasured 0.70 FAIL umod modprobe -D failed for 1 of 1 names"
check "$tmp/goals" "depmod.wall_vs_kmod unmeasured 0.30 FAIL umod depmod exited 1"
check "$tmp/goals" "depmod.rss_vs_kmod unmeasured 0.5 FAIL umod depmod exited 1"
# A umod that exits 0 but does not do the same work.
ratios 'tool=$1; shift
case $tool in
modinfo) modinfo "$@"; echo extra ;;
modprobe) modprobe "$@"; echo extra ;;
depmod) depmod -n "$@" ;;
esac'
check "$tmp/goals" "modinfo.all_vs_kmod unmeasured 0.35 FAIL modinfo: umod's output differs from kmod's (> extra)"
check "$tmp/goals" "modprobe.show_depends_vs_kmod unmeasured 0.70 FAIL modprobe -D: umod's output differs from kmod's (> extra)"
check "$tmp/goals" "depmod.wall_vs_kmod unmeasured 0.30 FAIL umod depmod wrote no modules.dep"
# A umod that is kmod: the tool goals are measured (whatever the figure).
ratios 'tool=$1; shift; exec "$tool" "$@"'
for goal in modinfo.all_vs_kmod modprobe.show_depends_vs_kmod depmod.wall_vs_kmod depmod.rss_vs_kmod; do
	cases=$((cases + 1))
	grep -Eq "^$goal [0-9.]+ [0-9.]+ (PASS|FAIL)$" "$tmp/goals" ||
		{ fail "$goal not measured when umod does kmod's work:"; cat "$tmp/goals" "$tmp/ratios.err"; }
done
# 3. The real list is complete: every goal a benchmark source or goal script
# names is on it.
for goal in $(grep -ho '"[a-z]*\.[a-z0-9_]*"' "$src"/bench/*/*.cpp | tr -d '"' | grep -E '^(core|track|so|control)\.') \
	$(grep -ho '^verdict [a-z]*\.[a-z0-9_]*' "$src"/bench/*/goals.sh | cut -d' ' -f2); do
	cases=$((cases + 1))
	grep -q "^$goal " "$src/bench/goals.list" || fail "$goal is measured but not on bench/goals.list"
done
[ $status = 0 ] && echo "goals: $cases checks of broken and working benchmarks and tools, all as expected"
exit $status
