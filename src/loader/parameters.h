// Module parameters (modprobe NAME key=value): parsed against the types the
// module declares (MODULE_PARAM), before anything is mapped, then stored
// into the mapped module's variables.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <umod/expected.h>

#include "elf/umod_module.h"

namespace umod::loader {

// One parsed assignment, ready to store.
struct ParamValue {
    const elf::UmodParam* param;  // in the module's UmodModuleInfo, which must outlive it
    std::string text;             // charp: the string the variable will point to
    long long signed_value = 0;
    unsigned long long unsigned_value = 0;
    bool flag = false;
};

// Each "name=value" (or "name" for a bool) of `assignments`, in order.
// EINVAL (BadParameter naming module and parameter) for an unknown name, a
// value that is not of the parameter's type or out of its range.
Expected<std::vector<ParamValue>> parse_params(const std::string& module, const elf::UmodModuleInfo& info,
                                               std::span<const std::string> assignments);

// Stores the value into the module mapped at `base` (its variable's address
// was checked writable after load). The value must outlive the module (charp).
void apply_param(ParamValue& value, std::uintptr_t base);

}  // namespace umod::loader
