#!/bin/sh
# Installs umod into a temporary prefix, builds a module by hand exactly as the
# documentation says (gcc and g++ with pkg-config), builds the same module with
# umod_add_module through find_package(umod), and checks a host built with
# pkg-config loads both the same way. Then, without LD_LIBRARY_PATH: the
# installed umod runs every command from the prefix, and a C++17 CMake host
# linking umod::umod gets C++20 and core exports without knowing about
# -rdynamic, and finds the tool as umod::tool. The tool needs glibc alone;
# without its scripted host (umod-run.so) umod run fails with a clear error.
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

unset LD_LIBRARY_PATH
umod="$tmp/prefix/bin/umod"
# The tool has the layers it uses linked in, and its C++ runtime (start-up is
# most of a kmod command): no runpath, and glibc alone (libc; libm too when
# Clang built it: its code calls ceil). The scripted host, umod run, is the
# module that needs libumod and libstdc++.
if readelf -d "$umod" | grep -Eq 'RUNPATH|RPATH'; then echo "installed umod needs a runpath:"; readelf -d "$umod" | grep -E 'NEEDED|PATH'; exit 1; fi
needed=$(readelf -d "$umod" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -Ev '^(ld-linux-x86-64|libc|libm)\.so' | tr '\n' ' ')
if [ -n "$needed" ]; then echo "installed umod needs more than glibc: $needed"; exit 1; fi
"$umod" version | grep -q "^umod "
"$umod" modinfo -F license "$tmp/hand_c.so" | grep -qx GPL
mkdir -p "$tmp/root/lib/modules/1.0"
cp "$tmp/hand_c.so" "$tmp/root/lib/modules/1.0/"
"$umod" depmod --umod -b "$tmp/root" 1.0
"$umod" modprobe -n -v -d "$tmp/root" -S 1.0 hand_c > /dev/null
printf 'insmod %s answer=5\nlsmod\nrmmod hand_c\n' "$tmp/hand_c.so" > "$tmp/s.umod"
"$umod" run "$tmp/s.umod" | grep -q "^hand_c "
# Without its scripted host, umod run says so and fails; the other commands run.
host=$(find "$tmp/prefix" -name umod-run.so)
[ -n "$host" ] || { echo "no umod-run.so installed"; exit 1; }
mv "$host" "$host.away"
status=0; err=$("$umod" run "$tmp/s.umod" 2>&1 > /dev/null) || status=$?
case "$status:$err" in
1:"run: cannot open the scripted host: $host: cannot open shared object file"*) ;;
*) echo "umod run without umod-run.so: exit $status: $err"; exit 1 ;;
esac
"$umod" version | grep -q "^umod "
mv "$host.away" "$host"

# A C++17 host through find_package(umod): umod::umod carries C++20 and
# -rdynamic (the module links to the host's core export host_log).
mkdir -p "$tmp/app"
cat > "$tmp/app/plugin.c" <<'C'
#include <umod/module.h>
int host_log(int);
int plugin_call(void) { return host_log(20); }
EXPORT_SYMBOL(plugin_call);
MODULE_LICENSE("GPL");
C
cat > "$tmp/app/host.cpp" <<'CPP'
#include <umod/loader.h>
#include <umod/umod.h>
#include <cstdio>
extern "C" int host_log(int x) { return x + 1; }
int main(int, char** argv) {
    umod::Registry registry;
    umod::ExportSpec spec;
    spec.name = "host_log";
    spec.address = reinterpret_cast<const void*>(&host_log);
    if (!registry.add_core_export(spec)) return 2;
    auto m = umod::load_module_file(registry, argv[1]);
    if (!m) { std::printf("%s\n", m.error().message().c_str()); return 1; }
    auto f = registry.symbol_get("plugin_call", registry.holder("host"));
    if (!f) return 3;
    std::printf("%d\n", reinterpret_cast<int (*)()>(*f)());
    return 0;
}
CPP
cat > "$tmp/app/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(app C CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(umod REQUIRED)
umod_add_module(plugin plugin.c)
add_executable(host host.cpp)
target_link_libraries(host PRIVATE umod::umod)
get_target_property(tool umod::tool LOCATION)
file(WRITE ${CMAKE_BINARY_DIR}/tool.txt "${tool}")
CMAKE
cmake -S "$tmp/app" -B "$tmp/app/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$tmp/app/build" > /dev/null
if [ "$(cat "$tmp/app/build/tool.txt")" != "$umod" ]; then echo "umod::tool is $(cat "$tmp/app/build/tool.txt")"; exit 1; fi
out=$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/app/build/host" "$tmp/app/build/plugin.so")
if [ "$out" != 21 ]; then echo "host with a core export: $out"; exit 1; fi
echo "installed umod runs from its prefix; a C++17 CMake host links umod::umod with core exports"
