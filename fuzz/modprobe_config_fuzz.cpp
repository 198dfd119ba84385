// libFuzzer target for modprobe.d and the kernel command line: arbitrary
// bytes parsed as a modprobe.d file and as /proc/cmdline, then every parsed
// name through the alias normaliser. Any crash, hang, sanitizer report or
// leak is a bug: a bad line or option is only ever reported.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "index/modprobe.h"
#include "index/modprobe_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    umod::index::ModprobeConfig config;
    std::vector<umod::index::ConfigDiagnostic> diagnostics;
    config.parse(text, "/etc/modprobe.d/fuzz.conf", diagnostics);
    config.parse_kernel_cmdline(text, diagnostics);
    std::string normal;
    for (const auto& o : config.options) (void)umod::index::alias_normalize(o.modname, normal);
    for (const auto& a : config.aliases) (void)umod::index::alias_normalize(a.name, normal);
    for (const auto& s : config.softdeps)
        for (const auto& name : s.pre) (void)umod::index::alias_normalize(name, normal);
    for (const auto& b : config.blacklists) (void)umod::index::underscores(b);
    return 0;
}
