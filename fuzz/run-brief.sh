#!/bin/sh
# Builds the libFuzzer targets (the fuzz preset: clang, ASan, UBSan; see
# fuzz/CMakeLists.txt) and runs one group of them briefly on their corpora.
# Any crash, leak, hang or sanitizer report fails the run and leaves the input
# in build/fuzz/runs/<fuzzer>/ (crash-*, leak-*, timeout-*).
# Usage: fuzz/run-brief.sh [SECONDS] [GROUP]   (GROUP: elf, the default)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
group=${2:-elf}

# Each group: fuzzer:corpus:share:max_len, one per word. A fuzzer runs for
# SECONDS/share (at least 10 s) on fuzz/corpus/<corpus>.
case $group in
elf)        fuzzers="elf_fuzz:elf:1:262144 depmod_config_fuzz:depmod_config:4:65536
             modprobe_config_fuzz:modprobe_config:4:65536" ;;  # ELF reader, depmod.d, modprobe.d + cmdline
index)      fuzzers="index_fuzz:index:1:262144" ;;               # kmod's .bin indexes
load_check) fuzzers="load_check_fuzz:elf:1:262144 module_state_fuzz:module_state:4:4096" ;;  # what the dynamic linker trusts; MODULE_STATE
control)    fuzzers="control_fuzz:control:1:65536 script_line_fuzz:script_line:1:4096" ;;  # protocol, umod run
sign)       fuzzers="sign_fuzz:sign:1:262144" ;;                 # signature trailer, PKCS#7, kernel images
*) echo "fuzz: unknown group '$group' (elf, index, load_check, control, sign)" >&2; exit 2 ;;
esac

# Seeds besides the corpus: for the ELF corpus, the example modules of a
# release build and a few small real .ko files when a real tree is present.
add_seeds() {  # corpus-name dir
	[ "$1" = elf ] || return 0
	for so in "$root"/build/release/examples/modules/*.so; do [ -f "$so" ] && cp "$so" "$2/"; done
	for tree in ${UMOD_CLOUD_TREE:-} /work/trees/cloud; do
		[ -d "$tree/lib/modules" ] || continue
		find "$tree/lib/modules" -name '*.ko' -size -40k | head -n 8 | while read -r ko; do cp "$ko" "$2/"; done
		break
	done
}

cd "$root"
[ -f build/fuzz/build.ninja ] || cmake --preset fuzz > /dev/null
targets=$(for f in $fuzzers; do printf '%s ' "${f%%:*}"; done)
# shellcheck disable=SC2086
cmake --build --preset fuzz --target $targets > build/fuzz/build.log 2>&1 || {
	tail -n 30 build/fuzz/build.log; echo "fuzz: building $targets failed"; exit 1; }

for f in $fuzzers; do
	IFS=: read -r name corpus share max_len <<EOF
$f
EOF
	run=build/fuzz/runs/$name
	rm -rf "$run" && mkdir -p "$run/corpus"
	cp fuzz/corpus/"$corpus"/* "$run/corpus/" 2>/dev/null || true
	add_seeds "$corpus" "$run/corpus"
	time=$(( seconds / share > 10 ? seconds / share : 10 ))
	status=0
	(cd "$run" && ASAN_OPTIONS=detect_leaks=1 "$root/build/fuzz/fuzz/$name" -max_total_time="$time" \
		-max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus > fuzz.log 2>&1) ||
		status=$?
	if [ $status != 0 ]; then
		tail -n 20 "$run/fuzz.log"
		echo "fuzz: $name failed (exit $status); the input is in $run (crash-*, leak-*, timeout-*)"
		exit 1
	fi
	echo "fuzz: $name, $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$run/fuzz.log" | grep -o '[0-9]*$') runs in ${time}s: no crash, leak or hang"
done
