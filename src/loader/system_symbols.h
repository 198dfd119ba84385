// What the rest of the process defines: symbols of default visibility
// defined by loaded objects that are not umod modules, nor libraries umod
// keeps in a scope of their own (support/private_library.h): libc, libstdc++,
// the host. A module's undefined symbol found here is the system's, not an
// import.
//
// Looked up in the objects' own hash tables (DT_GNU_HASH, else DT_HASH), in
// memory, as the dynamic linker finds them: no file is read, nothing is
// collected, and a symbol costs one hash probe per object.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace umod::loader {

// For each of `names`, whether a loaded object of the system defines it.
// Thread-safe; takes the dynamic linker's lock (dl_iterate_phdr).
std::vector<bool> defined_by_system(std::span<const std::string> names);

}  // namespace umod::loader
