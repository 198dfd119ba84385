// libFuzzer target for the MODULE_STATE declaration a module's .modinfo
// carries ("state=ID:VERSION", core/reload_source.h): the input is a .modinfo
// section, NUL-separated "key=value" entries. Any crash, hang or sanitizer
// report is a bug; a malformed or repeated declaration must be an EINVAL value.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/reload_source.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view section(reinterpret_cast<const char*>(data), size);
    umod::ModInfo modinfo;
    while (!section.empty()) {
        std::string_view entry = section.substr(0, section.find('\0'));
        section.remove_prefix(entry.size() < section.size() ? entry.size() + 1 : entry.size());
        std::size_t eq = entry.find('=');
        if (eq == std::string_view::npos) continue;
        modinfo.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
    }
    auto state = umod::core::declared_state("fuzz", modinfo);
    if (!state && state.error().code() != EINVAL) std::abort();
    if (state && *state && (*state)->id.empty()) std::abort();
    return 0;
}
