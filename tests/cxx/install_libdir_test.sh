#!/bin/sh
# umod configured with a two-level libdir (-DCMAKE_INSTALL_LIBDIR=
# lib/x86_64-linux-gnu, as Debian packages it). To keep it cheap nothing is
# rebuilt: the files that configuration generates (the pkg-config files, the
# CMake package) are laid out in a temporary prefix
# as `cmake --install` would, with this build's libumod and headers. Then:
# the pkg-config files give that prefix and libdir, a module built with
# `pkg-config --cflags --libs umod-module` and a host built with
# `pkg-config --cflags --libs umod` work together, find_package(umod) finds
# the package there.
#   install_libdir_test.sh SOURCE_DIR BUILD_DIR C_COMPILER CXX_COMPILER
set -eu
src=$1
build=$2
cc=$3
cxx=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
libdir=lib/x86_64-linux-gnu
cmake -S "$src" -B "$tmp/build" -G Ninja -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
	-DUMOD_BUILD_TESTS=OFF -DUMOD_BUILD_BENCH=OFF -DCMAKE_INSTALL_LIBDIR=$libdir > "$tmp/log" 2>&1 ||
	{ cat "$tmp/log"; exit 1; }
# What `cmake --install` puts there, from that configuration and this build.
p=$tmp/prefix
mkdir -p "$p/$libdir/pkgconfig" "$p/$libdir/cmake/umod" "$p/include" "$p/bin"
cp "$tmp/build/umod.pc" "$tmp/build/umod-module.pc" "$p/$libdir/pkgconfig/"
cp -r "$src/include/umod" "$p/include/"
cp -P "$build"/src/libumod.so* "$p/$libdir/"
cp "$tmp/build/umodConfig.cmake" "$tmp/build/umodConfigVersion.cmake" "$src/cmake/UmodModule.cmake" "$p/$libdir/cmake/umod/"
cat > "$p/$libdir/cmake/umod/umodTargets.cmake" <<'CMAKE'
# (the exported targets, reduced to what this test uses)
get_filename_component(_prefix "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
add_library(umod::headers INTERFACE IMPORTED)
set_target_properties(umod::headers PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_prefix}/include")
CMAKE
touch "$p/bin/umod"
prefix=$(realpath "$p")

export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
check() {  # check WHAT EXPECTED ACTUAL
	if [ "$2" != "$3" ]; then echo "$1: expected '$2', got '$3'"; exit 1; fi
}
check "umod.pc prefix" "$prefix" "$(realpath "$(pkg-config --variable=prefix umod)")"
check "umod.pc libdir" "$prefix/$libdir" "$(realpath "$(pkg-config --variable=libdir umod)")"
check "umod.pc includedir" "$prefix/include" "$(realpath "$(pkg-config --variable=includedir umod)")"
check "umod-module.pc includedir" "$prefix/include" "$(realpath "$(pkg-config --variable=includedir umod-module)")"

cat > "$tmp/m.cpp" <<'CPP'
#include <umod/module.h>
#include <string>
namespace m {
std::string greet(int n) { return "hello " + std::to_string(n); }
EXPORT_SYMBOL(greet);
}
MODULE_LICENSE("GPL");
CPP
cat > "$tmp/host.cpp" <<'CPP'
#include <umod/loader.h>
#include <umod/type_name.h>
#include <umod/umod.h>
#include <cstdio>
#include <string>
int main(int, char** argv) {
    umod::Registry registry;
    auto m = umod::load_module_file(registry, argv[1]);
    if (!m) { std::printf("%s\n", m.error().message().c_str()); return 1; }
    using Greet = std::string(int);
    auto f = registry.symbol_get_typed("m::greet", umod::type_name<Greet>(), registry.holder("host"));
    if (!f) { std::printf("%s\n", f.error().message().c_str()); return 1; }
    std::printf("%s\n", reinterpret_cast<Greet*>(*f)(3).c_str());
    return 0;
}
CPP
# shellcheck disable=SC2046
"$cxx" -std=c++20 -shared -fPIC $(pkg-config --cflags --libs umod-module) "$tmp/m.cpp" -o "$tmp/m.so"
# shellcheck disable=SC2046
"$cxx" -std=c++20 "$tmp/host.cpp" -o "$tmp/host" $(pkg-config --cflags --libs umod)
check "host output" "hello 3" "$(LD_LIBRARY_PATH="$(pkg-config --variable=libdir umod)" "$tmp/host" "$tmp/m.so")"

# find_package(umod) from that prefix; umod::tool points into it.
mkdir -p "$tmp/app"
printf '#include <umod/module.h>\nint app_f(void) { return 1; }\nEXPORT_SYMBOL(app_f);\nMODULE_LICENSE("GPL");\n' > "$tmp/app/p.c"
cat > "$tmp/app/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(app C)
find_package(umod REQUIRED)
umod_add_module(p p.c)
get_target_property(tool umod::tool LOCATION)
file(WRITE ${CMAKE_BINARY_DIR}/tool.txt "${tool}")
CMAKE
cmake -S "$tmp/app" -B "$tmp/app/build" -G Ninja -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" \
	> "$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
cmake --build "$tmp/app/build" > "$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
check "umod::tool" "$prefix/bin/umod" "$(realpath "$(cat "$tmp/app/build/tool.txt")")"

echo "two-level libdir: pkg-config and find_package agree on the prefix"
