#include "loader/so_backend.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string_view>
#include <typeinfo>

#include <fmt/format.h>

#include <umod/loader.h>

#include "core/objects.h"
#include "loader/loaded_modules.h"

namespace umod::loader {

namespace {

std::string file_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// Mirrors struct module of <umod/module.h>.
struct ModuleIdentity {
    void* registry;
    void* self;
    const char* name;
};

}  // namespace

SharedObjectBackend::SharedObjectBackend(Registry& registry, PrivateCopy copy, std::string name,
                                         std::vector<ParamValue> params)
    : registry_(registry),
      copy_(std::move(copy)),
      info_(copy_.checked().info),
      path_(copy_.path()),
      name_(std::move(name)),
      params_(std::move(params)),
      parameters_(name_, info_.params, info_.modinfo) {}

Expected<MappedModule> SharedObjectBackend::map(std::span<const ResolvedImport> imports, User* self) {
    handle_ = dlopen(path_.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (handle_ == nullptr) return Error::with(ENOEXEC, MapFailed{name_, dlerror()});
    link_map* map = nullptr;
    if (dlinfo(handle_, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr) {
        close();
        return Error::with(ENOEXEC, MapFailed{name_, "cannot find where it was mapped"});
    }
    base_ = map->l_addr;
    if (Status bound = check_bindings(imports); !bound) {
        forget_destructors();  // its constructors never ran
        close();
        return bound.error();
    }
    if (info_.this_module != 0) {
        auto* self_module = reinterpret_cast<ModuleIdentity*>(base_ + info_.this_module);
        self_module->registry = &registry_;
        self_module->self = self;
        self_module->name = name_.c_str();
    }
    for (ParamValue& p : params_) apply_param(p, base_);
    if (oops_wanted(registry_.options().oops)) {
        enable_oops();
        oops_ = std::make_unique<OopsRecord>(base_, info_.image_size, name_, file_name(path_), copy_.bytes());
    }
    loaded_modules().add({name_, path_, base_, info_.image_size,
                          {copy_.shared_checked(), &copy_.checked().info.local_defined}});
    if (Status constructed = run_constructors(); !constructed) {
        loaded_modules().remove(base_);
        close();  // destroys what was constructed (the fini array)
        oops_.reset();
        return constructed.error();
    }
    parameters_.set_base(base_);  // readable by the host from here on
    if (info_.init == 0 && oops_) oops_->set_state(OopsState::Live);
    return entry_points();
}

// Init and exit wrapped so that an exception escaping module code stops at
// this boundary.
MappedModule SharedObjectBackend::entry_points() const {
    MappedModule mapped;
    for (const auto& e : info_.exports)
        mapped.export_addresses.push_back(reinterpret_cast<const void*>(base_ + e.address));
    if (info_.init != 0) {
        auto init = reinterpret_cast<int (*)()>(base_ + info_.init);
        mapped.init = [init, thrown = thrown_, oops = oops_.get()] {
            try {
                int r = init();
                if (r == 0 && oops != nullptr) oops->set_state(OopsState::Live);
                return r;
            } catch (...) {
                *thrown = "init threw " + current_exception_text();
                return -ECANCELED;
            }
        };
    }
    if (info_.exit != 0) {
        auto exit = reinterpret_cast<void (*)()>(base_ + info_.exit);
        mapped.exit = [exit, thrown = thrown_, oops = oops_.get()] {
            if (oops != nullptr) oops->set_state(OopsState::Going);
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

UnmapReport SharedObjectBackend::unmap() {
    UnmapReport report;
    if (thrown_->starts_with("exit threw")) report.exit_error = name_ + ": " + *thrown_;
    if (handle_ == nullptr) return report;
    loaded_modules().remove(base_);
    if (oops_) oops_->set_state(OopsState::Going);
    close();  // runs the fini array
    oops_.reset();
    if (still_loaded()) {
        report.unmapped = false;
        report.reasons = pinned_because();
    } else {
        copy_.mark_unmapped();
    }
    return report;
}

std::shared_ptr<void> SharedObjectBackend::keep_mapped() {
    void* handle = dlopen(path_.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (handle == nullptr) return nullptr;
    pins_->fetch_add(1);
    return std::shared_ptr<void>(handle, [pins = pins_](void* h) {
        pins->fetch_sub(1);
        dlclose(h);
    });
}

std::vector<std::string> SharedObjectBackend::file_pins(const elf::UmodModuleInfo& info) {
    std::vector<std::string> reasons;
    if (info.nodelete) reasons.push_back("DF_1_NODELETE");
    if (info.has_tls) reasons.push_back("thread-local storage (pending TLS destructors)");
    return reasons;
}

std::vector<std::string> SharedObjectBackend::pinned_because() const {
    std::vector<std::string> reasons;
    if (int pins = pins_->load(); pins > 0)
        reasons.push_back(fmt::format("{} object(s) made by its code still live (umod::module_shared)", pins));
    for (std::string& reason : file_pins(info_)) reasons.push_back(std::move(reason));
    if (reasons.empty()) reasons.push_back("another object still references it (a binding umod did not create)");
    return reasons;
}

// Whether the dynamic linker still has the object mapped where it was:
// its list of loaded objects, as RTLD_NOLOAD would consult it, without
// RTLD_NOLOAD's open and stat of the file when the name is gone.
bool SharedObjectBackend::still_loaded() const {
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

// As the dynamic linker would, in order, with (argc, argv, envp) as it
// passes them to a dlopen()ed object's constructors but argc 0.
Status SharedObjectBackend::run_constructors() {
    auto* slots = reinterpret_cast<void (**)(int, char**, char**)>(base_ + copy_.checked().constructors.address);
    for (std::uint64_t i = 0; i < copy_.checked().constructors.count; ++i) {
        try {
            slots[i](0, nullptr, environ);
        } catch (...) {
            *thrown_ = "a static constructor threw " + current_exception_text();
            return Error::with(ECANCELED, CodeThrew{name_, *thrown_});
        }
    }
    return {};
}

// Its DT_FINI_ARRAYSZ as the dynamic linker reads it at dlclose (the
// loaded .dynamic), set to 0: for a module refused before its constructors
// ran, whose destructors would destroy what was never constructed.
void SharedObjectBackend::forget_destructors() {
    const elf::LoadImage::CallArray& destructors = copy_.checked().destructors;
    if (destructors.count == 0) return;
    auto* size = reinterpret_cast<void*>(base_ + destructors.size_value_address);
    if (!copy_.checked().destructors_size_read_only) {
        std::memset(size, 0, 8);
        return;
    }
    const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto at = reinterpret_cast<std::uintptr_t>(size);
    const std::uintptr_t start = at & ~(page - 1), end = (at + 7) & ~(page - 1);  // end: the last byte's page
    void* first = reinterpret_cast<void*>(start);
    const std::size_t length = end - start + page;
    if (mprotect(first, length, PROT_READ | PROT_WRITE) != 0) return;  // then they run: as before
    std::memset(size, 0, 8);
    mprotect(first, length, PROT_READ);
}

void SharedObjectBackend::close() {
    parameters_.set_base(0);  // waits for a reader of the values
    if (handle_ != nullptr) dlclose(handle_);
    handle_ = nullptr;
}

std::vector<std::string> SharedObjectBackend::hazards() const {
    std::vector<std::string> out;
    if (info_.nodelete) out.push_back(name_ + ": DF_1_NODELETE may keep it mapped after unload");
    if (info_.has_tls) out.push_back(name_ + ": uses thread-local storage; pending TLS destructors can keep it mapped");
    return out;
}

// Every dynamic relocation against a named symbol must have been bound
// where umod meant: imports to the provider's export, everything else
// outside other modules.
Status SharedObjectBackend::check_bindings(std::span<const ResolvedImport> imports) const {
    std::map<std::string_view, const ResolvedImport*> expected;
    for (const auto& i : imports) expected[i.name] = &i;
    for (const elf::SymbolBinding& binding : info_.bindings) {
        std::uintptr_t bound = 0;
        std::memcpy(&bound, reinterpret_cast<const void*>(base_ + binding.offset), sizeof(bound));
        if (binding.type == R_X86_64_64) bound -= static_cast<std::uintptr_t>(binding.addend);
        // A PLT slot left at 0 (its symbol weak and defined nowhere): a call
        // through it jumps to address 0, as a JUMP_SLOT relocation re-pointed
        // at the weak __gmon_start__ does in module code. Refused before the
        // constructors and init run. (Code that tests a weak function's address before
        // calling it would survive such a slot; it is refused too when nothing
        // in the process defines the function.)
        if (bound == 0 && binding.type == R_X86_64_JUMP_SLOT)
            return Error::with(ENOEXEC, MapFailed{name_, fmt::format(
                "the PLT slot at {:#x} (a JUMP_SLOT relocation against {}) is unresolved: the weak "
                "symbol is defined nowhere, so a call through the slot would jump to address 0",
                binding.offset, binding.symbol)});
        if (bound == 0) continue;  // weak, unresolved: a data address the module can test
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

namespace {

// A type's name as C++ spells it: a mangled type name is the encoding of a
// symbol of that name.
std::string type_name(const std::type_info& type) { return elf::demangle(std::string("_Z") + type.name()); }

}  // namespace

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

}  // namespace umod::loader
