// /proc/modules and lsmod, as the kernel (kernel/module/procfs.c m_show) and
// kmod (tools/lsmod.c) print them.
#include <umod/views.h>

#include <fmt/format.h>

namespace umod::views {

namespace {

std::string_view proc_state(ModuleState state) {
    switch (state) {
        case ModuleState::Going: return "Unloading";
        case ModuleState::Coming:
        case ModuleState::Unformed: return "Loading";
        default: return "Live";
    }
}

}  // namespace

std::string proc_modules(const RegistrySnapshot& snapshot) {
    std::string out;
    for (const ModuleSnapshot& m : snapshot.modules) {
        if (m.state == ModuleState::Unformed) continue;  // the kernel hides them too
        out += fmt::format("{} {} {} ", m.name, m.size, m.refcount);
        bool printed = false;
        for (const auto& user : m.static_users) {
            out += user + ",";
            printed = true;
        }
        if (m.permanent) {
            out += "[permanent],";
            printed = true;
        }
        if (!printed) out += "-";
        out += fmt::format(" {} 0x{:016x}", proc_state(m.state), m.address);
        if (!m.taints.empty()) out += " (" + m.taints + ")";
        out += "\n";
    }
    return out;
}

std::string lsmod(const RegistrySnapshot& snapshot) {
    std::string out = "Module                  Size  Used by\n";
    for (const ModuleSnapshot& m : snapshot.modules) {
        if (m.state == ModuleState::Unformed) continue;
        out += fmt::format("{:<19} {:>8}  {}", m.name, m.size, m.refcount);
        for (std::size_t i = 0; i < m.static_users.size(); ++i)
            out += (i ? "," : " ") + m.static_users[i];
        // Beyond kmod: who holds dynamic references (modules, named holders
        // and anonymous users) without linking to it.
        std::string dynamic;
        for (const HolderCounts& h : m.holders)
            if (h.static_uses == 0 && h.dynamic != 0) dynamic += (dynamic.empty() ? "" : ",") + h.user;
        if (!dynamic.empty()) out += " +dynamic " + dynamic;
        out += "\n";
    }
    return out;
}

}  // namespace umod::views
