#include "loader/checked_module.h"

#include <elf.h>

#include <cerrno>
#include <cstring>

#include "elf/elf_file.h"

namespace umod::loader {

namespace {

// An STB_GNU_UNIQUE definition (GCC's choice for the static variables of
// inline functions and templates, libstdc++'s own among them) makes the
// dynamic linker bind every object to the first copy it meets, and marks the
// object that supplied it NODELETE: a module would stay mapped after unload
// whenever no object loaded before it had entered the same symbol, which
// depends on how the host and libumod were built. In the mapped copy the
// symbol becomes STB_GLOBAL with STV_PROTECTED visibility: the module binds
// to its own copy, as a Clang-built module does (Clang makes these weak
// symbols, and -Bsymbolic binds them to the module), and unloading it unmaps it.
// Another object bound to that copy is refused by the binding check. The
// patch covers the first 8 bytes of the Elf64_Sym: st_name, st_info, st_other
// and st_shndx.
Patch own_copy(std::span<const std::byte> bytes, std::uint64_t symbol_offset) {
    std::uint64_t value = 0;
    std::memcpy(&value, bytes.data() + symbol_offset, sizeof value);
    auto* field = reinterpret_cast<unsigned char*>(&value);
    field[4] = static_cast<unsigned char>(ELF64_ST_INFO(STB_GLOBAL, ELF64_ST_TYPE(field[4])));
    field[5] = static_cast<unsigned char>((field[5] & ~0x3) | STV_PROTECTED);
    return {symbol_offset, value};
}

}  // namespace

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
    checked->destructors = image->fini_array();
    checked->destructors_size_read_only =
        checked->destructors.count != 0 && !image->writable_after_load(checked->destructors.size_value_address, 8);
    for (std::uint64_t offset : image->unique_definitions()) checked->patches.push_back(own_copy(bytes, offset));
    return std::shared_ptr<const CheckedModule>(std::move(checked));
}

}  // namespace umod::loader
