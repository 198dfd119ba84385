// What a request does on a registry: the answers of the endpoint and of
// `umod run`'s shared commands. Reads go through snapshot() and holders(),
// which copy under the registry's lock and return: nothing here holds a lock.
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include <umod/control.h>
#include <umod/loader.h>
#include <umod/metadata.h>
#include <umod/views.h>

namespace umod::control {

namespace {

std::string_view access_name(ControlAccess access) {
    switch (access) {
        case ControlAccess::Off: return "off";
        case ControlAccess::Read: return "read";
        case ControlAccess::Manage: return "manage";
    }
    return "off";
}

Expected<std::string> holders(Registry& registry, const Request& request) {
    auto held = registry.holders(request.module);
    if (!held) return held.error();
    if (request.format == Format::Json) return views::json(request.module, *held);
    std::string out = views::holders(registry.snapshot(), request.module);
    // At the stacks level: where each reference still held was taken.
    for (const HolderCounts& h : *held) {
        std::string where = describe_acquisitions(h, request.module);
        if (!where.empty()) out += where.substr(1) + "\n";
    }
    return out;
}

Expected<std::string> rmmod(Registry& registry, const Request& request, Reports reports) {
    auto report = registry.unload(request.module, request.unload);
    if (!report) return report.error();
    std::string out;
    if (reports == Reports::InAnswer)
        for (const Leak& leak : report->leaks) out += "[leak] " + describe_leak(leak) + "\n";
    if (report->unmap.unmapped) {
        out += request.module + " unloaded, code unmapped\n";
    } else if (reports == Reports::InAnswer) {
        out += request.module + " unloaded, but its code is still mapped:";
        for (const auto& why : report->unmap.reasons) out += " " + why + ";";
        out.back() = '\n';
    }
    for (const auto& held : report->forced)
        out += "[forced] " + describe_holder(held) + describe_acquisitions(held, request.module) + "\n";
    return out;
}

// The plan for --dry-run; else what was replaced, each old image proved
// unmapped or why it stayed.
Expected<std::string> reload(Registry& registry, const Request& request) {
    if (request.dry_run) {
        auto plan = registry.plan_reload(request.module, request.file, request.params, request.reload);
        if (!plan) return plan.error();
        return describe_reload_plan(*plan);
    }
    auto report = registry.reload(request.module, request.file, request.params, request.reload);
    if (!report) return report.error();
    std::string out = request.module + " reloaded from " + request.file;
    if (report->plan.load_order.size() > 1) {
        out += ", dependents rebound:";
        for (std::size_t i = 1; i < report->plan.load_order.size(); ++i) out += " " + report->plan.load_order[i];
    }
    out += "\n";
    for (const auto& s : report->plan.states)
        out += "  state " + s.id + " handed over, v" + std::to_string(s.from_version) + " -> v" +
               std::to_string(s.to_version) + "\n";
    for (const auto& r : report->replaced) {
        if (r.unmap.unmapped) continue;
        out += "  old " + r.module + " still mapped:";
        for (const auto& why : r.unmap.reasons) out += " " + why + ";";
        out.back() = '\n';
    }
    return out;
}

}  // namespace

std::string_view to_string(ControlAccess access) { return access_name(access); }

Expected<std::string> execute(Registry& registry, const Request& request, ControlAccess access, Reports reports) {
    const VerbInfo* info = nullptr;
    for (const VerbInfo& v : verbs())
        if (v.verb == request.verb) info = &v;
    if (info != nullptr && info->changes == Changes::Yes && access != ControlAccess::Manage &&
        !(request.verb == Verb::Track && !request.track))
        return Error(EPERM, std::string(info->name) + ": this host allows reading only (ControlAccess::Manage "
                                                      "or UMOD_CONTROL=manage lets clients change it)");
    switch (request.verb) {
        case Verb::Lsmod:
            return request.format == Format::Json ? views::lsmod_json(registry.snapshot())
                                                  : views::lsmod(registry.snapshot());
        case Verb::ProcModules:
            return views::proc_modules(registry.snapshot());
        case Verb::Holders:
            return holders(registry, request);
        case Verb::Graph:
            return request.format == Format::Json ? views::json(registry.snapshot())
                                                  : views::dot(registry.snapshot());
        case Verb::Modinfo: {
            RegistrySnapshot snap = registry.snapshot();
            // The values now; none when the module went away meanwhile.
            std::vector<ParameterValue> params;
            if (auto values = module_parameters(registry.find(request.module))) params = std::move(*values);
            std::string out = request.format == Format::Json ? views::modinfo_json(snap, request.module, params)
                                                             : views::modinfo(snap, request.module, params);
            if (out.empty()) return Error::with(ENOENT, NoSuchModule{request.module});
            return out;
        }
        case Verb::Status: {
            std::string out = "protocol " + std::to_string(kProtocolVersion) + "\n";
            out += "pid " + std::to_string(getpid()) + "\n";
            out += std::string("program ") + program_invocation_short_name + "\n";
            out += "modules " + std::to_string(registry.modules().size()) + "\n";
            out += "access " + std::string(access_name(access)) + "\n";
            out += "tracking " + std::string(to_string(registry.tracking())) + "\n";
            return out;
        }
        case Verb::Insmod: {
            auto loaded = load_module_file(registry, request.module, request.params);
            if (!loaded) return loaded.error();
            return std::string();
        }
        case Verb::Rmmod:
            return rmmod(registry, request, reports);
        case Verb::Reload:
            return reload(registry, request);
        case Verb::Track:
            if (!request.track) return std::string(to_string(registry.tracking())) + "\n";
            registry.set_tracking(*request.track);
            return std::string();
        case Verb::Monitor:
            return Error(EINVAL, "monitor: a stream, answered by the control endpoint only");
    }
    return Error(EINVAL, "unknown request");
}

std::string describe_event(const Event& e, Format format) {
    std::string_view kind = to_string(e.kind);
    if (format == Format::Json) {
        nlohmann::json j = {{"event", kind}};
        if (!e.module.empty()) j["module"] = e.module;
        if (!e.user.empty()) j["user"] = e.user;
        if (!e.provider.empty()) j["provider"] = e.provider;
        if (!e.symbol.empty()) j["symbol"] = e.symbol;
        if (!e.text.empty()) j["text"] = e.text;
        return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    std::string out(kind);
    switch (e.kind) {
        case EventKind::Get:
        case EventKind::Put:
            out += " " + std::string(e.user) + " " + std::string(e.provider) + ":" + std::string(e.symbol);
            break;
        case EventKind::Loaded:
        case EventKind::Unloaded:
            out += " " + std::string(e.module);
            break;
        default:
            if (!e.module.empty()) out += " " + std::string(e.module) + ":";
            if (!e.text.empty()) out += " " + std::string(e.text);
            break;
    }
    return out;
}

}  // namespace umod::control
