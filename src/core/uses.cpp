// The module_use graph: (user, provider) pairs made, published, unlinked.
#include "core/registry_impl.h"

namespace umod {

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
