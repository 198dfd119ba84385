// umod — what a module file declares, read without running any of its code,
// and the parameter values of a loaded module as /sys/module/M/parameters
// shows them.
//
// The file is read with the ELF reader the loader uses, as hostile input: a
// corrupt table is an error, never a crash. Nothing is mapped executable, no
// constructor, init or exit runs, and the registry is not involved.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <umod/umod.h>

namespace umod {

// A parameter a module declares (module_param, module_param_named).
struct ParameterInfo {
    std::string name;         // as insmod sets it: module_param_named's first argument
    std::string type;         // bool, int, uint, short, ushort, long, ulong, charp, string
    std::string description;  // MODULE_PARM_DESC's text; empty when none
};

// An export (EXPORT_SYMBOL and friends).
struct ExportInfo {
    std::string name;         // as a person reads it: "storage::describe(std::string_view)", "crc16"
    std::string link_name;    // the dynamic symbol: "_ZN7storage8describeB5cxx11ESt17basic_string_view..."
    std::string lookup_name;  // the second name symbol_get answers to ("storage::describe",
                              // "ov::f@int(double)" for an overload); empty for none
    std::string type;         // the type a typed lookup must ask for; empty when untyped
    std::string ns;           // symbol namespace; empty for none
    ExportLicense license = ExportLicense::Any;
};

// A symbol the module leaves undefined (non-weak) for the dynamic linker:
// another module's export, the host's core export, or something of the C
// and C++ libraries (only the loading process can tell these apart; umod's
// own entry points, __umod_*, are left out).
struct ImportInfo {
    std::string link_name;
    std::string name;  // as a person reads it
};

// An appended module signature (the kernel's "~Module signature appended~"
// trailer), as modinfo shows it.
struct SignatureInfo {
    std::string id_type;                // "PKCS#7", "X509" or "PGP"
    std::string signer;                 // PKCS#7: the issuer of the first signer
    std::vector<std::uint8_t> key_id;   // PKCS#7: that signer's serial number, big-endian
    std::string hash_algorithm;         // "sha256", ... or "unknown"
    std::vector<std::uint8_t> signature;
};

struct ModuleMetadata {
    std::string path;                      // as given
    std::string name;                      // MODULE_NAME, else module_name_from_path(path)
    std::string license;                   // MODULE_LICENSE; empty when none
    std::string version;                   // MODULE_VERSION
    std::string description;               // MODULE_DESCRIPTION
    // Lists are in the file's order, which is the compiler's (GCC writes a
    // translation unit's declarations last first).
    std::vector<std::string> authors;      // each MODULE_AUTHOR
    std::vector<std::string> aliases;      // each MODULE_ALIAS
    std::vector<std::string> softdeps;     // each MODULE_SOFTDEP ("pre: a post: b")
    std::vector<std::string> import_ns;    // each MODULE_IMPORT_NS
    // What the file says it depends on: its `depends` .modinfo field split at
    // commas (a .ko has one from modpost; a umod module only if its author
    // wrote one). Which modules provide its imports is known only against
    // other modules' exports: see load_directory (<umod/plugin_directory.h>).
    std::vector<std::string> depends;
    std::vector<ParameterInfo> parameters;
    std::vector<ExportInfo> exports;
    std::vector<ImportInfo> imports;
    ModInfo modinfo;                       // every .modinfo key and value, in order
    std::optional<SignatureInfo> signature;  // empty: the file is not signed
};

// Reads what the module file at `path` declares. Errors name the path: the
// file's own (ENOENT, EACCES...); ENOEXEC when it is not an x86-64 ELF shared
// object, is a shared object that is not a umod module (no .umod_this_module
// section: not built with umod_add_module or pkg-config umod-module), or has
// a corrupt table or signature trailer.
Expected<ModuleMetadata> read_module_metadata(const std::string& path);

// A loaded module's parameter, read from its memory when asked (module code
// may have changed it since load).
struct ParameterValue {
    std::string name;
    std::string type;
    std::string description;
    // bool; a signed integer (int, short, long); an unsigned one (uint,
    // ushort, ulong); a charp's or string's text, or monostate when the
    // pointer is null.
    std::variant<std::monostate, bool, long long, unsigned long long, std::string> value;
    // As /sys/module/M/parameters/NAME shows it, without the newline:
    // "Y"/"N", "-3", "stored:", "(null)".
    std::string text;
};

// The parameters of a loaded module, in the file's order. Empty for a
// module without parameters or one loaded from a link-only image. ENOENT
// (NoSuchModule) for an empty handle or a module no longer mapped (state
// Gone, or a failed load). Safe against a concurrent unload: the module is
// not unmapped while its values are read. Takes no registry lock and no
// reference, so it shows in no holder count and sends no event.
Expected<std::vector<ParameterValue>> module_parameters(const ModuleHandle& module);

}  // namespace umod
