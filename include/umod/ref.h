// umod — RAII references: with these an unmatched put cannot be written.
//
//   auto crc = umod::SymbolRef<int(int)>::acquire(registry, "crc32", registry.holder("ui"));
//   if (!crc) ... crc.error() names what is wrong ...
//   int sum = (*crc)(42);              // the reference lives as long as `*crc`
//   auto another = *crc;               // a copy takes another reference
//
// A SymbolRef or ModuleRef holds exactly one counted reference, attributed to
// its user like symbol_get's: acquired on creation, released on destruction;
// a move transfers it, a copy takes one more. Copies and destruction touch
// only the counter the reference raised (no lookup) unless the registry
// records each reference (the stacks tracking level, or observers of gets and
// puts). A held reference keeps its provider loaded; after a forced unload of
// the provider, releasing it changes nothing anyone reads. A handle may
// outlive its registry: copying or destroying it afterwards is safe (the
// pair it counts on lives until its last handle goes) and changes nothing.
//
// umod::module_shared (below) ties an object made by module code to its
// module the same way: the module stays loaded while the object lives.
#pragma once

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include <umod/type_name.h>
#include <umod/umod.h>

#define UMOD_REF_INLINE inline __attribute__((always_inline))

namespace umod {

namespace detail {

// One held reference with value semantics; the common part of the handles.
class HeldRef {
public:
    HeldRef() noexcept = default;
    explicit HeldRef(const HeldReference& held) noexcept : held_(held) {}
    UMOD_REF_INLINE HeldRef(const HeldRef& other) noexcept : held_(other.held_) { Registry::duplicate(held_); }
    HeldRef(HeldRef&& other) noexcept : held_(std::exchange(other.held_, HeldReference{})) {}
    HeldRef& operator=(HeldRef other) noexcept {
        std::swap(held_, other.held_);
        return *this;
    }
    UMOD_REF_INLINE ~HeldRef() { Registry::release(held_); }

    // Releases the reference now; the handle becomes empty.
    void reset() noexcept { HeldRef().swap(*this); }
    void swap(HeldRef& other) noexcept { std::swap(held_, other.held_); }

protected:
    const HeldReference& held() const noexcept { return held_; }

private:
    HeldReference held_;
};

}  // namespace detail

template <class T>
class SymbolRef : public detail::HeldRef {
public:
    SymbolRef() noexcept = default;

    // A reference to `name` for `user` (nullptr: anonymous), as symbol_get
    // takes it; EINVAL unless the export recorded type T (see
    // Registry::symbol_get_typed), and symbol_get's other errors.
    UMOD_REF_INLINE static Expected<SymbolRef> acquire(Registry& registry, std::string_view name,
                                                       User* user = nullptr) {
        auto held = registry.acquire_typed(name, type_name<T>(), user);
        if (!held) return held.error();
        return SymbolRef(*held);
    }
    // The same for an export that recorded no type (e.g. from a C module):
    // the caller vouches that it is a T.
    UMOD_REF_INLINE static Expected<SymbolRef> acquire_unchecked(Registry& registry, std::string_view name,
                                                                 User* user = nullptr) {
        auto held = registry.acquire(name, user);
        if (!held) return held.error();
        return SymbolRef(*held);
    }

    T* get() const noexcept { return reinterpret_cast<T*>(held().address); }
    explicit operator bool() const noexcept { return held().address != nullptr; }
    T& operator*() const noexcept { return *get(); }
    T* operator->() const noexcept { return get(); }
    // For function types: calls the function.
    template <class... Args>
    decltype(auto) operator()(Args&&... args) const {
        return (*get())(std::forward<Args>(args)...);
    }

    // Inlined even without optimisation, so that a recorded stack starts
    // in the function that copies or drops the handle.
    UMOD_REF_INLINE SymbolRef(const SymbolRef& other) noexcept : HeldRef(other) {}
    SymbolRef(SymbolRef&& other) noexcept = default;
    SymbolRef& operator=(const SymbolRef& other) noexcept = default;
    SymbolRef& operator=(SymbolRef&& other) noexcept = default;
    UMOD_REF_INLINE ~SymbolRef() {}

private:
    explicit SymbolRef(const HeldReference& held) noexcept : HeldRef(held) {}
};

// A reference to a module itself (try_module_get / module_put).
class ModuleRef : public detail::HeldRef {
public:
    ModuleRef() noexcept = default;

