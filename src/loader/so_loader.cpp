// The shared-object loader: copies a module file once (loader/private_copy.h),
// checks the copy as the dynamic linker will read it (elf/load_check.h) and as
// umod reads it, resolves its imports through the registry, then maps the copy
// with dlopen, runs its static constructors at the boundary, and checks that
// the dynamic linker bound every symbol where umod meant it to.
//
// Never dlsym(RTLD_DEFAULT, ...): a lookup that finds a symbol in a module
// records a dependency from the caller on it, and the module can then never be
// unmapped. Addresses come from the module's own tables plus its load base.
#include <umod/loader.h>

#include <filesystem>
#include <cxxabi.h>
#include <dlfcn.h>
#include <unistd.h>
#include <elf.h>
#include <link.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <mutex>
#include <memory>
#include <set>
#include <typeinfo>
#include <unordered_set>

#include <fmt/format.h>

#include "core/objects.h"
#include "elf/elf_file.h"
#include "elf/load_check.h"
#include "support/mapped_file.h"
#include "support/private_library.h"
#include "elf/umod_module.h"
#include "loader/loaded_modules.h"
#include "loader/private_copy.h"

namespace umod {

void describe_error(const CodeThrew& e, std::string& out) {
    out += fmt::format("{}: {}; the load was rolled back", e.module, e.what);
}

void describe_error(const BadParameter& e, std::string& out) {
    out += fmt::format("{}: parameter {}: {}", e.module, e.parameter, e.problem);
}

std::string module_name_from_path(std::string_view path) {
    if (auto slash = path.rfind('/'); slash != std::string_view::npos) path.remove_prefix(slash + 1);
    if (path.size() > 3 && path.ends_with(".so")) path.remove_suffix(3);
    std::string name(path);
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

namespace {

// ---- parameters --------------------------------------------------------------

struct ParamValue {
    const elf::UmodParam* param;
    std::string text;           // charp: the string the variable will point to
    long long signed_value = 0;
    unsigned long long unsigned_value = 0;
    bool flag = false;
};

Expected<ParamValue> parse_param(const std::string& module, const elf::UmodModuleInfo& info,
                                 const std::string& assignment) {
    auto eq = assignment.find('=');
    std::string name = assignment.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : assignment.substr(eq + 1);
    auto bad = [&](std::string problem) { return Error::with(EINVAL, BadParameter{module, name, std::move(problem)}); };
    auto it = std::find_if(info.params.begin(), info.params.end(), [&](const auto& p) { return p.name == name; });
    if (it == info.params.end()) return bad("unknown parameter");
    ParamValue v{&*it, value};
    const std::string& type = it->type;
    if (type == "bool") {
        if (eq == std::string::npos || value == "1" || value == "y" || value == "Y" || value == "true")
            v.flag = true;
        else if (value == "0" || value == "n" || value == "N" || value == "false")
            v.flag = false;
        else
            return bad(fmt::format("'{}' is not a bool (y/n/1/0)", value));
        return v;
    }
    if (type == "charp" || type == "string") return v;
    if (value.empty()) return bad(fmt::format("no value for a {}", type));
    errno = 0;
    char* end = nullptr;
    bool is_signed = type == "int" || type == "long" || type == "short";
    if (is_signed) {
        v.signed_value = std::strtoll(value.c_str(), &end, 0);
    } else if (type == "uint" || type == "ulong" || type == "ushort") {
        if (value[0] == '-') return bad(fmt::format("'{}' is not a {}", value, type));
        v.unsigned_value = std::strtoull(value.c_str(), &end, 0);
    } else {
        return bad(fmt::format("type {} is not supported", type));
    }
    if (errno != 0 || end == value.c_str() || *end != '\0') return bad(fmt::format("'{}' is not a {}", value, type));
    bool fits = true;
    if (type == "int") fits = v.signed_value >= INT_MIN && v.signed_value <= INT_MAX;
    if (type == "short") fits = v.signed_value >= SHRT_MIN && v.signed_value <= SHRT_MAX;
    if (type == "uint") fits = v.unsigned_value <= UINT_MAX;
    if (type == "ushort") fits = v.unsigned_value <= USHRT_MAX;
    if (!fits) return bad(fmt::format("{} is out of range for a {}", value, type));
    return v;
}

void apply_param(ParamValue& v, std::uintptr_t base) {
    void* where = reinterpret_cast<void*>(base + v.param->address);
    const std::string& type = v.param->type;
    auto store = [&](auto value) { std::memcpy(where, &value, sizeof(value)); };
    if (type == "bool") store(v.flag);
    else if (type == "charp" || type == "string") store(v.text.data());
    else if (type == "int") store(static_cast<int>(v.signed_value));
    else if (type == "short") store(static_cast<short>(v.signed_value));
    else if (type == "long") store(static_cast<long>(v.signed_value));
    else if (type == "uint") store(static_cast<unsigned>(v.unsigned_value));
    else if (type == "ushort") store(static_cast<unsigned short>(v.unsigned_value));
    else if (type == "ulong") store(static_cast<unsigned long>(v.unsigned_value));
}

// ---- what the rest of the process defines ------------------------------------

// Names defined (default visibility) by loaded objects that are not umod
// modules, nor libraries umod keeps in a scope of their own
// (support/private_library.h): libc, libstdc++, the host. Each object's file is
// read once.
class SystemSymbols {
public:
    // Reads the objects loaded since the last call (once per module load).
    void refresh() {
        std::lock_guard lock(mutex_);
        refresh_locked();
    }
    bool defines(const std::string& name) {
        std::lock_guard lock(mutex_);
        return names_.count(name) != 0;
    }

private:
    void refresh_locked() {
        std::vector<std::string> objects;
        dl_iterate_phdr(
            [](dl_phdr_info* info, size_t, void* out) {
                std::string name = info->dlpi_name ? info->dlpi_name : "";
                if (name.empty()) name = "/proc/self/exe";
                static_cast<std::vector<std::string>*>(out)->push_back(name);
                return 0;
            },
            &objects);
        for (const std::string& path : objects) {
            if (read_.count(path) || path.find("linux-vdso") != std::string::npos) continue;
            if (loaded_modules().is_module_path(path) || support::is_private_object(path)) continue;
            read_.insert(path);
            auto file = support::MappedFile::open(path);
            if (!file) continue;
            auto elf = elf::ElfFile::parse(file->bytes());
            if (!elf) continue;
            const elf::Section* dynsym = elf->section(".dynsym");
            if (dynsym == nullptr) continue;
            auto symbols = elf->symbols(*dynsym);
            if (!symbols) continue;
            for (const elf::Symbol& s : *symbols)
                if (s.shndx != SHN_UNDEF && !s.name.empty() && s.visibility == STV_DEFAULT)
                    names_.emplace(s.name);
        }
    }

    std::mutex mutex_;  // guards read_ and names_
    std::set<std::string> read_;
    std::unordered_set<std::string> names_;
};

SystemSymbols& system_symbols() {
    static SystemSymbols instance;
    return instance;
}

// ---- the backend ---------------------------------------------------------------

std::string current_exception_text();

class SharedObjectBackend final : public ModuleBackend {
public:
    SharedObjectBackend(Registry& registry, PrivateCopy copy, std::string name, elf::UmodModuleInfo info,
                        std::vector<ParamValue> params, elf::LoadImage::CallArray constructors)
        : registry_(registry),
          constructors_(constructors),
          copy_(std::move(copy)),
          path_(copy_.path()),
          name_(std::move(name)),
          info_(std::move(info)),
          params_(std::move(params)) {}

    Expected<MappedModule> map(std::span<const ResolvedImport> imports, User* self) override {
        handle_ = dlopen(path_.c_str(), RTLD_NOW | RTLD_GLOBAL);
        if (handle_ == nullptr) return Error::with(ENOEXEC, MapFailed{name_, dlerror()});
        link_map* map = nullptr;
        if (dlinfo(handle_, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr) {
            close();
            return Error::with(ENOEXEC, MapFailed{name_, "cannot find where it was mapped"});
        }
        base_ = map->l_addr;
        if (Status bound = check_bindings(imports); !bound) {
            close();
            return bound.error();
        }
        if (info_.this_module != 0) {
            auto* self_module = reinterpret_cast<struct ModuleIdentity*>(base_ + info_.this_module);
            self_module->registry = &registry_;
            self_module->self = self;
            self_module->name = name_.c_str();
        }
        for (ParamValue& p : params_) apply_param(p, base_);
        loaded_modules().add({name_, path_, base_, info_.image_size, info_.local_defined});
        if (Status constructed = run_constructors(); !constructed) {
            loaded_modules().remove(base_);
            close();  // destroys what was constructed (the fini array)
            return constructed.error();
        }

        MappedModule mapped;
        for (const auto& e : info_.exports)
            mapped.export_addresses.push_back(reinterpret_cast<const void*>(base_ + e.address));
        // An exception escaping module code stops at this boundary.
        if (info_.init != 0) {
            auto init = reinterpret_cast<int (*)()>(base_ + info_.init);
            mapped.init = [init, thrown = thrown_] {
                try {
                    return init();
                } catch (...) {
                    *thrown = "init threw " + current_exception_text();
                    return -ECANCELED;
                }
            };
        }
        if (info_.exit != 0) {
            auto exit = reinterpret_cast<void (*)()>(base_ + info_.exit);
            mapped.exit = [exit, thrown = thrown_] {
                try {
                    exit();
                } catch (...) {
                    *thrown = "exit threw " + current_exception_text();
                }
            };
        } else if (info_.init == 0) {
            mapped.exit = [] {};  // neither: nothing to run, unloadable (as in the kernel)
        }
        mapped.size = info_.image_size;
        mapped.base = base_;
        mapped.warnings = hazards();
        return mapped;
    }

    // What module code threw at the boundary ("init threw std::runtime_error:
    // boom"), empty if nothing.
    std::shared_ptr<std::string> thrown() const { return thrown_; }

    UnmapReport unmap() override {
        UnmapReport report;
        if (thrown_->starts_with("exit threw")) report.exit_error = name_ + ": " + *thrown_;
        if (handle_ == nullptr) return report;
        loaded_modules().remove(base_);
        close();
        if (still_loaded()) {
            report.unmapped = false;
            if (int pins = pins_->load(); pins > 0)
                report.reasons.push_back(fmt::format("{} object(s) made by its code still live (umod::module_shared)", pins));
            for (const auto& u : info_.unique_symbols) report.reasons.push_back("STB_GNU_UNIQUE symbol " + u);
            if (info_.nodelete) report.reasons.push_back("DF_1_NODELETE");
            if (info_.has_tls) report.reasons.push_back("thread-local storage (pending TLS destructors)");
            if (report.reasons.empty())
                report.reasons.push_back("another object still references it (a binding umod did not create)");
        }
        return report;
    }

    // Another reference of the dynamic linker's on the mapped object (the
    // file name matches the loaded object: no file is opened).
    std::shared_ptr<void> keep_mapped() override {
        void* handle = dlopen(path_.c_str(), RTLD_NOW | RTLD_NOLOAD);
        if (handle == nullptr) return nullptr;
        pins_->fetch_add(1);
        return std::shared_ptr<void>(handle, [pins = pins_](void* h) {
            pins->fetch_sub(1);
            dlclose(h);
        });
    }

private:
    // Whether the dynamic linker still has the object mapped where it was:
    // its list of loaded objects, as RTLD_NOLOAD would consult it, without
    // RTLD_NOLOAD's open and stat of the file when the name is gone.
    bool still_loaded() const {
        struct Query {
            std::uintptr_t base;
            const std::string* path;
            bool found = false;
        } query{base_, &path_};
        dl_iterate_phdr(
            [](dl_phdr_info* info, size_t, void* data) {
                auto* q = static_cast<Query*>(data);
                if (info->dlpi_addr == q->base && info->dlpi_name != nullptr && *q->path == info->dlpi_name)
                    q->found = true;
                return q->found ? 1 : 0;
            },
            &query);
        return query.found;
    }

    // Mirrors struct module of <umod/module.h>.
    struct ModuleIdentity {
        void* registry;
        void* self;
        const char* name;
    };

    // As the dynamic linker would, in order, with (argc, argv, envp) as it
    // passes them to a dlopen()ed object's constructors but argc 0.
    Status run_constructors() {
        auto* slots = reinterpret_cast<void (**)(int, char**, char**)>(base_ + constructors_.address);
        for (std::uint64_t i = 0; i < constructors_.count; ++i) {
            try {
                slots[i](0, nullptr, environ);
            } catch (...) {
                *thrown_ = "a static constructor threw " + current_exception_text();
                return Error::with(ECANCELED, CodeThrew{name_, *thrown_});
            }
        }
        return {};
    }

    void close() {
        if (handle_ != nullptr) dlclose(handle_);
        handle_ = nullptr;
    }

    std::vector<std::string> hazards() const {
        std::vector<std::string> out;
        for (const auto& u : info_.unique_symbols)
            out.push_back(fmt::format("{}: STB_GNU_UNIQUE symbol {} may keep it mapped after unload", name_, u));
        if (info_.nodelete) out.push_back(name_ + ": DF_1_NODELETE may keep it mapped after unload");
        if (info_.has_tls) out.push_back(name_ + ": uses thread-local storage; pending TLS destructors can keep it mapped");
        return out;
    }

    // Every dynamic relocation against a named symbol must have been bound
    // where umod meant: imports to the provider's export, everything else
    // outside other modules.
    Status check_bindings(std::span<const ResolvedImport> imports) {
        std::map<std::string_view, const ResolvedImport*> expected;
        for (const auto& i : imports) expected[i.name] = &i;
        for (const elf::SymbolBinding& binding : info_.bindings) {
            std::uintptr_t bound = 0;
            std::memcpy(&bound, reinterpret_cast<const void*>(base_ + binding.offset), sizeof(bound));
            if (binding.type == R_X86_64_64) bound -= static_cast<std::uintptr_t>(binding.addend);
            if (bound == 0) continue;  // weak, unresolved
            const std::string& name = binding.symbol;
            if (binding.defined_here) {
                // Its own definition, unless an earlier object interposed.
                if (bound - base_ < info_.image_size) continue;
                if (auto owner = loaded_modules().owner_of(bound); !owner.empty())
                    return Error::with(ENOEXEC, MapFailed{name_, fmt::format(
                        "its own {} was bound to module {}'s copy (a hidden cross-module binding); "
                        "build modules with -fvisibility=hidden -Wl,-Bsymbolic", name, owner)});
                continue;
            }
            if (auto it = expected.find(name); it != expected.end()) {
                if (bound != reinterpret_cast<std::uintptr_t>(it->second->address))
                    return Error::with(ENOEXEC, MapFailed{name_, fmt::format(
                        "{} was bound to {:#x}, not to the export of {} umod resolved "
                        "(another object defines it first)", name, bound, it->second->provider)});
                continue;
            }
            if (auto owner = loaded_modules().owner_of(bound); !owner.empty())
                return Error::with(ENOEXEC, MapFailed{name_, fmt::format(
                    "{} was bound to module {}'s copy, which it does not export (a hidden "
                    "cross-module binding); build modules with -fvisibility=hidden -Wl,-Bsymbolic",
                    name, owner)});
        }
        return {};
    }

    Registry& registry_;
    // The static constructors, which the dynamic linker was told not to run
    // (DT_INIT_ARRAYSZ 0 in the copy): run here, where what they throw stops.
    const elf::LoadImage::CallArray constructors_;
    const PrivateCopy copy_;  // what is mapped: the checked bytes
    const std::string path_;
    const std::string name_;
    const elf::UmodModuleInfo info_;
    std::vector<ParamValue> params_;
    void* handle_ = nullptr;
    std::uintptr_t base_ = 0;
    std::shared_ptr<std::string> thrown_ = std::make_shared<std::string>();
    std::shared_ptr<std::atomic<int>> pins_ = std::make_shared<std::atomic<int>>(0);  // keep_mapped tokens alive
};

// A type's name as C++ spells it: a mangled type name is the encoding of a
// symbol of that name.
std::string type_name(const std::type_info& type) { return elf::demangle(std::string("_Z") + type.name()); }

// The exception being handled, as "TYPE: what()".
std::string current_exception_text() {
    try {
        throw;
    } catch (const std::exception& e) {
        return type_name(typeid(e)) + ": " + e.what();
    } catch (...) {
        const std::type_info* type = abi::__cxa_current_exception_type();
        return type ? type_name(*type) + " (not a std::exception)" : "an unknown exception";
    }
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

Expected<ModuleHandle> load_module_file(Registry& registry, const std::string& path,
                                        std::span<const std::string> params) {
    // Read once: the private copy is what is checked and what is mapped.
    auto copy = PrivateCopy::make(path);
    if (!copy) return copy.error();
    auto file = support::MappedFile::open(copy->path());
    if (!file) return file.error().context(path);
    auto elf = elf::ElfFile::parse(file->bytes());
    if (!elf) return elf.error().context(path);
    if (elf->kind() == elf::FileKind::SharedObject && elf->section(".umod_this_module") == nullptr)
        return Error(ENOEXEC, path + ": not a umod module: no .umod_this_module section; "
                                     "build it with umod_add_module or pkg-config umod-module");
    auto info = elf::read_umod_module(*elf);
    if (!info) return info.error().context(path);
    // Everything the dynamic linker trusts, before it sees a byte.
    auto image_check = elf::LoadImage::check(file->bytes());
    if (!image_check) return image_check.error().context(path);
    if (image_check->init_array().count != 0)
        if (Status patched = copy->patch(image_check->init_array().size_value_offset, 0); !patched)
            return patched.error();
    if (Status addresses = elf::check_umod_addresses(*image_check, *elf, *info); !addresses)
        return addresses.error().context(path);

    std::string name = module_name_from_path(path);
    for (const auto& [key, value] : info->modinfo)
        if (key == "name") name = value;

    std::vector<ParamValue> values;
    for (const std::string& assignment : params) {
        auto v = parse_param(name, *info, assignment);
        if (!v) return v.error();
        values.push_back(std::move(*v));
    }

    // Imports: what neither the runtime nor the rest of the process defines,
    // and whatever a module exports.
    ModuleImage image;
    image.name = name;
    std::set<std::string> imports;
    bool refreshed = false;  // the process's objects are looked at once per load, and only if needed
    for (const std::string& u : info->undefined) {
        if (u.starts_with("__umod_")) continue;
        if (registry.exports(u)) {
            imports.insert(u);
            continue;
        }
        if (!refreshed) {
            system_symbols().refresh();
            refreshed = true;
        }
        if (!system_symbols().defines(u)) imports.insert(u);
    }
    image.imports.assign(imports.begin(), imports.end());
    for (const auto& e : info->exports) {
        ExportSpec spec;
        spec.name = e.link_name;
        spec.alias = elf::second_name(e);
        spec.license = e.gpl_only ? ExportLicense::GplOnly : ExportLicense::Any;
        spec.ns = e.ns;
        spec.type = e.type;
        image.exports.push_back(std::move(spec));
    }
    image.modinfo.assign(info->modinfo.begin(), info->modinfo.end());
    auto backend = std::make_unique<SharedObjectBackend>(registry, std::move(*copy), name, std::move(*info),
                                                         std::move(values), image_check->init_array());
    std::shared_ptr<std::string> thrown = backend->thrown();
    image.backend = std::move(backend);
    auto loaded = registry.load(std::move(image));
    if (!loaded && !thrown->empty())
        return Error::with(loaded.error().code(), CodeThrew{name, *thrown});
    if (!loaded) return with_hints(loaded.error());
    return loaded;
}

}  // namespace umod
