// umod ps [--json] — the live hosts of this user (root: root's; see
// control_directory()): pid, program, number of modules, whether clients may
// change them. Sockets left by processes that are gone are removed.
#include <cstdio>
#include <string_view>

#include <nlohmann/json.hpp>

#include <umod/control.h>

#include "commands.h"

namespace umod::tool {

int ps_main(std::string_view, std::span<char* const> args) {
    bool json = false;
    for (std::string_view a : args) {
        if (a == "--json") {
            json = true;
        } else if (a == "-h" || a == "--help") {
            std::printf("usage: umod ps [--json]\n       the live hosts (programs whose registry listens, "
                        "UMOD_CONTROL=1): pid, program, modules, access\n");
            return 0;
        } else {
            std::fprintf(stderr, "umod ps: error EINVAL: unknown option '%.*s' (usage: umod ps [--json])\n",
                         static_cast<int>(a.size()), a.data());
            return 1;
        }
    }
    auto hosts = control::list_hosts();
    if (json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& h : hosts)
            list.push_back({{"pid", h.pid}, {"program", h.program}, {"modules", h.modules},
                            {"access", std::string(control::to_string(h.access))}, {"socket", h.socket}});
        std::printf("%s\n", nlohmann::json{{"hosts", list}}.dump(2).c_str());
        return 0;
    }
    std::printf("%7s  %-16s %7s  %s\n", "PID", "PROGRAM", "MODULES", "ACCESS");
    for (const auto& h : hosts)
        std::printf("%7d  %-16s %7zu  %s\n", static_cast<int>(h.pid), h.program.c_str(), h.modules,
                    std::string(control::to_string(h.access)).c_str());
    return 0;
}

}  // namespace umod::tool
