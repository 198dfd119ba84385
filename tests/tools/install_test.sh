#!/bin/sh
# Installs umod into a temporary prefix, builds a module by hand exactly as the
# documentation says (gcc and g++ with pkg-config), builds the same module with
# umod_add_module through find_package(umod), and checks a host built with
# pkg-config loads both the same way.
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > /dev/null
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
export LD_LIBRARY_PATH="$tmp/prefix/lib"

cat > "$tmp/m.c" <<'C'
#include <umod/module.h>
static int answer = 41;
module_param(answer, int, 0444);
int hand_answer(void) { return answer + 1; }
EXPORT_SYMBOL(hand_answer);
MODULE_LICENSE("GPL");
C
cp "$tmp/m.c" "$tmp/m.cpp"
# Exactly the documented command lines.
gcc -shared -fPIC $(pkg-config --variable=cflags_c umod-module) "$tmp/m.c" -o "$tmp/hand_c.so" $(pkg-config --libs umod-module)
g++ -shared -fPIC $(pkg-config --cflags umod-module) "$tmp/m.cpp" -o "$tmp/hand_cpp.so" $(pkg-config --libs umod-module)

# The same module through the CMake helper.
mkdir -p "$tmp/proj"
cp "$tmp/m.c" "$tmp/proj/m.c"
cat > "$tmp/proj/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(helper C)
find_package(umod REQUIRED)
umod_add_module(helper_c SOURCES m.c)
CMAKE
cmake -S "$tmp/proj" -B "$tmp/proj/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" > /dev/null
cmake --build "$tmp/proj/build" > /dev/null

cat > "$tmp/host.cpp" <<'CPP'
#include <umod/loader.h>
#include <umod/umod.h>
#include <cstdio>
#include <string>
#include <vector>
int main(int argc, char** argv) {
    umod::Registry registry;
    for (int i = 1; i < argc; ++i) {
        std::vector<std::string> params{"answer=99"};
        auto m = umod::load_module_file(registry, argv[i], params);
        if (!m) { std::printf("%s\n", m.error().message().c_str()); return 1; }
        auto f = registry.symbol_get("hand_answer", registry.holder("host"));
        if (!f) { std::printf("%s\n", f.error().message().c_str()); return 1; }
        std::printf("%s %d\n", std::string(m->name()).c_str(), reinterpret_cast<int (*)()>(*f)());
        (void)registry.symbol_put("hand_answer", registry.holder("host"));
        auto r = registry.unload(m->name());
        if (!r || !r->unmap.unmapped) { std::printf("not unmapped\n"); return 1; }
    }
    return 0;
}
CPP
g++ -std=c++20 "$tmp/host.cpp" -o "$tmp/host" $(pkg-config --cflags --libs umod)
out=$("$tmp/host" "$tmp/hand_c.so" "$tmp/hand_cpp.so" "$tmp/proj/build/helper_c.so")
expected="hand_c 100
hand_cpp 100
helper_c 100"
if [ "$out" != "$expected" ]; then
	echo "unexpected host output:"; echo "$out"; exit 1
fi
echo "by hand (gcc, g++) and with umod_add_module: same behaviour"
