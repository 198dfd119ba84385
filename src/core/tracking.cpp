// The tracking level: what the registry records about each reference.
#include "core/registry_impl.h"

namespace umod {

void Registry::set_tracking(TrackLevel next) {
    {
        support::MutexLock lock(impl_->mutex);
        TrackLevel previous = impl_->level.exchange(next);
        if (previous == TrackLevel::Stacks && next != TrackLevel::Stacks) {
            // Puts below the stacks level do not keep the records: drop them
            // now rather than report stale ones later. Counts stay.
            auto forget = [](User& user) {
                for (const auto& use : user.owned_uses)
                    if (core::StackLedger* ledger = use->ledger.load(std::memory_order_acquire)) {
                        support::MutexLock record(ledger->mutex);
                        for (auto& slot : ledger->outstanding) slot.clear();
                    }
            };
            for (const auto& m : impl_->modules) forget(*m);
            for (const auto& [name, holder] : impl_->holders) forget(*holder);
            forget(impl_->anonymous);
        }
    }
    impl_->update_recording();
}

TrackLevel Registry::tracking() const { return impl_->level.load(std::memory_order_relaxed); }

}  // namespace umod
