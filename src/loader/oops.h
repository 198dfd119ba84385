// The opt-in crash reporter (RegistryOptions::oops, or UMOD_OOPS=1): on
// SIGSEGV, SIGBUS, SIGILL, SIGFPE or SIGABRT it writes one line to stderr,
// async-signal-safely, naming the module whose code was running, the
// function and offset, and the module's state:
//
//     umod: oops: SIGSEGV in ext4.so: grab+0x23 (module ext4, Live)
//
// then lets what would have happened without it happen: the handler that
// was installed before it (the host's) is called, or the default action
// (core dump, exit by the signal). It never replaces a host's handler: it
// saves it and chains to it. The code is found at the signal's instruction,
// else at the first return address inside a module on the frame-pointer
// chain (a crash inside libc called by a module: abort, a bad memcpy),
// read with process_vm_readv so that a broken chain cannot fault again.
// An alternate signal stack is set up for the thread that enables it (when
// that thread has none), so that a stack overflow is reported too.
//
// Everything the handler reads is prepared outside it: each mapped module is
// an immutable record (address range, file and module names, its functions
// sorted by address with their readable names) in a fixed table of atomic
// pointers; only the state changes, atomically. A record is freed only once
// no handler is reading the table.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace umod::loader {

// Whether the reporter is wanted: `option`, or UMOD_OOPS=1 in the environment.
bool oops_wanted(bool option);

// Installs the reporter's handlers once for the process (later calls do
// nothing). Thread-safe.
void enable_oops();

enum class OopsState : int { Coming, Live, Going };

// A module as the handler sees it, from mapping to unmapping.
class OopsRecord {
public:
    struct Function {
        std::uint64_t offset = 0;  // from the module's load base
        std::uint64_t size = 0;
        std::string name;          // readable (demangled)
    };
    // Publishes the module's range [base, base + size) with its functions
    // (any order) in state Coming. `bytes` are the module's file bytes,
    // whose .symtab (or .dynsym) lists the functions. No-op (empty record)
    // when the reporter is not enabled or the table is full.
    OopsRecord(std::uintptr_t base, std::uint64_t size, const std::string& module, const std::string& file,
               std::span<const std::byte> bytes);
    OopsRecord() = default;
    OopsRecord(const OopsRecord&) = delete;
    OopsRecord& operator=(const OopsRecord&) = delete;
    ~OopsRecord();  // unpublishes it (waits for a running handler to finish reading)

    void set_state(OopsState state);

    struct Entry;  // what the handler reads (oops.cpp)

private:
    Entry* entry_ = nullptr;
};

}  // namespace umod::loader
