// The running kernel's modules, as libkmod 30 sees and changes them:
// /sys/module/NAME (initstate, refcnt, coresize, holders), /proc/modules, and
// the three system calls — finit_module (init_module with the image in memory
// when the kernel has none, or when the file is compressed) and
// delete_module. Mechanism only: nothing is printed; each failure is an Error
// whose code is the errno the kernel or the file system gave.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <umod/expected.h>

namespace umod::index::kernel {

// /sys/module/NAME/initstate ("live", "coming", "going"); a directory with
// no initstate is Coming, as libkmod reads it. ENOENT (or open's errno) when
// the kernel does not know the module; EINVAL for any other text.
enum class InitState { Live, Coming, Going };
Expected<InitState> initstate(std::string_view name);
// /sys/module/NAME/refcnt: ENOENT when not loaded or when the kernel cannot unload.
Expected<long> refcnt(std::string_view name);
// /sys/module/NAME/coresize, else the size column of /proc/modules.
Expected<long> size(std::string_view name);
// The entries of /sys/module/NAME/holders, in directory order.
Expected<std::vector<std::string>> holders(std::string_view name);
// The module names of /proc/modules, in its order (newest first).
Expected<std::vector<std::string>> loaded();

// kmod's KMOD_INSERT_FORCE_* (modprobe --force-vermagic/--force-modversion, -f).
enum InsertFlags : unsigned { kForceVermagic = 1, kForceModversion = 2 };

// kmod_module_insert_module: an uncompressed file goes to finit_module (flags
// MODULE_INIT_IGNORE_VERMAGIC / _MODVERSIONS); when the kernel has no
// finit_module (ENOSYS), or the file is compressed, its (decompressed) bytes
// go to init_module — with the __versions section unmarked SHF_ALLOC and the
// vermagic emptied first when forced, as libkmod strips them. The kernel's
// errno on failure (EEXIST, ENOENT for an unknown symbol, ENOEXEC...), or the
// file's (open, read, decompress).
Status insert(const std::string& path, const std::string& options, unsigned flags);

// delete_module(NAME, O_NONBLOCK, plus O_TRUNC when forced): the kernel's errno.
enum class RemoveForce { No, Yes };
Status remove(std::string_view name, RemoveForce force);

}  // namespace umod::index::kernel
