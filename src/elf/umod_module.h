// What a umod module (an ELF shared object built against <umod/module.h>)
// declares, read from its sections before any of its code runs. Format only:
// the loader decides what to do with it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <umod/expected.h>

#include "elf/elf_file.h"

namespace umod::elf {

struct UmodExport {
    std::string written_name;   // as in EXPORT_SYMBOL(...)
    std::string link_name;      // the dynamic symbol at that address (mangled in C++)
    std::string ns;
    std::string type;
    bool gpl_only = false;
    bool overloaded = false;    // another export of the module has the same qualified name
    std::uint64_t address = 0;  // virtual address in the image
};

struct UmodParam {
    std::string name;
    std::string type;
    std::uint64_t address = 0;
};

// A dynamic relocation against a named symbol: where the dynamic linker will
// store the address it binds the symbol to.
struct SymbolBinding {
    std::uint64_t offset = 0;   // virtual address of the slot
    std::uint32_t type = 0;     // R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT or R_X86_64_64
    std::int64_t addend = 0;
    std::string symbol;
    bool defined_here = false;  // the module defines the symbol itself
};

struct UmodModuleInfo {
    std::vector<std::pair<std::string, std::string>> modinfo;
    std::vector<UmodExport> exports;
    std::vector<UmodParam> params;
    std::vector<std::string> undefined;      // undefined, non-weak dynamic symbols
    std::vector<SymbolBinding> bindings;     // every dynamic relocation against a named symbol
    std::vector<std::string> local_defined;  // defined symbols that are not exported (hints)
    std::vector<std::string> other_default;  // default-visibility definitions not in the export table
    std::uint64_t this_module = 0;           // address of struct module, 0 if absent
    std::uint64_t init = 0;                  // address of the init function, 0 if none
    std::uint64_t exit = 0;
    std::uint64_t image_size = 0;            // extent of the allocated sections
    bool symbolic = false;                   // DF_SYMBOLIC / DT_SYMBOLIC (-Bsymbolic)
    bool nodelete = false;                   // DF_1_NODELETE
    bool has_tls = false;                    // a TLS segment (pending TLS destructors pin it)
};

// Reads a umod module's declarations. ENOEXEC (MalformedElf) when the file is
// not an x86-64 shared object or a table is corrupt.
Expected<UmodModuleInfo> read_umod_module(const ElfFile& file);

// A C++ link name demangled ("ns::add(int, int)"); other names unchanged.
std::string demangle(std::string_view link_name);

// A link name as a person reads it, in views and errors: demangled, without
// ABI tags, std::string and std::string_view by those names
// ("cache::lookup(std::string_view)"); other names unchanged.
std::string readable_name(std::string_view link_name);

// The C++ name as people write it in a lookup: readable_name without the
// parameter list ("cache::lookup" for "_ZN5cache6lookupB5cxx11ESt17basic_string_viewIcSt11char_traitsIcEE");
// other names unchanged.
std::string qualified_name(std::string_view link_name);

// The name an overload of a C++ function answers to, besides its link name:
// its qualified name and its type without spaces ("ov::f@int(double)"), so
// that it has no white space for the index files. A typed lookup by the bare
// name (Registry::symbol_get_typed("ov::f", type)) finds it.
std::string overload_key(std::string_view qualified, std::string_view type);

// The second name an export answers to, besides its link name: its
// qualified_name (its overload_key when it is overloaded), else the name
// EXPORT_SYMBOL wrote when it differs; empty for none. The loader registers
// it and depmod --umod indexes it.
std::string second_name(const UmodExport& e);

}  // namespace umod::elf
