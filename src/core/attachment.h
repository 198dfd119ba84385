// Something a higher layer attaches to every registry for its lifetime (the
// control endpoint, src/control): made when the registry is constructed,
// destroyed first thing when it is destroyed, while every module is still
// loaded. The core knows only this seam; libumod installs the factory.
#pragma once

#include <memory>

#include <umod/umod.h>

namespace umod::core {

class Attachment {
public:
    virtual ~Attachment() = default;
};

// Returns null when it has nothing to attach. Called at the end of the
// registry's constructor, on the constructing thread, with no lock held.
using AttachmentFactory = std::unique_ptr<Attachment> (*)(Registry& registry, const RegistryOptions& options);

// Installed once, at start-up (before any registry exists).
void set_attachment_factory(AttachmentFactory factory);
std::unique_ptr<Attachment> make_attachment(Registry& registry, const RegistryOptions& options);

}  // namespace umod::core
