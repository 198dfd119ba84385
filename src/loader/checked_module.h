// A module file's bytes as the loader checked them: what umod reads from
// them (elf/umod_module.h) and what the dynamic linker will trust
// (elf/load_check.h). Depends only on the bytes: a later load of the same
// bytes may reuse it (loader/private_copy.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <umod/expected.h>

#include "elf/load_check.h"
#include "elf/umod_module.h"

namespace umod::loader {

// 8 bytes of the mapped copy that differ from the file's.
struct Patch {
    std::uint64_t offset = 0;
    std::uint64_t value = 0;
    bool operator==(const Patch&) const = default;
};

struct CheckedModule {
    elf::UmodModuleInfo info;
    // The static constructors, which the dynamic linker is told not to run
    // (DT_INIT_ARRAYSZ 0 in the copy): the loader runs them, where what they
    // throw stops.
    elf::LoadImage::CallArray constructors;
    // The static destructors, which the dynamic linker runs at the last
    // dlclose; a module refused before its constructors ran has them taken
    // away first (DT_FINI_ARRAYSZ set to 0 where it is loaded, which is
    // read-only there when destructors_size_read_only).
    elf::LoadImage::CallArray destructors;
    bool destructors_size_read_only = false;
    std::vector<Patch> patches;  // where the mapped copy differs from the file
    // elf::second_name of each export, in info.exports' order (demangling
    // costs more than the rest of a reload of the same bytes).
    std::vector<std::string> second_names;
};

// The checks of check_module after the ELF parse that a reader of what the
// module declares needs too (<umod/metadata.h>): a umod module (not any
// shared object), umod's sections. ENOEXEC naming `path` and the defect.
Expected<elf::UmodModuleInfo> read_module_info(const std::string& path, const elf::ElfFile& elf);

// Every check, in order: an ELF file; a umod module (not any shared object);
// umod's sections (read_umod_module); everything the dynamic linker trusts
// (LoadImage::check); the addresses umod writes to and calls
// (check_umod_addresses). ENOEXEC naming `path` and the defect.
Expected<std::shared_ptr<const CheckedModule>> check_module(const std::string& path,
                                                            std::span<const std::byte> bytes);

}  // namespace umod::loader