    // EBUSY unless `provider` is live.
    UMOD_REF_INLINE static Expected<ModuleRef> acquire(Registry& registry, const ModuleHandle& provider,
                                                       User* user = nullptr) {
        if (!provider) return Error(ENOENT, "no module to reference");
        auto held = registry.acquire_module(provider.get(), user);
        if (!held) return held.error();
        return ModuleRef(*held);
    }

    explicit operator bool() const noexcept { return held().counter != nullptr; }

    UMOD_REF_INLINE ModuleRef(const ModuleRef& other) noexcept : HeldRef(other) {}
    ModuleRef(ModuleRef&& other) noexcept = default;
    ModuleRef& operator=(const ModuleRef& other) noexcept = default;
    ModuleRef& operator=(ModuleRef&& other) noexcept = default;
    UMOD_REF_INLINE ~ModuleRef() {}

private:
    explicit ModuleRef(const HeldReference& held) noexcept : HeldRef(held) {}
};

namespace detail {

// module_shared's deleter: destroys the object (module code), then lets the
// module go.
template <class T, class D>
struct ModuleObjectDeleter {
    D destroy;
    ModuleRef module;            // keeps it loaded: unloads are refused naming the holder
    std::shared_ptr<void> code;  // keeps it mapped past a forced unload or the registry's end
    void operator()(T* object) {
        destroy(object);
        module.reset();
        code.reset();
    }
};

}  // namespace detail

// An object made by module code (typically a factory's result), shared so
// that its module stays loaded while any copy lives: the deleter holds a
// ModuleRef for `user` (nullptr: anonymous) on the module whose mapping
// contains `code` (any address in it, e.g. the factory's), so that unloading
// that module is refused naming `user` until the object is destroyed. It also
// keeps the module's code mapped until then, past a forced unload or the
// registry's teardown (they run exit and report the reference as a leak but
// leave the code in place), so the object may outlive the registry.
// Errors: EINVAL for a null object; ENOENT when no loaded module contains
// `code`; EBUSY unless that module is live. On failure the object is
// destroyed (its module is still loaded then). Call it in the host: the
// shared_ptr's control block is code of the caller.
template <class T, class D>
Expected<std::shared_ptr<T>> module_shared(Registry& registry, const void* code, std::unique_ptr<T, D> object,
                                           User* user = nullptr) {
    if (!object) return Error(EINVAL, "module_shared: no object");
    ModuleHandle module = registry.module_of(code);
    if (!module) {
        char text[96];
        std::snprintf(text, sizeof text, "module_shared: %p is in no loaded module", code);
        return Error(ENOENT, text);
    }
    auto ref = ModuleRef::acquire(registry, module, user);
    if (!ref) return ref.error();
    std::shared_ptr<void> mapped = registry.keep_mapped(module);
    D destroy = object.get_deleter();
    return std::shared_ptr<T>(object.release(),
                              detail::ModuleObjectDeleter<T, D>{std::move(destroy), std::move(*ref), std::move(mapped)});
}

// The same for a polymorphic object, whose module is the one that defines its
// dynamic type (where its type information, hence its virtual functions, live).
template <class T, class D>
Expected<std::shared_ptr<T>> module_shared(Registry& registry, std::unique_ptr<T, D> object, User* user = nullptr) {
    static_assert(std::is_polymorphic_v<T>,
                  "module_shared(registry, object): T has no virtual functions; pass an address in its module");
    const void* type = nullptr;
    if (object) {
        const T& value = *object;  // a plain reference: typeid evaluates nothing else
        type = &typeid(value);
    }
    return module_shared(registry, type, std::move(object), user);
}

}  // namespace umod

#undef UMOD_REF_INLINE
