#!/bin/sh
# Builds a fuzzer with clang (libFuzzer, ASan, UBSan) and runs it briefly on
# its seed corpus. elf (the default): fuzz/corpus/elf plus, when built, umod's
# example modules and, when present, a few real .ko files; then the depmod.d
# parser on fuzz/corpus/depmod_config and the modprobe.d and kernel
# command-line parser on fuzz/corpus/modprobe_config. index: the .bin reader
# on fuzz/corpus/index. load_check: what the dynamic linker trusts
# (elf/load_check.h), on fuzz/corpus/elf and the example modules. control:
# the control protocol's request parser on fuzz/corpus/control, then umod
# run's script-line parser on fuzz/corpus/script_line (after a release build).
# sign: module signatures (trailer, kernel checks, PKCS#7 through libcrypto,
# kernel-image certificate scan) on fuzz/corpus/sign.
# Usage: fuzz/run-brief.sh [SECONDS] [elf|index|load_check|control|sign]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
target=${2:-elf}
out=$root/build/fuzz/$target
[ "$target" = elf ] && out=$root/build/fuzz
mkdir -p "$out/corpus"
flags="-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I$root/include -I$root/src"
if [ "$target" = control ]; then
	# The parsers are compiled here, instrumented; what they call below them
	# (the core's parse_track_level) comes from the release build's libumod.
	lib=$root/build/release/src
	[ -f "$lib/libumod.so" ] || { echo "fuzz: build the release preset first (libumod)"; exit 1; }
	# shellcheck disable=SC2086
	clang++ $flags -DFMT_HEADER_ONLY "$root/fuzz/control_fuzz.cpp" "$root/src/control/protocol.cpp" \
		-L"$lib" -lumod -Wl,-rpath,"$lib" -o "$out/control_fuzz"
	cp "$root"/fuzz/corpus/control/* "$out/corpus/"
	# shellcheck disable=SC2086
	clang++ $flags -DFMT_HEADER_ONLY -I"$root/tools/umod" "$root/fuzz/script_line_fuzz.cpp" \
		"$root/tools/umod/script_line.cpp" "$root/src/control/protocol.cpp" -L"$lib" -lumod -Wl,-rpath,"$lib" \
		-o "$out/script_line_fuzz"
	mkdir -p "$out/script_corpus"
	cp "$root"/fuzz/corpus/script_line/* "$out/script_corpus/"
	status=0
	(cd "$out" && ./script_line_fuzz -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 script_corpus > script_fuzz.log 2>&1) || status=$?
	tail -n 4 "$out/script_fuzz.log"
	if [ $status != 0 ]; then
		echo "fuzz: the script-line fuzzer failed (exit $status); the input is in $out (crash-*, leak-*, timeout-*)"
		exit 1
	fi
	echo "fuzz: script-line parser, no crash, leak or hang in ${seconds}s"
elif [ "$target" = sign ]; then
	# shellcheck disable=SC2086
	clang++ $flags -DUMOD_FUZZ_CERT="\"$root/tests/sign/keys/rsa.der\"" \
		"$root/fuzz/sign_fuzz.cpp" "$root/src/sign/verify.cpp" "$root/src/sign/keyring.cpp" \
		"$root/src/sign/libcrypto.cpp" "$root/src/sign/kernel_image.cpp" "$root/src/elf/decompress.cpp" \
		"$root/src/elf/signature_trailer.cpp" "$root/src/elf/kernel_module.cpp" "$root/src/elf/elf_file.cpp" \
		"$root/src/support/private_library.cpp" "$root/src/support/mapped_file.cpp" -ldl -lfmt -o "$out/sign_fuzz"
	cp "$root"/fuzz/corpus/sign/* "$out/corpus/"
elif [ "$target" = index ]; then
	# shellcheck disable=SC2086
	clang++ $flags "$root/fuzz/index_fuzz.cpp" "$root/src/index/index_file.cpp" "$root/src/support/mapped_file.cpp" -lfmt -o "$out/index_fuzz"
	cp "$root"/fuzz/corpus/index/* "$out/corpus/"
elif [ "$target" = load_check ]; then
	# shellcheck disable=SC2086
	clang++ $flags "$root/fuzz/load_check_fuzz.cpp" "$root/src/elf/load_check.cpp" "$root/src/elf/load_check_tables.cpp" \
		"$root/src/elf/elf_file.cpp" "$root/src/elf/umod_module.cpp" -lfmt -o "$out/load_check_fuzz"
	cp "$root"/fuzz/corpus/elf/* "$out/corpus/" 2>/dev/null || true
	for so in "$root"/build/release/examples/modules/*.so; do [ -f "$so" ] && cp "$so" "$out/corpus/"; done
else
# shellcheck disable=SC2086
clang++ $flags \
	"$root/fuzz/elf_fuzz.cpp" "$root/src/elf/elf_file.cpp" "$root/src/elf/umod_module.cpp" \
	"$root/src/elf/kernel_module.cpp" "$root/src/elf/signature_trailer.cpp" "$root/src/support/private_library.cpp" \
	-lfmt -o "$out/elf_fuzz"
cp "$root"/fuzz/corpus/elf/* "$out/corpus/" 2>/dev/null || true
for so in "$root"/build/release/examples/modules/*.so; do [ -f "$so" ] && cp "$so" "$out/corpus/"; done
for tree in ${UMOD_CLOUD_TREE:-} /work/trees/cloud; do
	[ -d "$tree/lib/modules" ] || continue
	find "$tree/lib/modules" -name '*.ko' -size -40k | head -n 8 | while read -r ko; do cp "$ko" "$out/corpus/"; done
	break
done
fi
status=0
(cd "$out" && ./${target}_fuzz -max_total_time="$seconds" -max_len=262144 -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 corpus > fuzz.log 2>&1) || status=$?
tail -n 12 "$out/fuzz.log"
if [ $status != 0 ]; then
	echo "fuzz: the $target fuzzer failed (exit $status); the input is in $out (crash-*, leak-*, timeout-*)"
	exit 1
fi
echo "fuzz: no crash, leak or hang in ${seconds}s"
[ "$target" = elf ] || exit 0

# depmod.d's parser, a quarter of the time on its own corpus.
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$root/include" -I"$root/src" \
	"$root/fuzz/depmod_config_fuzz.cpp" "$root/src/index/depmod_config.cpp" -o "$out/depmod_config_fuzz"
mkdir -p "$out/config_corpus"
cp "$root"/fuzz/corpus/depmod_config/* "$out/config_corpus/"
quarter=$(( seconds / 4 > 10 ? seconds / 4 : 10 ))
(cd "$out" && ./depmod_config_fuzz -max_total_time="$quarter" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 config_corpus > config_fuzz.log 2>&1) || {
	tail -n 12 "$out/config_fuzz.log"
	echo "fuzz: the depmod.d fuzzer failed; the input is in $out (crash-*, leak-*, timeout-*)"
	exit 1
}
echo "fuzz: depmod.d parser, no crash, leak or hang in ${quarter}s"

# modprobe.d's and the kernel command line's parser, a quarter of the time.
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$root/include" -I"$root/src" \
	"$root/fuzz/modprobe_config_fuzz.cpp" "$root/src/index/modprobe_config.cpp" "$root/src/index/modprobe.cpp" \
	"$root/src/index/index_file.cpp" "$root/src/support/mapped_file.cpp" -lfmt -o "$out/modprobe_config_fuzz"
mkdir -p "$out/modprobe_config_corpus"
cp "$root"/fuzz/corpus/modprobe_config/* "$out/modprobe_config_corpus/"
(cd "$out" && ./modprobe_config_fuzz -max_total_time="$quarter" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 modprobe_config_corpus > modprobe_config_fuzz.log 2>&1) || {
	tail -n 12 "$out/modprobe_config_fuzz.log"
	echo "fuzz: the modprobe.d fuzzer failed; the input is in $out (crash-*, leak-*, timeout-*)"
	exit 1
}
echo "fuzz: modprobe.d and kernel command-line parser, no crash, leak or hang in ${quarter}s"
