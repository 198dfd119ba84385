# Shared by the tool tests (sourced).

# cloud_tree [SRC]: sets `tree` to Debian's cloud 6.1 module tree:
# $UMOD_CLOUD_TREE, else /work/trees/cloud, else $TMPDIR/umod-trees/cloud, which
# is downloaded with SRC/../shared/scripts/get-real-modules.sh when SRC is given.
# Returns 1, `tree` empty, when there is none.
cloud_tree() {
	tree=${UMOD_CLOUD_TREE:-}
	[ -n "$tree" ] || { [ -d /work/trees/cloud/lib/modules ] && tree=/work/trees/cloud; }
	[ -n "$tree" ] && return 0
	tree=${TMPDIR:-/tmp}/umod-trees/cloud
	[ -d "$tree/lib/modules" ] && return 0
	if [ -n "${1:-}" ] && [ -f "$1/../shared/scripts/get-real-modules.sh" ] &&
		sh "$1/../shared/scripts/get-real-modules.sh" linux-image-6.1.0-50-cloud-amd64 "$tree" > /dev/null 2>&1; then
		return 0
	fi
	rm -rf "$tree"
	tree=""
	return 1
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
