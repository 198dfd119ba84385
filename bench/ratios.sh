#!/bin/sh
# Prints one line per performance goal:  <goal-id> <measured> <bar> PASS|FAIL
# (figures kept without a bar print as  <goal-id> <measured> - RECORD).
#
# Every benchmark binary (build/release/bench/<area>/bench_*) runs its
# benchmarks side by side in one process and prints its goals as
# "GOAL <goal-id> <measured> <bar> PASS|FAIL"; goals measured by a script
# (bench/<area>/goals.sh, e.g. against another program) print the same.
# bench/modprobe/goals.sh: modprobe.show_depends_vs_kmod (one process per name, as modprobe runs).
# Build first: `make bench` does both. BUILD_DIR overrides build/release.
# Exit status: 0 when every goal passes.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build/release}
log=${BENCH_LOG:-$build/bench.log}
: > "$log"
status=0
{
	for bin in "$build"/bench/*/bench_*; do
		[ -x "$bin" ] || continue
		"$bin" --benchmark_min_time=0.2 2>>"$log"
	done
	for script in "$root"/bench/*/goals.sh; do
		[ -f "$script" ] || continue
		BUILD_DIR=$build sh "$script" 2>>"$log"
	done
} | tee -a "$log" | sed -n 's/^GOAL //p' > "$log.goals"
cat "$log.goals"
grep -q ' FAIL$' "$log.goals" && status=1
[ -s "$log.goals" ] || { echo "ratios.sh: no goals measured (is $build built?)" >&2; status=1; }
exit $status
