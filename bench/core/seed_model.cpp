#include "seed_model.h"

#include <cstdlib>

namespace umod::bench {

void SeedRegistry::add_export(const std::string& symbol, SeedModule* owner, void* value) {
    std::lock_guard lock(modlist_lock_);
    symbols_[symbol] = {owner, value};
}

void SeedRegistry::link(SeedModule* user, SeedModule* provider) {
    std::lock_guard lock(modlist_lock_);
    use_module(user, provider, false);
}

SeedUse* SeedRegistry::already_uses(SeedModule* a, SeedModule* b) {
    for (SeedUse& use : b->modules_which_use_me)
        if (use.module_which_uses == a) return &use;
    return nullptr;
}

bool SeedRegistry::use_module(SeedModule* a, SeedModule* b, bool inc) {
    if (b == nullptr) return true;
    if (a == nullptr) {
        ++b->refcount;
        return true;
    }
    if (SeedUse* use = already_uses(a, b)) {
        if (inc) ++use->count;
        return true;
    }
    ++b->refcount;
    b->modules_which_use_me.push_front(SeedUse{a, 1});
    return true;
}

int SeedRegistry::unuse_module(SeedModule* a, SeedModule* b) {
    if (a == nullptr) {
        --b->refcount;
        return 0;
    }
    SeedUse* use = already_uses(a, b);
    if (use == nullptr) std::abort();  // the seed's BUG()
    if (--use->count == 0) {
        b->modules_which_use_me.remove_if([&](const SeedUse& u) { return &u == use; });
        --b->refcount;
        return 0;
    }
    return use->count;
}

void* SeedRegistry::symbol_get(const char* symbol, SeedModule* user) {
    std::lock_guard lock(modlist_lock_);
    auto it = symbols_.find(symbol);
    if (it == symbols_.end()) return nullptr;
    auto [owner, value] = it->second;
    if (owner && !use_module(user, owner, true)) return nullptr;
    return value;
}

void SeedRegistry::symbol_put(const char* symbol, SeedModule* user) {
    std::lock_guard lock(modlist_lock_);
    auto it = symbols_.find(symbol);
    if (it == symbols_.end()) std::abort();
    if (it->second.first) unuse_module(user, it->second.first);
}

}  // namespace umod::bench
