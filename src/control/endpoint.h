// Inside the control layer: the endpoint a registry starts (see
// core/attachment.h; libumod installs start_endpoint as the factory).
#pragma once

#include <memory>

#include <umod/umod.h>

#include "core/attachment.h"

namespace umod::control {

// Null when the options and UMOD_CONTROL leave the endpoint off, or when it
// cannot start (the reason is printed on stderr; the host goes on without it).
std::unique_ptr<core::Attachment> start_endpoint(Registry& registry, const RegistryOptions& options);

}  // namespace umod::control
