// The one module-name rule, for every format and every caller (the loader,
// depmod, modprobe, rmmod): kmod's modname_normalize. A module's name is its
// file's base name up to the first '.', with each '-' as '_':
// "/lib/x/snd-hda-intel.ko.xz" and "snd-hda-intel.so" are "snd_hda_intel".
// (A name given to rmmod or modprobe goes through it too: "snd-hda-intel".)
#pragma once

#include <string>
#include <string_view>

namespace umod::elf {

std::string module_name_of_file(std::string_view path);

}  // namespace umod::elf
