// A faithful model of the 2007 RFC's algorithm, to measure against: one global
// lock (modlist_lock) around every get and put, the symbol found, then a
// linear walk of the provider's list of users (already_uses) to find the
// caller's module_use and change its count.
#pragma once

#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace umod::bench {

struct SeedModule;

struct SeedUse {
    SeedModule* module_which_uses;
    int count;
};

struct SeedModule {
    std::string name;
    std::list<SeedUse> modules_which_use_me;  // list_add: newest first
    int refcount = 1;
};

class SeedRegistry {
public:
    void add_export(const std::string& symbol, SeedModule* owner, void* value);
    // The seed's use_module(a, b, inc=false) at link time.
    void link(SeedModule* user, SeedModule* provider);
    void* symbol_get(const char* symbol, SeedModule* user);
    void symbol_put(const char* symbol, SeedModule* user);

private:
    SeedUse* already_uses(SeedModule* a, SeedModule* b);
    bool use_module(SeedModule* a, SeedModule* b, bool inc);
    int unuse_module(SeedModule* a, SeedModule* b);

    std::mutex modlist_lock_;  // guards everything below and every SeedModule
    std::unordered_map<std::string, std::pair<SeedModule*, void*>> symbols_;
};

}  // namespace umod::bench
