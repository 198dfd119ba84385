// A reload decided before any new code runs (reload_plan.cpp), and carried
// out as one transaction (reload.cpp). Internal to src/core.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/registry_impl.h"
#include "core/reload_source.h"

namespace umod::core {

// One module of the reloaded set.
struct ReloadMember {
    std::shared_ptr<Module> old;         // as loaded now
    ReloadImage next;                    // what is loaded in its place: the new file, or its kept bytes
    std::vector<std::string> params;     // its parameters' values (a rollback loads it again with them)
    std::vector<std::string> stays_mapped;  // why its old image cannot be unmapped
    std::optional<DeclaredState> state;  // the old version's MODULE_STATE
};

struct ReloadWork {
    ReloadPlan plan;
    std::vector<ReloadMember> members;  // in unload order: top-down, the replaced module last
};

// The plan, or the refusal naming every blocker (ReloadRefused), decided from
// the registry and the files: reads the new file and the set's kept bytes,
// runs no module code, changes nothing. ENOENT unknown module, EBUSY one of
// the set not live, ENOSYS without a ReloadSource.
Expected<ReloadWork> plan_reload(Registry& registry, Registry::Impl& impl, std::string_view name,
                                 const std::string& file, std::span<const std::string> params,
                                 ReloadOptions options);

// Carries `work` out: the old set unloaded top-down (each state saved before
// its exit), the new set loaded bottom-up (each state restored before its
// init); on a failure, everything new unloaded and the old set loaded again
// from its kept bytes (ReloadFailed).
Expected<ReloadReport> carry_out_reload(Registry& registry, Registry::Impl& impl, ReloadWork work,
                                        ReloadOptions options);

}  // namespace umod::core
