#include "loader/checked_module.h"

#include <cerrno>

#include "elf/elf_file.h"

namespace umod::loader {

Expected<elf::UmodModuleInfo> read_module_info(const std::string& path, const elf::ElfFile& elf) {
    if (elf.kind() == elf::FileKind::SharedObject && elf.section(".umod_this_module") == nullptr)
        return Error(ENOEXEC, path + ": not a umod module: no .umod_this_module section; "
                                     "build it with umod_add_module or pkg-config umod-module");
    auto info = elf::read_umod_module(elf);
    if (!info) return info.error().context(path);
    return info;
}

Expected<std::shared_ptr<const CheckedModule>> check_module(const std::string& path,
                                                            std::span<const std::byte> bytes) {
    auto elf = elf::ElfFile::parse(bytes);
    if (!elf) return elf.error().context(path);
    auto info = read_module_info(path, *elf);
    if (!info) return info.error();
    auto image = elf::LoadImage::check(bytes);
    if (!image) return image.error().context(path);
    if (Status addresses = elf::check_umod_addresses(*image, *elf, *info); !addresses)
        return addresses.error().context(path);
    auto checked = std::make_shared<CheckedModule>();
    checked->info = std::move(*info);
    checked->second_names.reserve(checked->info.exports.size());
    for (const elf::UmodExport& e : checked->info.exports) checked->second_names.push_back(elf::second_name(e));
    checked->constructors = image->init_array();
    if (checked->constructors.count != 0) checked->patches.push_back({checked->constructors.size_value_offset, 0});
    return std::shared_ptr<const CheckedModule>(std::move(checked));
}

}  // namespace umod::loader
