// libumod.so is made of the layers' static libraries (linked whole); this
// file gives the target a source of its own and wires the layers that the
// core only knows through a seam: every registry of a libumod host can start
// the control endpoint (RegistryOptions::control, UMOD_CONTROL), and
// Registry::reload reads module files through the loader.
#include <umod/umod.h>

#include "control/endpoint.h"
#include "core/attachment.h"
#include "loader/reload_images.h"

namespace {

[[maybe_unused]] const bool control_installed = [] {
    umod::core::set_attachment_factory(umod::control::start_endpoint);
    umod::loader::install_reload_images();  // Registry::reload reads module files through the loader
    return true;
}();

}  // namespace
