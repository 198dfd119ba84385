// The module_use graph: (user, provider) pairs made, published, unlinked.
#include "core/registry_impl.h"

namespace umod {

void Registry::Impl::republish_locked(User& user, Use* use, bool add, std::vector<std::shared_ptr<void>>& garbage) {
    auto table = std::make_shared<UseTable>();
    if (user.uses_owner) table->entries = user.uses_owner->entries;
    if (add) {
        table->entries.emplace_back(use->provider, use);
    } else {
        std::erase_if(table->entries, [&](const auto& e) { return e.second == use; });
    }
    user.uses.store(table.get(), std::memory_order_release);
    if (user.uses_owner) garbage.push_back(std::const_pointer_cast<UseTable>(user.uses_owner));
    user.uses_owner = std::move(table);
}

Use& Registry::Impl::make_use_locked(User& user, Module& provider, std::vector<std::shared_ptr<void>>& garbage) {
    auto use = std::make_shared<Use>(&user, &provider, provider.exports.size());
    use->recording.store(recording.load(std::memory_order_relaxed), std::memory_order_relaxed);
    user.owned_uses.push_back(use);
    provider.users_of_me.insert(provider.users_of_me.begin(), use.get());
    republish_locked(user, use.get(), true, garbage);
    return *use;
}

void Registry::Impl::drop_use_locked(Use& use, std::vector<std::shared_ptr<void>>& garbage) {
    generation.fetch_add(1, std::memory_order_seq_cst);
    User& user = *use.user;
    republish_locked(user, &use, false, garbage);
    std::erase(use.provider->users_of_me, &use);
    auto it = std::find_if(user.owned_uses.begin(), user.owned_uses.end(),
                           [&](const auto& p) { return p.get() == &use; });
    if (it == user.owned_uses.end()) return;
    if (dynamic_count(use) != 0)
        zombies.push_back({std::move(*it), shared_from_registry(*use.provider),
                           user.kind() == UserKind::Module ? shared_from_registry(static_cast<const Module&>(user))
                                                           : nullptr});
    else
        garbage.push_back(std::move(*it));
    user.owned_uses.erase(it);
}

// Drops every pair `module` is part of as a user. Static uses go silently;
// dynamic references still held are reported as leaks, then released.
std::vector<Leak> Registry::Impl::release_user_uses(Module& module) {
    std::vector<std::shared_ptr<void>> garbage;
    std::vector<Use*> held;
    {
        support::MutexLock lock(mutex);
        held = unlink_user_uses_locked(module, garbage);
    }
    // Wait for in-flight readers (e.g. another thread's put on these pairs).
    if (!garbage.empty()) rcu::synchronize();
    return leaks_of(module, held);
}

// Unlinks the pairs `module` is part of as a user; they stay alive in
// `garbage` for leaks_of(), which must run after an rcu::synchronize().
std::vector<Use*> Registry::Impl::unlink_user_uses_locked(Module& module,
                                                          std::vector<std::shared_ptr<void>>& garbage) {
    std::vector<Use*> held;
    for (const auto& use : module.owned_uses) held.push_back(use.get());
    for (Use* use : held) drop_use_locked(*use, garbage);
    module.depends.clear();
    return held;
}

}  // namespace umod
