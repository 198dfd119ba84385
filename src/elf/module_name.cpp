#include "elf/module_name.h"

namespace umod::elf {

std::string module_name_of_file(std::string_view path) {
    if (auto slash = path.rfind('/'); slash != std::string_view::npos) path.remove_prefix(slash + 1);
    std::string name(path.substr(0, path.find('.')));
    for (char& c : name)
        if (c == '-') c = '_';
    return name;
}

}  // namespace umod::elf
