// Holders text, JSON and DOT views of the use graph.
#include <umod/views.h>

#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "elf/umod_module.h"

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

nlohmann::json frame_json(const StackFrame& f) {
    nlohmann::json j = {{"address", f.address}, {"object", f.object}, {"function", f.function},
                        {"offset", f.offset}, {"text", describe_frame(f)}};
    if (!f.file.empty()) {
        j["file"] = f.file;
        j["line"] = f.line;
    }
    return j;
}

nlohmann::json stack_json(const StackTrace& stack) {
    nlohmann::json frames = nlohmann::json::array();
    for (const StackFrame& f : stack) frames.push_back(frame_json(f));
    return frames;
}

nlohmann::json holder_json(const HolderCounts& h) {
    nlohmann::json symbols = nlohmann::json::object();
    for (const auto& s : h.symbols) symbols[s.name] = s.count;
    nlohmann::json j = {{"user", h.user}, {"kind", h.kind}, {"static", h.static_uses},
                        {"dynamic", h.dynamic}, {"symbols", symbols}};
    if (!h.acquired.empty()) {
        nlohmann::json groups = nlohmann::json::array();
        for (const StackGroup& g : h.acquired)
            groups.push_back({{"symbol", g.symbol}, {"count", g.count}, {"stack", stack_json(g.stack)}});
        j["acquired"] = groups;
    }
    return j;
}

}  // namespace

std::string json(const Error& error) {
    const char* name = strerrorname_np(error.code());
    nlohmann::json j = {{"code", error.code()}, {"errno", name ? name : ""}, {"message", error.message()}};
    if (const auto* put = error.detail<UnmatchedPut>()) {
        nlohmann::json releases = nlohmann::json::array();
        for (const auto& r : put->recent_releases)
            releases.push_back({{"acquired", stack_json(r.acquired)}, {"released", stack_json(r.released)}});
        j["unmatched_put"] = {{"user", put->user}, {"provider", put->provider}, {"symbol", put->symbol},
                              {"put_stack", stack_json(put->put_stack)}, {"recent_releases", releases}};
    }
    if (const auto* in_use = error.detail<ModuleInUse>()) {
        nlohmann::json holders = nlohmann::json::array();
        for (const HolderCounts& h : in_use->holders) holders.push_back(holder_json(h));
        j["module_in_use"] = {{"module", in_use->module}, {"waited", in_use->waited}, {"holders", holders}};
    }
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string json(std::string_view module, const std::vector<HolderCounts>& holders) {
    nlohmann::json list = nlohmann::json::array();
    for (const HolderCounts& h : holders) list.push_back(holder_json(h));
    nlohmann::json j = {{"module", module}, {"holders", list}};
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string json(const Leak& leak) {
    nlohmann::json j = {{"leak", {{"user", leak.user}, {"provider", leak.provider},
                                  {"references", holder_json(leak.references)}}},
                        {"message", describe_leak(leak)}};
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string holders(const RegistrySnapshot& snapshot, std::string_view module) {
    const ModuleSnapshot* m = find(snapshot, module);
    if (m == nullptr) return {};
    std::string out = fmt::format("{}: {} holder{}\n", m->name, m->holders.size(),
                                  m->holders.size() == 1 ? "" : "s");
    for (const HolderCounts& h : m->holders) {
        out += fmt::format("  {:<20} {:<9} static {}  dynamic {}", h.user, h.kind, h.static_uses, h.dynamic);
        for (std::size_t i = 0; i < h.symbols.size(); ++i)
            out += fmt::format("{}{} x{}", i ? ", " : "  (", elf::readable_name(h.symbols[i].name),
                              h.symbols[i].count);  // JSON keeps the link name
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
        for (const HolderCounts& h : m.holders) holders.push_back(holder_json(h));
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
    return root.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
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
