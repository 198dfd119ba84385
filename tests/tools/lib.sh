# Shared by the tool tests (sourced).

# missing_reference WHY: something this test compares against (a real tree,
# kmod, a compiler) cannot be had. Outside CI the test is skipped (exit 77);
# in CI (the CI variable set) it fails: a comparison that did not run is no pass.
missing_reference() {
	if [ -n "${CI:-}" ]; then
		echo "FAIL: $1 (CI needs every reference: .ci/run prepares the trees, scripts/install-deps.sh kmod)"
		exit 1
	fi
	echo "SKIP: $1"
	exit 77
}

# need_command NAME...: each is installed, or missing_reference.
need_command() {
	for c in "$@"; do command -v "$c" > /dev/null 2>&1 || missing_reference "$c is not installed"; done
}

# is_cloud_tree DIR: DIR holds Debian's cloud 6.1 modules (all 1,121 .ko files).
is_cloud_tree() {
	[ "$(find "$1/lib/modules" -name '*.ko' 2> /dev/null | wc -l)" -ge 1121 ]
}

# cloud_tree [SRC]: sets `tree` to Debian's cloud 6.1 module tree:
# $UMOD_CLOUD_TREE (which must be one), else /work/trees/cloud, else
# $TMPDIR/umod-trees/cloud, downloaded with SRC/../shared/scripts/get-real-modules.sh
# when SRC is given. Returns 1, `tree` empty and `tree_problem` saying why,
# when there is none.
cloud_tree() {
	tree=""
	if [ -n "${UMOD_CLOUD_TREE:-}" ]; then
		is_cloud_tree "$UMOD_CLOUD_TREE" && { tree=$UMOD_CLOUD_TREE; return 0; }
		tree_problem="UMOD_CLOUD_TREE=$UMOD_CLOUD_TREE is not Debian's cloud tree (no lib/modules with 1,121 .ko files)"
		return 1
	fi
	is_cloud_tree /work/trees/cloud && { tree=/work/trees/cloud; return 0; }
	tree=${TMPDIR:-/tmp}/umod-trees/cloud
	is_cloud_tree "$tree" && return 0
	if [ -n "${1:-}" ] && [ -f "$1/../shared/scripts/get-real-modules.sh" ] &&
		sh "$1/../shared/scripts/get-real-modules.sh" linux-image-6.1.0-50-cloud-amd64 "$tree" > /dev/null 2>&1 &&
		is_cloud_tree "$tree"; then
		return 0
	fi
	rm -rf "$tree"
	tree=""
	tree_problem="no Debian cloud module tree (set UMOD_CLOUD_TREE, or let shared/scripts/get-real-modules.sh download it)"
	return 1
}

# need_cloud_tree [SRC]: cloud_tree, or missing_reference.
need_cloud_tree() {
	cloud_tree "${1:-}" || missing_reference "$tree_problem"
}

# kmod_depmod ROOT KVER: the reference index, by kmod's depmod; the test fails
# unless depmod exits 0 and writes a non-empty modules.dep.
kmod_depmod() {
	depmod -b "$1" "$2" 2> "$1.depmod.err" ||
		{ echo "FAIL: kmod's depmod -b $1 $2 exited $?: $(head -n 3 "$1.depmod.err")"; exit 1; }
	[ -s "$1/lib/modules/$2/modules.dep" ] || { echo "FAIL: kmod's depmod wrote no modules.dep in $1"; exit 1; }
}

# at_least COUNT MIN WHAT: the test fails unless it compared at least MIN cases.
at_least() {
	[ "$1" -ge "$2" ] || { echo "FAIL: only $1 $3 compared, expected at least $2"; exit 1; }
}

# make_ko OUT NAME "EXPORTS" "IMPORTS" [key=value...]: a kernel module as
# depmod sees one (gcc -c gives ET_REL, as .ko files are): .modinfo with
# name=NAME, license=GPL and the pairs given, each export with a __crc_ symbol,
# and a function calling every import. The C source goes to $tmp/NAME.c; it is
# compiled with $KO_CC (default gcc; e.g. "clang --target=s390x-linux-gnu").
make_ko() {
	out=$1; name=$2; exports=$3; imports=$4; shift 4
	{
		echo '#define MI(s) __attribute__((section(".modinfo"), used, aligned(1))) static const char s[]'
		i=0; for kv in "name=$name" "license=GPL" "$@"; do i=$((i+1)); echo "MI(mi$i) = \"$kv\";"; done
		for e in $exports; do
			echo "int $e(void) { return 1; }"
			printf '__asm__(".globl __crc_%s\\n.set __crc_%s, 0x1234abcd");\n' "$e" "$e"
		done
		for u in $imports; do echo "extern int $u(void);"; done
		printf 'int use_%s(void) { return 0' "$name"; for u in $imports; do printf ' + %s()' "$u"; done; echo '; }'
	} > "$tmp/$name.c"
	${KO_CC:-gcc} -c -fno-pic "$tmp/$name.c" -o "$out"
}
