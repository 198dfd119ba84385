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
#pragma once

#include <cerrno>
#include <string_view>
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

}  // namespace umod

#undef UMOD_REF_INLINE
