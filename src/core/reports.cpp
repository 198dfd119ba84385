// Reports: holders and leaks, their counts and where they were taken
// (collected under a lock, symbolized after it: see core/symbolize.h).
#include "core/registry_impl.h"

namespace umod {

HolderCounts holder_counts(const Use& use) {
    HolderCounts counts;
    counts.user = use.user->name();
    counts.kind = std::string(kind_name(use.user->kind()));
    counts.static_uses = use.static_use ? 1 : 0;
    counts.dynamic = dynamic_count(use);
    for (std::size_t i = 0; i < use.slots; ++i) {
        std::uint64_t n = use.per_symbol[i].load(std::memory_order_relaxed);
        if (n != 0) counts.symbols.push_back({std::string(slot_name(use, i)), n});
    }
    return counts;
}

// Where `use`'s references still held were taken: for each slot, its newest
// recorded acquisitions (as many as it counts), grouped by stack, and what
// its count has beyond them (taken while stacks were not recorded).
// Nothing below the stacks level.
std::vector<Registry::Impl::RawGroup> Registry::Impl::acquisitions_of(const Use& use) const {
    std::vector<RawGroup> groups;
    core::StackLedger* ledger = use.ledger.load(std::memory_order_acquire);
    if (ledger == nullptr || level.load(std::memory_order_relaxed) != TrackLevel::Stacks) return groups;
    support::MutexLock lock(ledger->mutex);
    for (std::size_t slot = 0; slot < use.slots; ++slot) {
        std::uint64_t count = use.per_symbol[slot].load(std::memory_order_relaxed);
        if (count == 0) continue;
        const auto& recorded = ledger->outstanding[slot];
        std::size_t taken = std::min<std::size_t>(recorded.size(), count);
        std::vector<RawGroup> of_slot;
        for (std::size_t i = recorded.size() - taken; i < recorded.size(); ++i) {
            auto it = std::find_if(of_slot.begin(), of_slot.end(),
                                   [&](const RawGroup& g) { return g.stack == recorded[i]; });
            if (it == of_slot.end())
                of_slot.push_back({std::string(slot_name(use, slot)), 1, recorded[i]});
            else
                ++it->count;
        }
        if (count > taken) of_slot.push_back({std::string(slot_name(use, slot)), count - taken, nullptr});
        groups.insert(groups.end(), of_slot.begin(), of_slot.end());
    }
    std::stable_sort(groups.begin(), groups.end(),
                     [](const RawGroup& a, const RawGroup& b) { return a.count > b.count; });
    return groups;
}

Registry::Impl::CollectedHolders Registry::Impl::holders_locked(const Module& mod) const {
    CollectedHolders out;
    for (const Use* use : mod.users_of_me) {
        if (!is_active(*use)) continue;
        out.counts.push_back(holder_counts(*use));
        out.stacks.push_back(acquisitions_of(*use));
    }
    return out;
}

std::vector<HolderCounts> Registry::Impl::symbolized(CollectedHolders collected) {
    for (std::size_t i = 0; i < collected.counts.size(); ++i)
        attach_acquisitions(collected.counts[i], collected.stacks[i]);
    return std::move(collected.counts);
}

void Registry::Impl::attach_acquisitions(HolderCounts& holder, const std::vector<RawGroup>& raw) {
    for (const RawGroup& group : raw)
        holder.acquired.push_back({group.symbol, group.count, symbolize(group.stack)});
}

std::vector<Leak> Registry::Impl::leaks_of(Module& module, const std::vector<Use*>& held) {
    std::vector<Leak> leaks;
    for (Use* use : held) {
        HolderCounts counts = holder_counts(*use);
        if (counts.dynamic > 0) {
            counts.static_uses = 0;
            // Symbolized now: the leaking module's code is still mapped.
            attach_acquisitions(counts, acquisitions_of(*use));
            leaks.push_back(Leak{module.name(), use->provider->name(), counts});
        }
        zero_counts(*use);
    }
    for (const Leak& leak : leaks) emit_leak(leak);
    return leaks;
}

Expected<std::vector<HolderCounts>> Registry::holders(std::string_view name) const {
    Impl::CollectedHolders collected;
    {
        support::MutexLock lock(impl_->mutex);
        Module* mod = impl_->find_locked(name);
        if (mod == nullptr) return Error::with<NoSuchModule>(ENOENT, NoSuchModule{std::string(name)});
        collected = impl_->holders_locked(*mod);
    }
    return impl_->symbolized(std::move(collected));
}

}  // namespace umod
