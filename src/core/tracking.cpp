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
            impl_->for_each_use_locked([](Use& use) {
                if (core::StackLedger* ledger = use.ledger.load(std::memory_order_acquire)) {
                    support::MutexLock record(ledger->mutex);
                    for (auto& slot : ledger->outstanding) slot.clear();
                }
            });
        }
    }
    impl_->update_recording();
}

TrackLevel Registry::tracking() const { return impl_->level.load(std::memory_order_relaxed); }

}  // namespace umod
