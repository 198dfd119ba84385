// References: symbol_get/put and try_module_get/module_put, their hot paths
// (lock-free) and slow paths, and the RAII handles' recorded paths.
#include "core/registry_impl.h"
#include "elf/umod_module.h"

namespace umod {

thread_local Registry::Impl::LastGet Registry::Impl::last_get __attribute__((tls_model("initial-exec")));

// The hot path: an untyped get on an existing pair, nobody observing, no
// stacks (`recording` off). False when it raised nothing: the caller takes
// get_reported(). Inlined into each entry point, whose frame is the caller's.
inline __attribute__((always_inline)) bool Registry::Impl::get_hot(std::string_view name, User* who,
                                                                   Acquired& got) {
    if (recording.load(std::memory_order_relaxed)) return false;
    TrackLevel track = level.load(std::memory_order_relaxed);
    rcu::ReadGuard read;
    unsigned long seen = generation.load(std::memory_order_seq_cst);  // before the lookup: see LastGet
    User& user = resolve_user(who);
    auto [entry, use] = lookup_pair(name, user);
    if (entry != nullptr && entry->owner == nullptr) {  // the host's own exports are not counted
        got = {const_cast<void*>(entry->address), nullptr, 0, 0};
        return true;
    }
    if (use == nullptr) return false;
    std::size_t slot = slot_for_get(*use, entry->ordinal, track);
    if (!raise_counter(*use, slot)) return false;
    got = {const_cast<void*>(entry->address), use, slot, entry->ordinal};
    last_get = {id, seen, &user, entry->name.data(), entry->name.size(), use, entry->ordinal};
    return true;
}

Expected<void*> Registry::Impl::get(std::string_view name, std::string_view type, bool typed, User* who,
                                    const void* frame, Acquired& got) {
    if (!typed && get_hot(name, who, got)) return got.address;
    return get_reported(name, type, typed, who, level.load(std::memory_order_relaxed), frame, got);
}

Expected<void*> Registry::Impl::get_reported(std::string_view name, std::string_view type, bool typed,
                                             User* who, TrackLevel track, const void* frame, Acquired& got) {
    User& user = resolve_user(who);
    std::string provider_name;  // filled only when someone observes gets
    {
        rcu::ReadGuard read;
        auto [entry, use] = lookup_pair(name, user);
        if (entry == nullptr || typed) goto slow;
        Module* provider = entry->owner;
        if (provider == nullptr) return const_cast<void*>(entry->address);
        if (use == nullptr) goto slow;
        std::size_t slot = slot_for_get(*use, entry->ordinal, track);
        if (!raise(*use, slot, capture_if_stacks(track, frame))) goto slow;
        got = {const_cast<void*>(entry->address), use, slot, entry->ordinal};
        if (!get_put_observed()) return got.address;
        provider_name = provider->name();
    }
    emit(Event{.kind = EventKind::Get, .user = user.name(), .provider = provider_name, .symbol = name});
    return got.address;
slow:
    return get_slow(name, type, typed, user, track, frame, got);
}

Status Registry::Impl::check_get_locked(const ExportEntry* entry, std::string_view name,
                                        std::string_view type, bool typed, User& user) {
    if (entry == nullptr || (entry->owner != nullptr &&
                             entry->owner->state.load() == ModuleState::Unformed))
        return Error::with<UnknownExport>(ENOENT, UnknownExport{std::string(name)});
    return check_binding(*entry, user, typed ? BindPurpose::TypedGet : BindPurpose::Get, type);
}

Expected<void*> Registry::Impl::get_slow(std::string_view name, std::string_view type, bool typed,
                                         User& user, TrackLevel track, const void* frame, Acquired& got) {
    std::vector<std::shared_ptr<void>> garbage;
    Module* provider = nullptr;
    std::string symbol;
    const core::StackRecord* stack = capture_if_stacks(track, frame);
    {
        support::MutexLock lock(mutex);
        const ExportEntry* entry = index.find(name);
        if (Status ok = check_get_locked(entry, name, type, typed, user); !ok) return ok.error();
        got.address = const_cast<void*>(entry->address);
        provider = entry->owner;
        if (provider == nullptr) return got.address;  // the host's own exports are not counted
        Use* use = &use_of_locked(user, *provider, garbage);
        got.use = use;
        got.slot = slot_for_get(*use, entry->ordinal, track);
        got.symbol_slot = entry->ordinal;
        (void)raise(*use, got.slot, stack);  // Live: checked under the mutex
        symbol = entry->name;
    }
    collect(garbage);
    emit(Event{.kind = EventKind::Get, .user = user.name(), .provider = provider->name(),
               .symbol = symbol});
    return got.address;
}

Expected<Registry::Impl::Acquired> Registry::Impl::acquire_module(User& user, Module& provider,
                                                                const void* frame) {
    const core::StackRecord* stack = capture_if_stacks(level.load(std::memory_order_relaxed), frame);
    std::size_t slot = provider.exports.size();  // the "(module)" slot
    {
        rcu::ReadGuard read;
        Use* use = published_use(user, &provider);
        if (use != nullptr && raise(*use, slot, stack)) return Acquired{nullptr, use, slot, slot};
    }
    std::vector<std::shared_ptr<void>> garbage;
    Acquired got;
    {
        support::MutexLock lock(mutex);
        ModuleState state = provider.state.load();
        if (state != ModuleState::Live)
            return Error::with<ProviderNotReady>(
                EBUSY, ProviderNotReady{user.name(), provider.name(), std::string(kModuleSlot),
                                        std::string(to_string(state))});
        Use& use = use_of_locked(user, provider, garbage);
        (void)raise(use, slot, stack);
        got = {nullptr, &use, slot, slot};
    }
    collect(garbage);
    return got;
}

Status Registry::Impl::unmatched(User& user, std::string_view provider, std::string_view symbol,
                                 const PutEvidence& evidence) {
    UnmatchedPut report{user.name(), std::string(provider), std::string(symbol), {}, {}};
    report.put_stack = symbolize(evidence.put);
    for (const auto& release : evidence.releases)
        report.recent_releases.push_back({symbolize(release.acquired), symbolize(release.released)});
    Error error = Error::with<UnmatchedPut>(EINVAL, std::move(report));
    emit(Event{.kind = EventKind::UnmatchedPut, .user = user.name(), .provider = provider,
               .symbol = symbol, .error = &error, .text = error.message()});
    if (options.unmatched_put == UnmatchedPutPolicy::Abort) {
        std::fprintf(stderr, "umod: %s\n", error.message().c_str());
        std::abort();
    }
    return error;
}

// The hot path of a put by name: matched, nobody observing, no stacks. A put
// of this thread's last get (same registry, user, name and generation) lowers
// that pair without probing the index again. False when it lowered nothing:
// the caller takes release().
inline __attribute__((always_inline)) bool Registry::Impl::put_hot(User& user, std::string_view symbol) {
    if (recording.load(std::memory_order_relaxed)) return false;
    TrackLevel track = level.load(std::memory_order_relaxed);
    rcu::ReadGuard read;
    const LastGet& last = last_get;
    if (last.registry == id && last.user == &user &&
        last.generation == generation.load(std::memory_order_seq_cst) &&
        core::ExportIndex::same_key(std::string_view(last.name, last.name_size), symbol))
        return lower(*last.use, last.ordinal, track, nullptr);
    const ExportEntry* entry = index.find(symbol);
    if (entry == nullptr) return false;
    if (entry->owner == nullptr) return true;  // the host's exports are not counted
    Use* use = published_use(user, entry->owner);
    return use != nullptr && lower(*use, entry->ordinal, track, nullptr);
}

// A matched put, nobody observing, no stacks, else release_reported().
Status Registry::Impl::release(User& user, const ReleaseTarget& target, const void* frame) {
    if (target.provider == nullptr && put_hot(user, target.symbol)) return {};
    TrackLevel track = level.load(std::memory_order_relaxed);
    if (target.provider != nullptr && !recording.load(std::memory_order_relaxed)) {
        rcu::ReadGuard read;
        Use* use = published_use(user, target.provider);
        if (use != nullptr && target.slot < use->slots && lower(*use, target.slot, track, nullptr)) return {};
    }
    return release_reported(user, target, track, frame);
}

Status Registry::Impl::release_reported(User& user, const ReleaseTarget& target, TrackLevel track,
                                        const void* frame) {
    const core::StackRecord* stack = capture_if_stacks(track, frame);
    std::string provider_name;  // copied out of the read section when needed
    std::string symbol;         // the same; stays empty on the fast path
    bool matched = false;
    PutEvidence evidence{.put = stack, .releases = {}};
    {
        rcu::ReadGuard read;
        Module* provider = target.provider;
        std::size_t slot = target.slot;
        if (!resolve(target, provider, slot)) return {};  // the host's exports are not counted
        if (provider == nullptr) {
            symbol = target.symbol;
        } else {
            Use* use = published_use(user, provider);
            matched = use != nullptr && slot < use->slots && lower(*use, slot, track, stack);
            if (matched && !get_put_observed()) return {};
            provider_name = provider->name();
            symbol = slot < provider->exports.size() ? provider->exports[slot].name : std::string(kModuleSlot);
            if (!matched && use != nullptr && stack != nullptr) {
                if (core::StackLedger* ledger = use->ledger.load(std::memory_order_acquire)) {
                    support::MutexLock lock(ledger->mutex);
                    for (std::size_t i = 0; i < ledger->filled; ++i) {
                        const auto& r = ledger->quarantine[(ledger->next + ledger->quarantine.size() - 1 - i) %
                                                           ledger->quarantine.size()];
                        if (r.slot == slot || (r.slot == use->untracked_slot() && slot != use->module_slot()))
                            evidence.releases.push_back(r);
                    }
                }
            }
        }
    }
    if (!matched) return unmatched(user, provider_name, symbol, evidence);
    emit(Event{.kind = EventKind::Put, .user = user.name(), .provider = provider_name, .symbol = symbol});
    return {};
}

Expected<void*> Registry::symbol_get(std::string_view name, User* user, const void* caller_frame) {
    Impl::Acquired got;
    if (impl_->get_hot(name, user, got)) return got.address;
    return impl_->get_reported(name, {}, false, user, impl_->level.load(std::memory_order_relaxed),
                               UMOD_CALLER_FRAME(caller_frame), got);
}

Expected<void*> Registry::symbol_request(std::string_view name, User* user, const void* caller_frame) {
    const void* frame = UMOD_CALLER_FRAME(caller_frame);
    Impl::Acquired got;
    auto first = impl_->get(name, {}, false, user, frame, got);
    if (first || first.error().code() != ENOENT || exports(name)) return first;
    RequestHandler handler;
    {
        support::MutexLock lock(impl_->request_mutex);
        handler = impl_->request_handler;
    }
    if (!handler) return first;
    if (Status loaded = handler(name); !loaded) {
        std::string message = first.error().message() + "; requesting symbol:" + std::string(name) + " failed: " +
                              loaded.error().message();
        return Error(ENOENT, std::move(message));
    }
    return impl_->get(name, {}, false, user, frame, got);
}

void Registry::set_request_handler(RequestHandler handler) {
    support::MutexLock lock(impl_->request_mutex);
    impl_->request_handler = std::move(handler);
}

namespace {

// A typed lookup by the bare name of an overloaded C++ function finds the
// overload of that type, registered under elf::overload_key.
std::optional<std::string> overload_of(const Registry& registry, std::string_view name, std::string_view type) {
    if (registry.exports(name)) return std::nullopt;
    std::string key = elf::overload_key(name, type);
    if (!registry.exports(key)) return std::nullopt;
    return key;
}

}  // namespace

Expected<void*> Registry::symbol_get_typed(std::string_view name, std::string_view type, User* user,
                                           const void* caller_frame) {
    Impl::Acquired got;
    auto overload = overload_of(*this, name, type);
    return impl_->get(overload ? *overload : name, type, true, user, UMOD_CALLER_FRAME(caller_frame), got);
}

Status Registry::symbol_put(std::string_view name, User* user, const void* caller_frame) {
    User& who = impl_->resolve_user(user);
    if (impl_->put_hot(who, name)) return {};
    return impl_->release_reported(who, {.symbol = name}, impl_->level.load(std::memory_order_relaxed),
                                   UMOD_CALLER_FRAME(caller_frame));
}

Status Registry::symbol_put_addr(const void* address, User* user, const void* caller_frame) {
    const void* frame = UMOD_CALLER_FRAME(caller_frame);
    User& who = impl_->resolve_user(user);
    Module* provider = nullptr;
    std::string symbol;
    {
        support::MutexLock lock(impl_->mutex);
        for (const auto& m : impl_->modules) {
            for (const auto& e : m->exports) {
                if (e.address == address) {
                    provider = m.get();
                    symbol = e.name;
                    break;
                }
            }
            if (provider) break;
        }
        if (provider == nullptr) {
            for (const auto& e : impl_->core_exports)
                if (e->address == address) return {};
        }
    }
    if (provider == nullptr)
        return Error::with<NotAnExportAddress>(EFAULT, NotAnExportAddress{address});
    // Resolved under the lock; the pair (if any) keeps the provider alive, and
    // an unload racing with this put makes it unmatched, as it should.
    return impl_->release(who, {.symbol = symbol}, frame);
}

Status Registry::try_module_get(Module* provider, User* user, const void* caller_frame) {
    auto got = impl_->acquire_module(impl_->resolve_user(user), *provider, UMOD_CALLER_FRAME(caller_frame));
    if (!got) return got.error();
    return {};
}

Status Registry::module_put(Module* provider, User* user, const void* caller_frame) {
    return impl_->release(impl_->resolve_user(user),
                          {.symbol = kModuleSlot, .provider = provider, .slot = provider->exports.size()},
                          UMOD_CALLER_FRAME(caller_frame));
}

Expected<HeldReference> Registry::acquire(std::string_view name, User* user, const void* caller_frame) {
    Impl::Acquired acquired;
    auto got = impl_->get(name, {}, false, user, UMOD_CALLER_FRAME(caller_frame), acquired);
    if (!got) return got.error();
    return impl_->held(acquired, *this);
}

Expected<HeldReference> Registry::acquire_typed(std::string_view name, std::string_view type, User* user,
                                                const void* caller_frame) {
    Impl::Acquired acquired;
    auto overload = overload_of(*this, name, type);
    auto got = impl_->get(overload ? *overload : name, type, true, user, UMOD_CALLER_FRAME(caller_frame), acquired);
    if (!got) return got.error();
    return impl_->held(acquired, *this);
}

Expected<HeldReference> Registry::acquire_module(Module* provider, User* user, const void* caller_frame) {
    auto got = impl_->acquire_module(impl_->resolve_user(user), *provider, UMOD_CALLER_FRAME(caller_frame));
    if (!got) return got.error();
    return impl_->held(*got, *this);
}

// A held reference keeps its provider from unloading (short of force), so its
// pair is alive and needs no Live check; after a forced unload the pair is a
// zombie whose counts nobody reads.
void Registry::duplicate_recorded(const HeldReference& held) {
    Use& use = *static_cast<Use*>(held.pair);
    if (use.orphaned.load(std::memory_order_acquire)) return core::orphan_duplicate(use);  // the registry is gone
    Impl& impl = *held.registry->impl_;
    const core::StackRecord* stack =
        impl.capture_if_stacks(impl.level.load(std::memory_order_relaxed), __builtin_frame_address(0));
    if (stack != nullptr) {
        core::StackLedger& ledger = impl.ledger_of(use);
        support::MutexLock record(ledger.mutex);
        held.counter->fetch_add(1, std::memory_order_relaxed);
        ledger.outstanding[held.slot].push_back(stack);
    } else {
        held.counter->fetch_add(1, std::memory_order_relaxed);
    }
    if (impl.get_put_observed())
        impl.emit(Event{.kind = EventKind::Get, .user = use.user->name(), .provider = use.provider->name(),
                        .symbol = slot_name(use, held.symbol_slot)});
}

void Registry::release_recorded(const HeldReference& held) {
    Use& use = *static_cast<Use*>(held.pair);
    if (use.orphaned.load(std::memory_order_acquire)) return core::orphan_release(use);  // the registry is gone
    Impl& impl = *held.registry->impl_;
    const core::StackRecord* stack =
        impl.capture_if_stacks(impl.level.load(std::memory_order_relaxed), __builtin_frame_address(0));
    // Neither counter is lowered below zero (after a forced unload both may be).
    auto [first, second] = put_order(use, held.slot, held.symbol_slot);
    bool released = impl.lower_either(use, first, second, stack);
    if (released && impl.get_put_observed())
        impl.emit(Event{.kind = EventKind::Put, .user = use.user->name(), .provider = use.provider->name(),
                        .symbol = slot_name(use, held.symbol_slot)});
}

}  // namespace umod
