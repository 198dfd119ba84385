// load_module_file: the shared-object loader's pipeline, one stage after the
// other. Each stage either succeeds or returns its error with nothing left
// behind (the stages before the registry's load own nothing the process
// sees; the registry's load rolls itself back).
//
//   read      the user's file, once, into memory (support::MappedFile::read)
//   check     those bytes, as the dynamic linker and umod will read them
//             (loader/checked_module.h); a reload of the same bytes reuses
//             the checks of its kept copy
//   copy      the checked bytes into a private file, the one dlopen maps
//             (loader/private_copy.h)
//   name, parameters, imports and exports: the ModuleImage the registry links
//   load      Registry::load: link, map (loader/so_backend.h), init
#include <umod/loader.h>

#include <algorithm>
#include <set>
#include <span>

#include <fmt/format.h>

#include "elf/module_name.h"
#include "loader/checked_module.h"
#include "loader/loaded_modules.h"
#include "loader/parameters.h"
#include "loader/prepared_module.h"
#include "loader/private_copy.h"
#include "loader/so_backend.h"
#include "loader/system_symbols.h"
#include "support/mapped_file.h"
#include "sign/policy.h"

namespace umod {

void describe_error(const CodeThrew& e, std::string& out) {
    out += fmt::format("{}: {}; the load was rolled back", e.module, e.what);
}

void describe_error(const BadParameter& e, std::string& out) {
    out += fmt::format("{}: parameter {}: {}", e.module, e.parameter, e.problem);
}

std::string module_name_from_path(std::string_view path) { return elf::module_name_of_file(path); }

namespace {

using loader::PrivateCopy;

// The private copy of the checked bytes and what their signature allows.
struct VerifiedCopy {
    PrivateCopy copy;
    sign::LoadVerdict signature;
};

// read, verify, check, copy. The signature comes first, as the kernel's
// module_sig_check comes before its ELF checks, and covers exactly the bytes
// read. A kept copy serves instead when the file is unchanged (no read) or
// has the same bytes (no check, no write); its signature is verified again
// (the options may differ).
Expected<VerifiedCopy> verified_copy(const std::string& path, const SignatureOptions& signatures) {
    auto verify = [&](std::span<const std::byte> bytes) {
        return sign::check_module_signature(signatures, path, bytes);
    };
    auto source = loader::SourceFile::stat(path);
    if (auto kept = PrivateCopy::reuse_unchanged(source)) {
        auto signature = verify(kept->bytes());
        if (!signature) return signature.error();
        return VerifiedCopy{std::move(*kept), std::move(*signature)};
    }
    auto read = support::MappedFile::read(path);
    if (!read) return read.error();
    auto bytes = std::make_shared<const support::MappedFile>(std::move(*read));
    auto signature = verify(bytes->bytes());
    if (!signature) return signature.error();
    if (auto kept = PrivateCopy::reuse(source, bytes)) return VerifiedCopy{std::move(*kept), std::move(*signature)};
    auto checked = loader::check_module(path, bytes->bytes());
    if (!checked) return checked.error();
    auto copy = PrivateCopy::make(source, std::move(bytes), std::move(*checked));
    if (!copy) return copy.error();
    return VerifiedCopy{std::move(*copy), std::move(*signature)};
}

std::string module_name(const std::string& path, const elf::UmodModuleInfo& info) {
    for (const auto& [key, value] : info.modinfo)
        if (key == "name") return value;
    return module_name_from_path(path);
}

// Imports: what neither the runtime nor the rest of the process defines, and
// whatever a module exports.
std::vector<std::string> imports_of(const Registry& registry, const elf::UmodModuleInfo& info) {
    std::set<std::string> imports;
    std::vector<std::string> others;
    for (const std::string& u : info.undefined) {
        if (u.starts_with("__umod_")) continue;
        if (registry.exports(u))
            imports.insert(u);
        else
            others.push_back(u);
    }
    std::vector<bool> system = loader::defined_by_system(others);
    for (std::size_t i = 0; i < others.size(); ++i)
        if (!system[i]) imports.insert(others[i]);
    return {imports.begin(), imports.end()};
}

// `second_names`: elf::second_name of each export when the checks kept them
// (CheckedModule::second_names), else empty and computed here.
ModuleImage module_image(const Registry& registry, std::string name, const elf::UmodModuleInfo& info,
                         std::span<const std::string> second_names = {}) {
    ModuleImage image;
    image.name = std::move(name);
    image.imports = imports_of(registry, info);
    image.exports.reserve(info.exports.size());
    for (std::size_t i = 0; i < info.exports.size(); ++i) {
        const elf::UmodExport& e = info.exports[i];
        ExportSpec spec;
        spec.name = e.link_name;
        spec.alias = i < second_names.size() ? second_names[i] : elf::second_name(e);
        spec.license = e.gpl_only ? ExportLicense::GplOnly : ExportLicense::Any;
        spec.ns = e.ns;
        spec.type = e.type;
        image.exports.push_back(std::move(spec));
    }
    image.modinfo.assign(info.modinfo.begin(), info.modinfo.end());
    return image;
}

// Fills the "defined but not exported by" hints of an unknown-symbol error.
Error with_hints(const Error& error) {
    const auto* unknown = error.detail<UnknownSymbols>();
    if (unknown == nullptr) return error;
    UnknownSymbols hinted = *unknown;
    for (auto& missing : hinted.symbols)
        missing.defined_unexported_in = loaded_modules().module_defining(missing.symbol);
    return Error::with(error.code(), std::move(hinted));
}

}  // namespace

namespace loader {

ModuleImage image_of_module(const Registry& registry, std::string name, const CheckedModule& checked) {
    return module_image(registry, std::move(name), checked.info, checked.second_names);
}

Error explain_load_error(const Error& error, const std::string& name, const std::string& thrown) {
    if (!thrown.empty()) return Error::with(error.code(), CodeThrew{name, thrown});
    return with_hints(error);
}

Expected<PreparedModule> prepare_module_file(Registry& registry, const std::string& path,
                                             std::span<const std::string> params) {
    auto verified = verified_copy(path, registry.options().signatures);
    if (!verified) return verified.error();
    const elf::UmodModuleInfo& info = verified->copy.checked().info;
    std::string name = module_name(path, info);
    auto values = loader::parse_params(name, info, params);
    if (!values) return values.error();
    ModuleImage image = module_image(registry, name, info, verified->copy.checked().second_names);
    image.taints = verified->signature.taints;
    if (!verified->signature.warning.empty()) image.warnings.push_back(verified->signature.warning);
    auto backend = std::make_unique<loader::SharedObjectBackend>(registry, std::move(verified->copy), name,
                                                                 std::move(*values));
    std::shared_ptr<std::string> thrown = backend->thrown();
    image.backend = std::move(backend);
    return PreparedModule{std::move(image), std::move(thrown), std::move(name)};
}

}  // namespace loader

Expected<ModuleHandle> load_module_file(Registry& registry, const std::string& path,
                                        std::span<const std::string> params) {
    auto prepared = loader::prepare_module_file(registry, path, params);
    if (!prepared) return prepared.error();
    auto loaded = registry.load(std::move(prepared->image));
    if (!loaded) return loader::explain_load_error(loaded.error(), prepared->name, *prepared->thrown);
    return loaded;
}

}  // namespace umod
