// The functions <umod/module.h> calls: every reference a module takes or
// drops, attributed to the module that passes its THIS_MODULE. They reach the
// module's registry through its struct module, which the loader filled in.
// Each passes its own frame, so that a recorded stack starts in the module.
#include <umod/umod.h>

#include "core/objects.h"

// Last: its function-like macros (symbol_get...) would rewrite the
// registry's members of the same names; calls below parenthesise them.
#include <umod/module.h>

namespace {

umod::Registry* registry_of(const struct module* m) {
    return m ? static_cast<umod::Registry*>(m->umod_registry) : nullptr;
}
umod::User* user_of(const struct module* m) { return m ? static_cast<umod::User*>(m->umod_self) : nullptr; }
umod::Module* module_of(const struct module* m) {
    umod::User* user = user_of(m);
    return user && user->kind() == umod::UserKind::Module ? static_cast<umod::Module*>(user) : nullptr;
}

}  // namespace

extern "C" {

void* __umod_symbol_get(const char* symbol, struct module* user) {
    umod::Registry* registry = registry_of(user);
    if (registry == nullptr) return nullptr;
    auto got = (registry->symbol_get)(symbol, user_of(user), __builtin_frame_address(0));
    return got ? *got : nullptr;
}

void* __umod_symbol_get_cached(const char* symbol, unsigned long length, struct umod_symbol_cache* cache,
                               struct module* user) {
    umod::Registry* registry = registry_of(user);
    if (registry == nullptr) return nullptr;
    static_assert(sizeof(umod_symbol_cache) == sizeof(umod::SymbolCache));
    return registry->symbol_get_cached(std::string_view(symbol, length),
                                       *reinterpret_cast<umod::SymbolCache*>(cache), user_of(user),
                                       __builtin_frame_address(0));
}

void __umod_symbol_put_cached(const char* symbol, unsigned long length, struct umod_symbol_cache* cache,
                              struct module* user) {
    if (umod::Registry* registry = registry_of(user))
        (void)registry->symbol_put_cached(std::string_view(symbol, length),
                                          *reinterpret_cast<umod::SymbolCache*>(cache), user_of(user),
                                          __builtin_frame_address(0));
}

void* __umod_symbol_get_typed(const char* symbol, const char* type, struct module* user) {
    umod::Registry* registry = registry_of(user);
    if (registry == nullptr) return nullptr;
    auto got = registry->symbol_get_typed(symbol, type, user_of(user), __builtin_frame_address(0));
    return got ? *got : nullptr;
}

// The registry's request handler (a ModuleTree's, when the host set one)
// loads the provider first.
void* __umod_symbol_request(const char* symbol, struct module* user) {
    umod::Registry* registry = registry_of(user);
    if (registry == nullptr) return nullptr;
    auto got = (registry->symbol_request)(symbol, user_of(user), __builtin_frame_address(0));
    return got ? *got : nullptr;
}

// Failures (unmatched puts) are reported by the registry as they happen.
void __umod_symbol_put(const char* symbol, struct module* user) {
    if (umod::Registry* registry = registry_of(user))
        (void)(registry->symbol_put)(symbol, user_of(user), __builtin_frame_address(0));
}

void __umod_symbol_put_addr(const void* address, struct module* user) {
    if (umod::Registry* registry = registry_of(user))
        (void)(registry->symbol_put_addr)(address, user_of(user), __builtin_frame_address(0));
}

int __umod_try_module_get(struct module* provider, struct module* user) {
    umod::Registry* registry = registry_of(user) ? registry_of(user) : registry_of(provider);
    umod::Module* target = module_of(provider);
    if (registry == nullptr || target == nullptr) return 0;
    return (registry->try_module_get)(target, user_of(user), __builtin_frame_address(0)) ? 1 : 0;
}

void __umod_module_put(struct module* provider, struct module* user) {
    umod::Registry* registry = registry_of(user) ? registry_of(user) : registry_of(provider);
    umod::Module* target = module_of(provider);
    if (registry != nullptr && target != nullptr)
        (void)(registry->module_put)(target, user_of(user), __builtin_frame_address(0));
}

}  // extern "C"
