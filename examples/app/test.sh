#!/bin/sh
# The example application as a user builds it: umod installed into a
# temporary prefix, then examples/app configured with find_package(umod) and
# built with GCC 12 and with Clang 14, each host run with and without the
# optional tracer. Its output (plugin sizes normalised) must match the golden
# files: what loads, the typed calls and the overload picked, the store that
# outlives its factory call, lsmod and holders lines, the refused unloads
# naming their holders, and every plugin unmapped at the end.
#   test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
app=$src/examples/app
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > /dev/null
launcher=
# Paths under the temporary directory differ on every run: ccache sees them relative.
export CCACHE_BASEDIR="$tmp" CCACHE_NOHASHDIR=1
if command -v ccache > /dev/null; then launcher=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache; fi
normalise() {
	sed -E 's/^(metrics|cache|storage|tracer) +[0-9]+ /\1 SIZE /'
}
for cxx in g++-12 clang++-14; do
	dir=$tmp/$cxx
	cmake -S "$app" -B "$dir" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_CXX_COMPILER="$cxx" \
		-DCMAKE_BUILD_TYPE=Release -DAPP_WERROR=ON $launcher > "$tmp/configure.log" 2>&1 ||
		{ cat "$tmp/configure.log"; echo "$cxx: configure failed"; exit 1; }
	cmake --build "$dir" > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; echo "$cxx: build failed"; exit 1; }
	for variant in "" --no-tracer; do
		golden=$app/expected${variant:+-no-tracer}.out
		"$dir/app-host" "$dir/plugins" $variant > "$tmp/out" 2> "$tmp/err" ||
			{ cat "$tmp/out" "$tmp/err"; echo "$cxx: app-host $variant failed"; exit 1; }
		normalise < "$tmp/out" | diff -u "$golden" - || { echo "$cxx: app-host $variant: unexpected output"; exit 1; }
	done
	echo "$cxx: the example application builds against the installed umod and behaves as documented"
done
