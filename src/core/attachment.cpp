#include "core/attachment.h"

#include <atomic>

namespace umod::core {

namespace {
std::atomic<AttachmentFactory> installed{nullptr};
}

void set_attachment_factory(AttachmentFactory factory) { installed.store(factory); }

std::unique_ptr<Attachment> make_attachment(Registry& registry, const RegistryOptions& options) {
    AttachmentFactory factory = installed.load();
    return factory != nullptr ? factory(registry, options) : nullptr;
}

}  // namespace umod::core
