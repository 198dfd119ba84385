#include "loader/system_symbols.h"

#include <elf.h>
#include <link.h>

#include <cstdint>
#include <cstring>
#include <string_view>

#include "loader/loaded_modules.h"
#include "support/private_library.h"

namespace umod::loader {

namespace {

struct Object {
    std::string name;
    std::uintptr_t base = 0;
};

// Every loaded object, by name ("" for the program) and load base.
std::vector<Object> loaded_objects() {
    std::vector<Object> objects;
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* out) {
            static_cast<std::vector<Object>*>(out)->push_back({info->dlpi_name ? info->dlpi_name : "", info->dlpi_addr});
            return 0;
        },
        &objects);
    return objects;
}

// An object's dynamic tables as mapped. The dynamic linker rewrites the
// pointers of a writable .dynamic to absolute addresses, and leaves a
// read-only one (the vDSO's) relative: either way, inside the object.
struct Tables {
    const Elf64_Sym* symtab = nullptr;
    const char* strtab = nullptr;
    const std::uint32_t* gnu_hash = nullptr;
    const std::uint32_t* hash = nullptr;
};

Tables tables_of(const dl_phdr_info* info) {
    Tables t;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const Elf64_Phdr& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_DYNAMIC) continue;
        auto at = [&](Elf64_Addr p) { return p < info->dlpi_addr ? info->dlpi_addr + p : p; };
        for (auto* d = reinterpret_cast<const Elf64_Dyn*>(info->dlpi_addr + ph.p_vaddr); d->d_tag != DT_NULL; ++d) {
            if (d->d_tag == DT_SYMTAB) t.symtab = reinterpret_cast<const Elf64_Sym*>(at(d->d_un.d_ptr));
            if (d->d_tag == DT_STRTAB) t.strtab = reinterpret_cast<const char*>(at(d->d_un.d_ptr));
            if (d->d_tag == DT_GNU_HASH) t.gnu_hash = reinterpret_cast<const std::uint32_t*>(at(d->d_un.d_ptr));
            if (d->d_tag == DT_HASH) t.hash = reinterpret_cast<const std::uint32_t*>(at(d->d_un.d_ptr));
        }
    }
    return t;
}

bool defines(const Tables& t, const Elf64_Sym& s, std::string_view name) {
    return s.st_shndx != SHN_UNDEF && ELF64_ST_VISIBILITY(s.st_other) == STV_DEFAULT &&
           std::strncmp(t.strtab + s.st_name, name.data(), name.size()) == 0 && t.strtab[s.st_name + name.size()] == '\0';
}

std::uint32_t gnu_hash(std::string_view name) {
    std::uint32_t h = 5381;
    for (unsigned char c : name) h = h * 33 + c;
    return h;
}

std::uint32_t sysv_hash(std::string_view name) {
    std::uint32_t h = 0;
    for (unsigned char c : name) {
        h = (h << 4) + c;
        h ^= (h >> 24) & 0xf0;
    }
    return h & 0x0fffffff;
}

// The GNU hash table's probe: bloom filter, bucket, then the chain of
// symbols of equal hash bucket (the low bit ends it).
bool gnu_lookup(const Tables& t, std::string_view name) {
    const std::uint32_t nbuckets = t.gnu_hash[0], symoffset = t.gnu_hash[1], bloom_size = t.gnu_hash[2],
                        shift = t.gnu_hash[3];
    if (nbuckets == 0 || bloom_size == 0) return false;
    auto* bloom = reinterpret_cast<const std::uint64_t*>(t.gnu_hash + 4);
    auto* buckets = reinterpret_cast<const std::uint32_t*>(bloom + bloom_size);
    const std::uint32_t* chain = buckets + nbuckets;
    std::uint32_t h = gnu_hash(name);
    std::uint64_t word = bloom[(h / 64) % bloom_size];
    if (((word >> (h % 64)) & (word >> ((h >> shift) % 64)) & 1) == 0) return false;
    std::uint32_t i = buckets[h % nbuckets];
    if (i < symoffset) return false;
    for (;; ++i) {
        std::uint32_t other = chain[i - symoffset];
        if ((other | 1) == (h | 1) && defines(t, t.symtab[i], name)) return true;
        if (other & 1) return false;
    }
}

bool sysv_lookup(const Tables& t, std::string_view name) {
    const std::uint32_t nbucket = t.hash[0];
    if (nbucket == 0) return false;
    const std::uint32_t* bucket = t.hash + 2;
    const std::uint32_t* chain = bucket + nbucket;
    for (std::uint32_t i = bucket[sysv_hash(name) % nbucket]; i != STN_UNDEF; i = chain[i])
        if (defines(t, t.symtab[i], name)) return true;
    return false;
}

struct Query {
    const std::vector<Object>* system;
    std::span<const std::string> names;
    std::vector<bool> found;
};

int look_up_in(dl_phdr_info* info, size_t, void* data) {
    auto* q = static_cast<Query*>(data);
    std::string_view name = info->dlpi_name ? info->dlpi_name : "";
    bool system = false;
    for (const Object& o : *q->system) system = system || (o.base == info->dlpi_addr && o.name == name);
    if (!system) return 0;
    Tables t = tables_of(info);
    if (t.symtab == nullptr || t.strtab == nullptr || (t.gnu_hash == nullptr && t.hash == nullptr)) return 0;
    for (std::size_t i = 0; i < q->names.size(); ++i)
        if (!q->found[i]) q->found[i] = t.gnu_hash ? gnu_lookup(t, q->names[i]) : sysv_lookup(t, q->names[i]);
    return 0;
}

}  // namespace

std::vector<bool> defined_by_system(std::span<const std::string> names) {
    if (names.empty()) return {};  // a C module importing only from modules: no walk, no locks
    // Which objects are the system's is decided outside the dynamic
    // linker's lock (the module and private-library lists have locks of
    // their own); the lookups run under it, so no object goes away meanwhile.
    std::vector<Object> system;
    for (Object& o : loaded_objects())
        if (!loaded_modules().is_module_path(o.name) && !support::is_private_object(o.name))
            system.push_back(std::move(o));
    Query query{&system, names, std::vector<bool>(names.size(), false)};
    dl_iterate_phdr(look_up_in, &query);
    return std::move(query.found);
}

}  // namespace umod::loader
