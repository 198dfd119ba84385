// Loading: the kernel's load stages, each a named function, under a
// transaction whose named undo steps run in reverse on failure.
#include "core/registry_impl.h"

namespace umod {

namespace {

// A module as its image describes it, not yet known to anyone.
std::shared_ptr<Module> form_module(ModuleImage& image) {
    auto module = std::make_shared<Module>(image.name);
    Module& mod = *module;
    for (const auto& [key, value] : image.modinfo) {
        if (key == "license" && mod.license.empty()) mod.license = value;
        if (key == "import_ns") mod.import_ns.push_back(value);
    }
    mod.gpl_compatible = license_is_gpl_compatible(mod.license);
    mod.modinfo = std::move(image.modinfo);
    mod.init = std::move(image.init);
    mod.exit = std::move(image.exit);
    mod.size = image.size;
    mod.backend = std::move(image.backend);
    mod.taints = std::move(image.taints);
    mod.exports.reserve(image.exports.size());
    for (auto& spec : image.exports) {
        mod.exports.push_back(ExportEntry{std::move(spec.name), std::move(spec.alias), spec.address,
                                          &mod, spec.license, std::move(spec.ns),
                                          std::move(spec.type),
                                          static_cast<std::uint32_t>(mod.exports.size())});
    }
    return module;
}

}  // namespace

Status Registry::Impl::publish_exports_locked(std::span<ExportEntry> entries, std::string_view publisher) {
    std::vector<std::string_view> published;
    for (ExportEntry& e : entries) {
        for (std::string_view key : e.keys()) {
            if (key.empty()) continue;
            if (index.insert(key, &e)) {
                published.push_back(key);
                continue;
            }
            const ExportEntry* other = index.find(key);
            std::string owner = other && other->owner ? other->owner->name() : std::string(kCoreOwner);
            for (std::string_view done : published) index.erase(done);
            return Error::with<DuplicateExport>(ENOEXEC, DuplicateExport{std::string(publisher), std::string(key), owner});
        }
    }
    return {};
}

// Stage 1 (locked): reserve the name and the exports. The module is
// Unformed: lookups and links do not see its exports, but nobody else can
// take its name or their names while it waits for providers.
Status Registry::Impl::reserve(const std::shared_ptr<Module>& module, LoadTransaction& transaction) {
    Module& mod = *module;
    {
        support::MutexLock lock(mutex);
        if (find_locked(mod.name())) return Error::with<ModuleExists>(EEXIST, ModuleExists{mod.name()});
        if (Status published = publish_exports_locked(mod.exports, mod.name()); !published) return published;
        modules.insert(modules.begin(), module);
    }
    transaction.on_failure(UndoStep::UnreserveNameAndExports, [this, &mod] {
        std::vector<std::shared_ptr<void>> garbage;
        std::shared_ptr<Module> keep;
        {
            support::MutexLock relock(mutex);
            unpublish_exports_locked(mod, garbage);
            keep = remove_module_locked(mod);  // freed once the lock is released
            mod.state.store(ModuleState::Gone);
        }
        state_changed.notify_all();
        collect(garbage);
    });
    return {};
}

// Stage 2 (locked, may wait): the export each import binds to, once every
// provider is Live, waiting (bounded) for those still coming. Every import
// is checked by check_binding, as a get is.
Expected<std::vector<const ExportEntry*>> Registry::Impl::resolve_imports_locked(
    Module& mod, const std::vector<std::string>& imports, support::MutexLock& lock) {
    auto deadline = std::chrono::steady_clock::now() + options.provider_wait;
    BindPurpose purpose = BindPurpose::Link;
    for (;;) {
        std::vector<const ExportEntry*> targets;
        UnknownSymbols missing;
        missing.module = mod.name();
        const ExportEntry* coming = nullptr;
        for (const auto& name : imports) {
            const ExportEntry* entry = index.find(name);
            if (entry == nullptr || (entry->owner && entry->owner->state.load() == ModuleState::Unformed)) {
                missing.symbols.push_back({name, {}});
                continue;
            }
            if (Status ok = check_binding(*entry, mod, purpose); !ok) return ok.error();
            if (entry->owner != nullptr && entry->owner->state.load() == ModuleState::Coming && coming == nullptr)
                coming = entry;
            targets.push_back(entry);
        }
        if (!missing.symbols.empty()) return Error::with<UnknownSymbols>(ENOENT, std::move(missing));
        if (coming == nullptr) return targets;
        if (state_changed.wait_until(lock, deadline) == std::cv_status::timeout &&
            std::chrono::steady_clock::now() >= deadline)
            purpose = BindPurpose::LinkNoWait;  // one last look: a provider still coming is EBUSY
        // Something changed: entries may be gone; resolve again.
    }
}

// Stage 3 (locked): one static use per distinct provider, and what each
// import resolved to for the backend.
void Registry::Impl::link_static_uses_locked(Module& mod, const std::vector<const ExportEntry*>& targets,
                                             std::vector<ResolvedImport>& resolved) {
    std::vector<std::shared_ptr<void>> garbage;  // fresh tables: nothing to retire yet that readers hold
    for (const ExportEntry* entry : targets) {
        resolved.push_back({entry->name, entry->address, owner_name(*entry)});
        Module* provider = entry->owner;
        if (provider == nullptr) continue;
        Use& use = use_of_locked(mod, *provider, garbage);
        if (use.static_use) continue;  // one static use per provider
        use.static_use = true;
        mod.depends.push_back(provider);
    }
    // The module is not visible as a user to anyone yet: its old tables
    // were never read.
    garbage.clear();
}

// Stage 4 (unlocked): map the code. Nothing of the module has run yet.
Status Registry::Impl::map(Module& mod, const std::vector<ResolvedImport>& resolved, LoadTransaction& transaction) {
    if (!mod.backend) return {};
    auto mapped = mod.backend->map(resolved, &mod);
    if (!mapped) return mapped.error();
    if (mapped->export_addresses.size() != mod.exports.size())
        return Error::with<MapFailed>(
            ENOEXEC, MapFailed{mod.name(), "backend returned the wrong number of export addresses"});
    transaction.on_failure(UndoStep::Unmap, [&mod] { (void)mod.backend->unmap(); });
    {
        support::MutexLock lock(mutex);
        for (std::size_t i = 0; i < mod.exports.size(); ++i) mod.exports[i].address = mapped->export_addresses[i];
        mod.init = std::move(mapped->init);
        mod.exit = std::move(mapped->exit);
        mod.size = mapped->size;
        mod.base = mapped->base;
    }
    for (const auto& warning : mapped->warnings)
        emit(Event{.kind = EventKind::Warning, .module = mod.name(), .text = warning});
    return {};
}

// Stage 5: exports visible (gets still refused), init runs unlocked. A
// negative return fails the load; a positive one is a warning, as in the
// kernel ("suspiciously returned").
Status Registry::Impl::init(Module& mod, LoadTransaction& transaction, const BeforeInit& before_init) {
    set_state(mod, ModuleState::Coming);
    // Whatever init takes and does not give back is reported as leaks,
    // while its code is still mapped (this undo runs before "unmap").
    transaction.on_failure(UndoStep::ReleaseInitReferences, [this, &mod] {
        set_state(mod, ModuleState::Going);
        release_user_uses(mod);
    });
    if (before_init)
        if (Status ready = before_init(mod); !ready) return ready;
    if (!mod.init) return {};
    int rc = mod.init();
    if (rc < 0) return Error::with<InitFailed>(-rc, InitFailed{mod.name(), -rc});
    if (rc > 0) {
        std::string text = core::describe_suspicious_init(mod.name(), rc);
        emit(Event{.kind = EventKind::Warning, .module = mod.name(), .text = text});
    }
    return {};
}

void Registry::Impl::set_state(Module& mod, ModuleState state) {
    {
        support::MutexLock lock(mutex);
        mod.state.store(state, std::memory_order_release);
    }
    state_changed.notify_all();
}

Expected<ModuleHandle> Registry::Impl::load(ModuleImage image, const BeforeInit& before_init) {
    std::shared_ptr<Module> module = form_module(image);
    Module& mod = *module;
    LoadTransaction transaction(mod.name());
    if (Status reserved = reserve(module, transaction); !reserved) return reserved.error();
    for (const std::string& warning : image.warnings)
        emit(Event{.kind = EventKind::Warning, .module = mod.name(), .text = warning});

    std::vector<ResolvedImport> resolved;
    {
        support::MutexLock lock(mutex);
        auto targets = resolve_imports_locked(mod, image.imports, lock);
        if (!targets) return targets.error();
        link_static_uses_locked(mod, *targets, resolved);
    }
    // Drops every pair the module is part of as a user.
    transaction.on_failure(UndoStep::UnlinkStaticUses, [this, &mod] { release_user_uses(mod); });

    if (Status mapped = map(mod, resolved, transaction); !mapped) return mapped.error();
    taint_for_license(mod);
    if (Status initialised = init(mod, transaction, before_init); !initialised) return initialised.error();

    // Stage 6: live.
    set_state(mod, ModuleState::Live);
    transaction.commit();
    std::string text = "loaded " + mod.name();
    emit(Event{.kind = EventKind::Loaded, .module = mod.name(), .text = text});
    return ModuleHandle(module);
}

}  // namespace umod
