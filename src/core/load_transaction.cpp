#include "core/load_transaction.h"

#include "support/debug_log.h"

namespace umod::core {

std::string_view to_string(UndoStep step) {
    switch (step) {
        case UndoStep::UnreserveNameAndExports: return "unreserve name and exports";
        case UndoStep::UnlinkStaticUses: return "unlink static uses";
        case UndoStep::Unmap: return "unmap";
        case UndoStep::ReleaseInitReferences: return "release init's references";
    }
    return "?";
}

void LoadTransaction::roll_back() {
    while (!undo_.empty()) {
        Undo undo = std::move(undo_.back());
        undo_.pop_back();
        if (support::debug_enabled()) support::debug(module_ + ": undo " + std::string(to_string(undo.step)));
        undo.run();
    }
}

}  // namespace umod::core
