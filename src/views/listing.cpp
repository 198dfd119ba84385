// Listings of a snapshot for tools: lsmod as JSON, modinfo of a loaded module.
#include <umod/views.h>

#include <type_traits>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace umod::views {

namespace {

const ModuleSnapshot* find(const RegistrySnapshot& snapshot, std::string_view name) {
    for (const auto& m : snapshot.modules)
        if (m.name == name) return &m;
    return nullptr;
}

nlohmann::json counts_json(const HolderCounts& h) {
    nlohmann::json symbols = nlohmann::json::object();
    for (const auto& s : h.symbols) symbols[s.name] = s.count;
    return {{"user", h.user}, {"kind", h.kind}, {"static", h.static_uses}, {"dynamic", h.dynamic},
            {"symbols", symbols}};
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
    return out;
}

}  // namespace

std::string lsmod_json(const RegistrySnapshot& snapshot) {
    nlohmann::json modules = nlohmann::json::array();
    for (const auto& m : snapshot.modules) {
        nlohmann::json dynamic = nlohmann::json::array();
        for (const auto& h : m.holders)
            if (h.dynamic != 0) dynamic.push_back(h.user);
        modules.push_back({{"name", m.name}, {"size", m.size}, {"refcount", m.refcount},
                           {"used_by", m.static_users}, {"dynamic_users", dynamic},
                           {"state", std::string(to_string(m.state))}});
    }
    return nlohmann::json{{"modules", modules}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string modinfo(const RegistrySnapshot& snapshot, std::string_view module) {
    return modinfo(snapshot, module, {});
}

std::string modinfo_json(const RegistrySnapshot& snapshot, std::string_view module) {
    return modinfo_json(snapshot, module, {});
}

std::string modinfo(const RegistrySnapshot& snapshot, std::string_view module,
                    std::span<const ParameterValue> parameters) {
    const ModuleSnapshot* m = find(snapshot, module);
    if (m == nullptr) return {};
    std::string out;
    auto line = [&](std::string_view key, std::string_view value) {
        out += fmt::format("{:<15} {}\n", std::string(key) + ":", value);
    };
    line("name", m->name);
    line("state", to_string(m->state));
    line("size", std::to_string(m->size));
    line("address", fmt::format("0x{:016x}", m->address));
    line("refcount", std::to_string(m->refcount));
    if (!m->license.empty()) line("license", m->license);
    if (m->permanent) line("permanent", "yes (init without exit)");
    if (!m->taints.empty()) line("taints", m->taints);
    line("depends", join(m->depends));
    line("used by", join(m->static_users));
    for (const auto& e : m->exports)
        line("export", e.name + (e.license == ExportLicense::GplOnly ? " (GPL only)" : "") +
                           (e.ns.empty() ? "" : " [" + e.ns + "]"));
    for (const auto& h : m->holders) line("holder", describe_holder(h));
    for (const auto& p : parameters) line("parameter", p.name + "=" + p.text + " (" + p.type + ")");
    return out;
}

std::string modinfo_json(const RegistrySnapshot& snapshot, std::string_view module,
                         std::span<const ParameterValue> parameters) {
    const ModuleSnapshot* m = find(snapshot, module);
    if (m == nullptr) return {};
    nlohmann::json exports = nlohmann::json::array();
    for (const auto& e : m->exports)
        exports.push_back({{"name", e.name}, {"license", e.license == ExportLicense::GplOnly ? "gpl" : "any"},
                           {"namespace", e.ns}});
    nlohmann::json holders = nlohmann::json::array();
    for (const auto& h : m->holders) holders.push_back(counts_json(h));
    nlohmann::json j = {{"name", m->name}, {"state", std::string(to_string(m->state))}, {"size", m->size},
                        {"address", m->address}, {"refcount", m->refcount}, {"license", m->license},
                        {"permanent", m->permanent}, {"taints", m->taints}, {"depends", m->depends},
                        {"used_by", m->static_users}, {"exports", exports}, {"holders", holders}};
    if (!parameters.empty()) {
        nlohmann::json values = nlohmann::json::array();
        for (const auto& p : parameters) {
            nlohmann::json value = std::visit(
                [](const auto& v) -> nlohmann::json {
                    if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>)
                        return nullptr;
                    else
                        return v;
                },
                p.value);
            values.push_back({{"name", p.name}, {"type", p.type}, {"value", value}, {"text", p.text},
                              {"description", p.description}});
        }
        j["parameters"] = values;
    }
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace umod::views
