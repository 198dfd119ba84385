#!/bin/sh
# Prints one line per performance goal:  <goal-id> <measured> <bar> PASS|FAIL [why]
# (figures kept without a bar print as  <goal-id> <measured> - RECORD).
#
# bench/goals.list names every goal and what measures it: a benchmark program
# (build/release/bench/<area>/bench_*, which runs its benchmarks side by side in
# one process) or a goal script (bench/<area>/goals.sh, e.g. against kmod).
# Each prints "GOAL <goal-id> <measured> <bar> PASS|FAIL [why]".
# A goal is FAIL when its line says so, when its program is missing or fails
# (any exit status but 0, or 1 after printing a FAIL), or when no line for it
# was printed; a printed goal that is not on
# the list is an error too.
# Build first: `make bench` does both. BUILD_DIR overrides build/release,
# BENCH_GOALS bench/goals.list, BENCH_LOG the log file.
# Exit status: 0 when every goal on the list passes (or is recorded).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build/release}
list=${BENCH_GOALS:-$root/bench/goals.list}
log=${BENCH_LOG:-$build/bench.log}
[ -f "$list" ] || { echo "ratios.sh: no goal list $list" >&2; exit 1; }
: > "$log"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > "$work/printed"; : > "$work/broken"
status=0

# The programs and scripts of the list, in its order, each once.
grep -v '^#' "$list" | awk 'NF == 2 && !seen[$2]++ {print $2}' > "$work/measurers"
while read -r what; do
	case $what in
	*/goals.sh)
		script=$root/bench/$what
		if [ -f "$script" ]; then
			BUILD_DIR=$build sh "$script" > "$work/out" 2>> "$log"; rc=$?
		else
			rc=missing
		fi ;;
	*)
		bin=$(ls "$build"/bench/*/"$what" 2> /dev/null | head -n 1)
		if [ -n "$bin" ] && [ -x "$bin" ]; then
			"$bin" --benchmark_min_time=0.2 > "$work/out" 2>> "$log"; rc=$?
		else
			rc=missing
		fi ;;
	esac
	if [ "$rc" = missing ]; then
		echo "ratios.sh: $what is missing (is $build built?)" >&2
		echo "$what missing" >> "$work/broken"; : > "$work/out"
	else
		cat "$work/out" >> "$log"
		# Exit 1 after printing a FAIL is a goal missed; any other failure
		# (a crash, an error before the goals) breaks every goal it measures.
		if [ "$rc" != 0 ] && ! { [ "$rc" = 1 ] && grep -q '^GOAL .* FAIL' "$work/out"; }; then
			echo "$what exited-$rc" >> "$work/broken"
		fi
	fi
	sed -n "s/^GOAL //p" "$work/out" | awk -v by="$what" '{print by, $0}' >> "$work/printed"
done < "$work/measurers"

# One line per goal of the list, in its order.
grep -v '^#' "$list" | awk 'NF == 2' | while read -r goal what; do
	line=$(awk -v g="$goal" '$2 == g' "$work/printed" | head -n 1 | cut -d' ' -f2-)
	why=$(awk -v w="$what" '$1 == w {print $2}' "$work/broken" | head -n 1)
	if [ -z "$line" ]; then
		echo "$goal unmeasured - FAIL not printed by $what${why:+ ($why)}"
	elif [ -n "$why" ] && [ "$(echo "$line" | cut -d' ' -f4)" != FAIL ]; then
		echo "$(echo "$line" | cut -d' ' -f1-3) FAIL $what $why"
	else
		echo "$line"
	fi
done > "$work/goals"
# Goals printed that the list does not know.
awk '{print $2}' "$work/printed" | while read -r goal; do
	grep -v '^#' "$list" | awk -v g="$goal" '$1 == g {found=1} END {exit !found}' ||
		echo "$goal - - FAIL not on $(basename "$list")"
done >> "$work/goals"

cp "$work/goals" "$log.goals"
cat "$work/goals"
awk '$4 == "FAIL" {bad=1} END {exit bad}' "$work/goals" || status=1
[ -s "$work/goals" ] || { echo "ratios.sh: no goals in $list" >&2; status=1; }
exit $status
