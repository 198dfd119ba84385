// The load transaction: the kernel's goto ladder in load_module() as an
// object. Each stage that leaves something to undo registers its undo step,
// named; unless the load commits, the steps run in reverse order of
// registration when the transaction ends, each logged as it starts
// ("NAME: undo STEP", support/debug_log.h). The steps run on the loading
// thread with no registry lock held.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace umod::core {

// What a failed load undoes, in the order its stages register them; the
// rollback runs them last first.
enum class UndoStep : std::uint8_t {
    UnreserveNameAndExports,  // reserve: the name and the exports are free again, the module Gone
    UnlinkStaticUses,         // link: the pairs the module is part of as a user are dropped
    Unmap,                    // map: the backend unmaps the code
    ReleaseInitReferences,    // init: Going; what init took is reported as leaks (code still mapped), released
};

std::string_view to_string(UndoStep step);

class LoadTransaction {
public:
    explicit LoadTransaction(std::string module) : module_(std::move(module)) {}
    LoadTransaction(const LoadTransaction&) = delete;
    LoadTransaction& operator=(const LoadTransaction&) = delete;
    ~LoadTransaction() { roll_back(); }

    // Registers the undo of a stage that has succeeded.
    void on_failure(UndoStep step, std::function<void()> undo) { undo_.push_back({step, std::move(undo)}); }
    // The load succeeded: nothing is undone.
    void commit() { undo_.clear(); }

private:
    struct Undo {
        UndoStep step;
        std::function<void()> run;
    };
    void roll_back();

    std::string module_;
    std::vector<Undo> undo_;
};

}  // namespace umod::core
