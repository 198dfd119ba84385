// The shared-object backend: maps a module's private copy (loader/private_copy.h)
// with dlopen once the registry resolved its imports, fills in its struct
// module and parameters, runs its static constructors at the boundary where
// what they throw stops, and checks that the dynamic linker bound every
// symbol where umod meant it to. Unmapping proves the object gone.
//
// Never dlsym(RTLD_DEFAULT, ...): a lookup that finds a symbol in a module
// records a dependency from the caller on it, and the module can then never be
// unmapped. Addresses come from the module's own tables plus its load base.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <umod/umod.h>

#include "loader/parameter_values.h"
#include "loader/oops.h"
#include "loader/parameters.h"
#include "loader/private_copy.h"

namespace umod::loader {

class SharedObjectBackend final : public ModuleBackend, public ParameterSource {
public:
    // `params` were parsed against copy.checked().info.
    SharedObjectBackend(Registry& registry, PrivateCopy copy, std::string name, std::vector<ParamValue> params);

    Expected<MappedModule> map(std::span<const ResolvedImport> imports, User* self) override;
    UnmapReport unmap() override;
    // One more reference of the dynamic linker's on the mapped object, by its
    // loaded path (RTLD_NOLOAD: no file is opened), dropped with the token.
    std::shared_ptr<void> keep_mapped() override;

    // What module code threw at the boundary ("init threw std::runtime_error:
    // boom"), empty if nothing; shared with the calls map() returned.
    std::shared_ptr<std::string> thrown() const { return thrown_; }

    // The parameters as the host reads them (module_parameters).
    const MappedParameters& parameters() const override { return parameters_; }
    // The checked bytes it maps, kept for a reload (loader/reload_images.cpp).
    const PrivateCopy& kept_copy() const { return copy_; }

    // What in a module's file keeps its image mapped after dlclose, worded as
    // an unmap report words it ("DF_1_NODELETE"); empty when nothing does.
    // STB_GNU_UNIQUE symbols do not: the mapped copy makes them global
    // (loader/checked_module.cpp).
    static std::vector<std::string> file_pins(const elf::UmodModuleInfo& info);

private:
    MappedModule entry_points() const;
    bool still_loaded() const;
    Status run_constructors();
    Status check_bindings(std::span<const ResolvedImport> imports) const;
    std::vector<std::string> hazards() const;
    std::vector<std::string> pinned_because() const;
    void forget_destructors();
    void close();

    Registry& registry_;
    PrivateCopy copy_;  // what is mapped: the checked bytes
    const elf::UmodModuleInfo& info_;  // copy_'s
    const std::string path_;
    const std::string name_;
    std::vector<ParamValue> params_;
    MappedParameters parameters_;
    void* handle_ = nullptr;
    std::uintptr_t base_ = 0;
    std::shared_ptr<std::string> thrown_ = std::make_shared<std::string>();
    std::unique_ptr<OopsRecord> oops_;  // while mapped, when the crash reporter is on
    std::shared_ptr<std::atomic<int>> pins_ = std::make_shared<std::atomic<int>>(0);  // keep_mapped tokens alive
};

// The exception being handled, as "TYPE: what()" (demangled type).
std::string current_exception_text();

}  // namespace umod::loader
