// umod — the structured payloads of the registry's errors.
//
// One type per failure kind, used everywhere that kind of failure is reported;
// describe_error() words each in one line (see umod/expected.h). Codes follow the
// kernel's module loader: the code travels in the Error, the data here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <umod/expected.h>

namespace umod {

// Load: EEXIST — a module of that name is already loaded (or loading).
struct ModuleExists {
    std::string module;
};

// Unload, lookups: ENOENT — no module of that name.
struct NoSuchModule {
    std::string module;
};

// Load: ENOENT — imports nothing exports; every missing symbol is named. A
// symbol that a loaded module has but does not export gets a hint naming it.
struct UnknownSymbols {
    struct Missing {
        std::string symbol;
        std::string defined_unexported_in;  // empty when no module has it at all
    };
    std::string module;
    std::vector<Missing> symbols;
};

// Get: ENOENT — no export of that name.
struct UnknownExport {
    std::string symbol;
};

// Load or get: EPERM — a GPL-only export wanted by a user whose licence is not
// GPL-compatible.
struct GplOnlySymbol {
    std::string user;
    std::string license;
    std::string symbol;
    std::string provider;
};

// Load: EINVAL — a namespaced export imported without MODULE_IMPORT_NS.
struct NamespaceNotImported {
    std::string module;
    std::string symbol;
    std::string ns;
    std::string provider;
};

// Load: ENOEXEC — the module exports a symbol that another owner already
// exports (owner "(core)" for the host's core table, or the module itself).
struct DuplicateExport {
    std::string module;
    std::string symbol;
    std::string existing_owner;
};

// Load: EBUSY after the bounded wait — a provider is still initialising.
// Get: EBUSY — the provider is loading or unloading.
struct ProviderNotReady {
    std::string user;
    std::string provider;
    std::string symbol;
    std::string state;  // "coming" or "going"
};

// Typed lookup: EINVAL — the export's recorded type is not the one asked for.
struct TypeMismatch {
    std::string symbol;
    std::string provider;
    std::string recorded;
    std::string requested;
};

// Load: the init callback's own error (its code is the Error's code).
struct InitFailed {
    std::string module;
    int code = 0;
};

// Load: a backend (e.g. the shared-object loader) failed to map the module.
struct MapFailed {
    std::string module;
    std::string reason;
};

// One frame of a recorded call stack, symbolized when the report was made
// (while the code it points into was still mapped).
struct StackFrame {
    std::uintptr_t address = 0;  // the return address as recorded
    std::string object;          // base name of the module or object ("net.so"); empty if unknown
    std::string function;        // empty when no symbol covers the address
    std::uintptr_t offset = 0;   // from the function's start, or from the object's base
    std::string file;            // source file, where debug information has it
    unsigned line = 0;
};
using StackTrace = std::vector<StackFrame>;  // innermost frame first

// References of one user to one symbol that were taken at the same call
// stack (recorded at the `stacks` tracking level).
struct StackGroup {
    std::string symbol;
    std::uint64_t count = 0;
    StackTrace stack;  // empty: taken while stacks were not being recorded
};

// One holder of a module: who, and how much of it.
struct HolderCounts {
    std::string user;           // module or holder name; "(anonymous)" for NULL users
    std::string kind;           // "module", "holder" or "anonymous"
    std::uint32_t static_uses = 0;   // 0 or 1: the link-time use
    std::uint64_t dynamic = 0;       // symbol_get + try_module_get references
    struct Symbol {
        std::string name;       // export name, or "(module)" for try_module_get
        std::uint64_t count = 0;
    };
    std::vector<Symbol> symbols;
    // At the `stacks` level: where the references still held were taken,
    // grouped by stack, most references first.
    std::vector<StackGroup> acquired;
};

// Unload: EWOULDBLOCK — still used; every holder is listed with its counts.
struct ModuleInUse {
    std::string module;
    std::vector<HolderCounts> holders;
    bool waited = false;  // the unload waited and timed out
};

// Unload: EBUSY — not LIVE, or has init but no exit (permanent) without force.
struct ModuleBusy {
    std::string module;
    std::string reason;
};

// Put: EINVAL (unmatched, as the kernel's ref_tracker answers a double
// release) — a put with no matching get by that user. Nothing was changed:
// static uses and other references survive.
struct UnmatchedPut {
    std::string user;
    std::string provider;  // empty when the symbol is unknown
    std::string symbol;
    // At the `stacks` level: where the put was made, and the user's last
    // releases of that symbol still in quarantine (newest first).
    StackTrace put_stack;
    struct Release {
        StackTrace acquired;  // empty when the get was not recorded
        StackTrace released;
    };
    std::vector<Release> recent_releases;
};

// put_addr: EFAULT — the address is not an export of any loaded module.
struct NotAnExportAddress {
    const void* address = nullptr;
};

// "net.so: net_open+0x1c (net.c:42)"; "net.so+0x1234" without a symbol;
// "0x7f..." outside any known object.
std::string describe_frame(const StackFrame& frame);

void describe_error(const ModuleExists& e, std::string& out);
void describe_error(const NoSuchModule& e, std::string& out);
void describe_error(const UnknownSymbols& e, std::string& out);
void describe_error(const UnknownExport& e, std::string& out);
void describe_error(const GplOnlySymbol& e, std::string& out);
void describe_error(const NamespaceNotImported& e, std::string& out);
void describe_error(const DuplicateExport& e, std::string& out);
void describe_error(const ProviderNotReady& e, std::string& out);
void describe_error(const TypeMismatch& e, std::string& out);
void describe_error(const InitFailed& e, std::string& out);
void describe_error(const MapFailed& e, std::string& out);
void describe_error(const ModuleInUse& e, std::string& out);
void describe_error(const ModuleBusy& e, std::string& out);
void describe_error(const UnmatchedPut& e, std::string& out);
void describe_error(const NotAnExportAddress& e, std::string& out);

}  // namespace umod
