# Sourced by the goal scripts that measure against kmod on Debian's generic
# 6.1 tree (4,022 modules). Needs `root` (the source tree). Sets `kver`, and
# `tree` through generic_tree: $UMOD_GENERIC_TREE, else /work/trees/generic,
# else a download into $TMPDIR/umod-trees/generic.
kver=6.1.0-50-amd64

# generic_tree "GOAL-ID BAR"...: sets `tree`; without one, prints each goal
# as unmeasured (a FAIL, never a silent pass) and exits.
generic_tree() {
	tree=${UMOD_GENERIC_TREE:-}
	[ -n "$tree" ] || { [ -d /work/trees/generic/lib/modules ] && tree=/work/trees/generic; }
	[ -n "$tree" ] && return 0
	tree=${TMPDIR:-/tmp}/umod-trees/generic
	[ -d "$tree/lib/modules" ] && return 0
	sh "$root/../shared/scripts/get-real-modules.sh" linux-image-$kver "$tree" > /dev/null 2>&1 && return 0
	for goal in "$@"; do echo "GOAL ${goal% *} unmeasured ${goal#* } FAIL"; done
	echo "$(basename "$(dirname "$0")") goals: no generic tree" >&2
	exit 0
}
