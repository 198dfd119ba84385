// Holders text, JSON and DOT views of the use graph.
#include <umod/views.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace umod::views {

namespace {

const ModuleSnapshot* find(const RegistrySnapshot& snapshot, std::string_view name) {
    for (const auto& m : snapshot.modules)
        if (m.name == name) return &m;
    return nullptr;
}

std::string_view license_name(ExportLicense license) {
    return license == ExportLicense::GplOnly ? "gpl" : "any";
}

}  // namespace

std::string holders(const RegistrySnapshot& snapshot, std::string_view module) {
    const ModuleSnapshot* m = find(snapshot, module);
    if (m == nullptr) return {};
    std::string out = fmt::format("{}: {} holder{}\n", m->name, m->holders.size(),
                                  m->holders.size() == 1 ? "" : "s");
    for (const HolderCounts& h : m->holders) {
        out += fmt::format("  {:<20} {:<9} static {}  dynamic {}", h.user, h.kind, h.static_uses, h.dynamic);
        for (std::size_t i = 0; i < h.symbols.size(); ++i)
            out += fmt::format("{}{} x{}", i ? ", " : "  (", h.symbols[i].name, h.symbols[i].count);
        if (!h.symbols.empty()) out += ")";
        out += "\n";
    }
    return out;
}

std::string json(const RegistrySnapshot& snapshot) {
    using nlohmann::json;
    json modules = json::array();
    for (const ModuleSnapshot& m : snapshot.modules) {
        json exports = json::array();
        for (const auto& e : m.exports)
            exports.push_back({{"name", e.name}, {"license", license_name(e.license)}, {"namespace", e.ns}});
        json holders = json::array();
        for (const HolderCounts& h : m.holders) {
            json symbols = json::object();
            for (const auto& s : h.symbols) symbols[s.name] = s.count;
            holders.push_back({{"user", h.user}, {"kind", h.kind}, {"static", h.static_uses},
                               {"dynamic", h.dynamic}, {"symbols", symbols}});
        }
        modules.push_back({{"name", m.name},
                           {"state", to_string(m.state)},
                           {"size", m.size},
                           {"refcount", m.refcount},
                           {"license", m.license},
                           {"permanent", m.permanent},
                           {"depends", m.depends},
                           {"exports", exports},
                           {"holders", holders}});
    }
    json root = {{"modules", modules}, {"holders", snapshot.holders}, {"taints", snapshot.taints}};
    return root.dump(2) + "\n";
}

std::string dot(const RegistrySnapshot& snapshot) {
    std::string out = "digraph umod {\n  rankdir=LR;\n";
    for (const ModuleSnapshot& m : snapshot.modules)
        out += fmt::format("  \"{}\" [shape=box];\n", m.name);
    for (const auto& h : snapshot.holders) out += fmt::format("  \"{}\" [shape=ellipse];\n", h);
    for (const ModuleSnapshot& m : snapshot.modules) {
        for (const HolderCounts& h : m.holders) {
            if (h.static_uses != 0)
                out += fmt::format("  \"{}\" -> \"{}\" [style=solid, label=\"static\"];\n", h.user, m.name);
            if (h.dynamic != 0)
                out += fmt::format("  \"{}\" -> \"{}\" [style=dashed, label=\"{}\"];\n", h.user, m.name,
                                   h.dynamic);
        }
    }
    return out + "}\n";
}

}  // namespace umod::views
