// A loaded module's parameters, readable by the host while the module is
// mapped (<umod/metadata.h> module_parameters): what the loader's backend
// knows about them, and the lock that keeps a reader and the unmap apart.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <umod/metadata.h>

#include "elf/umod_module.h"
#include "support/mutex.h"

namespace umod::loader {

// MODULE_PARM_DESC's text for `parameter` (its last "NAME:TEXT" parm entry);
// empty when none.
std::string parameter_description(const ModInfo& modinfo, std::string_view parameter);

class MappedParameters {
public:
    MappedParameters(std::string module, const std::vector<elf::UmodParam>& params, const ModInfo& modinfo);

    // The image is mapped at `base` and its parameters hold their load-time
    // values; 0: it is about to be unmapped (returns once no reader is left).
    void set_base(std::uintptr_t base);

    // The values now; ENOENT (NoSuchModule) while not mapped.
    Expected<std::vector<ParameterValue>> read() const;

private:
    struct Slot {
        std::string name;
        std::string type;
        std::string description;
        std::uint64_t address;  // in the image
    };
    const std::string module_;
    std::vector<Slot> slots_;
    mutable support::Mutex mutex_;
    std::uintptr_t base_ UMOD_GUARDED_BY(mutex_) = 0;
};

// Implemented by a backend whose module has parameters in its image (the
// shared-object loader's), found from a Module's backend by dynamic_cast.
class ParameterSource {
public:
    virtual const MappedParameters& parameters() const = 0;

protected:
    ~ParameterSource() = default;
};

}  // namespace umod::loader
