# Sourced by the goal scripts that measure umod's tools against kmod 30 on
# Debian's generic 6.1 tree (4,022 modules). Needs `root` (the source tree).
# Sets `kver`, and `tree` through generic_tree: $UMOD_GENERIC_TREE, else
# /work/trees/generic, else a download into $TMPDIR/umod-trees/generic.
#
# A goal is measured only when umod did the work: every run exited 0 and its
# output equals kmod's byte for byte (kmod's own runs must succeed too, or
# there is nothing to compare with). Otherwise the script prints
#     GOAL <id> unmeasured <bar> FAIL <why>
# for each of its goals and exits 1.
kver=6.1.0-50-amd64
goals=""   # "ID BAR" pairs of the sourcing script, set by generic_tree

# fail_goals WHY: every goal of this script FAILs with WHY; exits 1.
fail_goals() {
	echo "$goals" | tr ';' '\n' | while read -r id bar; do
		[ -n "$id" ] && echo "GOAL $id unmeasured $bar FAIL $1"
	done
	echo "$(basename "$(dirname "$0")") goals: $1" >&2
	exit 1
}

# generic_tree "GOAL-ID BAR"...: records the script's goals and sets `tree`;
# without a tree, fails them all.
generic_tree() {
	goals=""
	for goal in "$@"; do goals="$goals$goal;"; done
	tree=${UMOD_GENERIC_TREE:-}
	if [ -n "$tree" ]; then
		[ -d "$tree/lib/modules/$kver" ] || fail_goals "UMOD_GENERIC_TREE=$tree has no lib/modules/$kver"
		return 0
	fi
	[ -d /work/trees/generic/lib/modules/$kver ] && { tree=/work/trees/generic; return 0; }
	tree=${TMPDIR:-/tmp}/umod-trees/generic
	[ -d "$tree/lib/modules/$kver" ] && return 0
	sh "$root/../shared/scripts/get-real-modules.sh" linux-image-$kver "$tree" > /dev/null 2>&1 && return 0
	fail_goals "no generic tree (set UMOD_GENERIC_TREE, or let shared/scripts/get-real-modules.sh download it)"
}

# same_output WHAT KMOD_OUT UMOD_OUT: fails the goals unless the files are equal.
same_output() {
	cmp -s "$2" "$3" || fail_goals "$1: umod's output differs from kmod's ($(diff "$2" "$3" | sed -n 2p | cut -c1-80))"
}

# verdict ID MEASURED BAR <=|>=: prints the goal line; returns 1 on FAIL.
verdict() {
	if [ "$(echo "$2 $4 $3" | bc)" = 1 ]; then
		echo "GOAL $1 $2 $3 PASS"
	else
		echo "GOAL $1 $2 $3 FAIL"
		return 1
	fi
}

now() { date +%s.%N; }
median() { sort -n | sed -n 3p; }
