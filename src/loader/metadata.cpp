// <umod/metadata.h>'s file reader: the loader's own reading of a module
// (loader/checked_module.h: elf::read_umod_module's tables) and the
// signature trailer, named for people.
#include <umod/loader.h>
#include <umod/metadata.h>

#include <cerrno>

#include "elf/elf_file.h"
#include "elf/kernel_module.h"
#include "elf/umod_module.h"
#include "loader/checked_module.h"
#include "loader/parameter_values.h"
#include "support/mapped_file.h"

namespace umod {

namespace {

std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        auto comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

void take_modinfo(ModuleMetadata& m) {
    for (const auto& [key, value] : m.modinfo) {
        if (key == "name") m.name = value;
        else if (key == "license") m.license = value;
        else if (key == "version") m.version = value;
        else if (key == "description") m.description = value;
        else if (key == "author") m.authors.push_back(value);
        else if (key == "alias") m.aliases.push_back(value);
        else if (key == "softdep") m.softdeps.push_back(value);
        else if (key == "import_ns") m.import_ns.push_back(value);
        else if (key == "depends") {
            auto names = split_commas(value);
            m.depends.insert(m.depends.end(), names.begin(), names.end());
        }
    }
}

}  // namespace

Expected<ModuleMetadata> read_module_metadata(const std::string& path) {
    auto file = support::MappedFile::open(path);
    if (!file) return file.error().context(path);
    auto elf = elf::ElfFile::parse(file->bytes());
    if (!elf) return elf.error().context(path);
    auto info = loader::read_module_info(path, *elf);
    if (!info) return info.error();
    auto signature = elf::read_module_signature(file->bytes());
    if (!signature) return signature.error().context(path);

    ModuleMetadata m;
    m.path = path;
    m.name = module_name_from_path(path);
    m.modinfo.assign(info->modinfo.begin(), info->modinfo.end());
    take_modinfo(m);
    for (const elf::UmodParam& p : info->params)
        m.parameters.push_back({p.name, p.type, loader::parameter_description(m.modinfo, p.name)});
    for (const elf::UmodExport& e : info->exports)
        m.exports.push_back({elf::readable_name(e.link_name), e.link_name, elf::second_name(e), e.type, e.ns,
                             e.gpl_only ? ExportLicense::GplOnly : ExportLicense::Any});
    for (const std::string& u : info->undefined)
        if (!u.starts_with("__umod_")) m.imports.push_back({u, elf::readable_name(u)});
    if (*signature) {
        elf::ModuleSignature& s = **signature;
        m.signature = SignatureInfo{std::move(s.id_type), std::move(s.signer), std::move(s.key_id),
                                    std::move(s.hash_algorithm), std::move(s.signature)};
    }
    return m;
}

}  // namespace umod
