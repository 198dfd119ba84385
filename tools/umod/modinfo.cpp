// umod modinfo — what kmod 30's modinfo prints, for module files.
//   umod modinfo [-a|-d|-l|-p|-n|-F FIELD] [-0] FILE...
// An argument that is not a module file is looked up as kmod does, by name,
// symbol or alias, in BASEDIR/lib/modules/KVER (-b, -k; default / and the
// running kernel); -m looks up module names only.
#include <getopt.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <umod/loader.h>
#include <umod/metadata.h>

#include "commands.h"
#include "kmod_log.h"
#include "live.h"
#include "elf/module_file.h"
#include "elf/elf_file.h"
#include "elf/kernel_module.h"
#include "elf/read_parts.h"
#include "support/mapped_file.h"
#include "index/modprobe.h"

namespace umod::tool {

namespace {

struct Options {
    const char* field = nullptr;  // -F and friends
    char separator = '\n';         // -0: '\0'
};

bool has_module_extension(std::string_view path) {
    // Debian's kmod is built without zlib: .ko.gz is not a module file to it.
    for (std::string_view ext : {".ko", ".ko.xz", ".ko.zst"})
        if (path.size() > ext.size() && path.ends_with(ext)) return true;
    return false;
}

// "AB:CD:...", 20 bytes a line, continued with "\n\t\t" as kmod does.
std::string hex(const std::vector<std::uint8_t>& bytes) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size() * 3 + bytes.size() / 20 * 3);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        out += kDigits[bytes[i] >> 4];
        out += kDigits[bytes[i] & 15];
        if (i + 1 < bytes.size()) {
            out += ':';
            if ((i + 1) % 20 == 0) out += "\n\t\t";
        }
    }
    return out;
}

struct Param {
    std::string name;
    std::string description;
    std::string type;
    bool has_description = false;
    bool has_type = false;
};

void emit(const Options& o, const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::putchar(o.separator);
}

// Merges parm/parmtype per parameter; kmod lists them newest first.
void add_param(std::vector<Param>& params, std::string_view key, std::string_view value) {
    auto colon = value.find(':');
    if (colon == std::string_view::npos) {
        std::fprintf(stderr, "modinfo: ERROR: Found invalid \"%.*s=%.*s\": missing ':'\n", static_cast<int>(key.size()),
                     key.data(), static_cast<int>(value.size()), value.data());
        return;
    }
    std::string name(value.substr(0, colon));
    Param* p = nullptr;
    for (auto& existing : params)
        if (existing.name == name) p = &existing;
    if (p == nullptr) {
        params.insert(params.begin(), Param{name, {}, {}, false, false});
        p = &params.front();
    }
    if (key == "parm") {
        p->description = value.substr(colon + 1);
        p->has_description = true;
    } else {
        p->type = value.substr(colon + 1);
        p->has_type = true;
    }
}

void print_params(const Options& o, const std::vector<Param>& params, const char* prefix) {
    for (const Param& p : params) {
        if (!p.has_description && *prefix)  // kmod words a type alone differently in the two listings
            emit(o, fmt::format("{}{}:{}", prefix, p.name, p.type));
        else if (!p.has_description)
            emit(o, fmt::format("{}: ({})", p.name, p.type));
        else if (p.has_type)
            emit(o, fmt::format("{}{}:{} ({})", prefix, p.name, p.description, p.type));
        else
            emit(o, fmt::format("{}{}:{}", prefix, p.name, p.description));
    }
}

// The .modinfo listing: every key (or only -F's), parameters merged at the end.
int print_info(const Options& o, const std::vector<std::pair<std::string, std::string>>& info) {
    std::vector<Param> params;
    bool only_parms = o.field != nullptr && std::strcmp(o.field, "parm") == 0;
    for (const auto& [key, value] : info) {
        if (only_parms) {
            if (key == "parm" || key == "parmtype") add_param(params, key, value);
            continue;
        }
        if (o.field != nullptr) {
            if (key == o.field) emit(o, value);
            continue;
        }
        if (key == "parm" || key == "parmtype") {
            add_param(params, key, value);
            continue;
        }
        if (o.separator == '\0')
            emit(o, key + "=" + value);
        else  // the key and its colon padded to 16 columns (none past 15 characters)
            emit(o, key + ":" + std::string(key.size() < 15 ? 15 - key.size() : 0, ' ') + value);
    }
    if (only_parms)
        print_params(o, params, "");
    else if (o.field == nullptr)
        print_params(o, params, "parm:           ");
    return 0;
}

// A built-in module: its name, "(builtin)", and its modules.builtin.modinfo records.
int modinfo_builtin(const Options& o, const std::string& name,
                    const std::vector<std::pair<std::string, std::string>>& info) {
    if (o.field == nullptr)
        emit(o, fmt::format("{:<16}{}", "name:", name));
    else if (std::strcmp(o.field, "name") == 0)
        emit(o, name);
    if (o.field == nullptr)
        emit(o, fmt::format("{:<16}{}", "filename:", "(builtin)"));
    else if (std::strcmp(o.field, "filename") == 0) {
        emit(o, "(builtin)");
        return 0;
    }
    return print_info(o, info);
}

// The first line, "filename:" and the absolute path, as kmod prints it; true
// when -F filename asked for nothing else.
bool emit_filename(const Options& o, const std::string& path) {
    std::string filename = path[0] == '/' ? path : std::filesystem::current_path().string() + "/" + path;
    if (o.field == nullptr) {
        emit(o, fmt::format("{:<16}{}", "filename:", filename));
        return false;
    }
    if (std::strcmp(o.field, "filename") != 0) return false;
    emit(o, filename);
    return true;
}

int modinfo_file(const Options& o, const std::string& path, elf::ModuleFileBuffer& file) {
    if (emit_filename(o, path)) return 0;
    auto fail = [&](int code) {
        std::fprintf(stderr, "modinfo: ERROR: could not get modinfo from '%s': %s\n", index::module_name_of_path(path).c_str(),
                     std::strerror(code));
        return 1;
    };
    // Only the headers, .modinfo and the signature at the end of an
    // uncompressed file are read. Signatures of Debian's modules are under
    // 700 bytes; a longer one is read on a second pass.
    std::size_t tail = 4096;
    auto bytes = elf::read_module_file(path, {{".modinfo"}, tail, false}, file);
    if (std::size_t needed = bytes ? elf::module_signature_extent(*bytes) : 0; needed > tail)
        bytes = elf::read_module_file(path, {{".modinfo"}, needed, false}, file);
    if (!bytes) return fail(bytes.error().code());
    auto elf = elf::ElfFile::parse(*bytes, elf::Machines::Any);  // modules of every architecture
    if (!elf) {
        const auto* malformed = elf.error().detail<elf::MalformedElf>();
        return fail(malformed && malformed->foreign ? ENOEXEC : EINVAL);
    }
    std::vector<std::pair<std::string, std::string>> info;
    if (const elf::Section* s = elf->section(".modinfo")) {
        auto data = elf->contents(*s);
        if (!data) return fail(EINVAL);
        for (auto [key, value] : elf::parse_modinfo(*data)) info.emplace_back(key, value);
    }
    auto signature = elf::read_module_signature(*bytes);
    if (signature && *signature) {
        const elf::ModuleSignature& sig = **signature;
        info.emplace_back("sig_id", sig.id_type);
        info.emplace_back("signer", sig.signer);
        info.emplace_back("sig_key", hex(sig.key_id));
        info.emplace_back("sig_hashalgo", sig.hash_algorithm);
        info.emplace_back("signature", hex(sig.signature));
    }

    return print_info(o, info);
}

// A umod module (PATH.so): the same listing as for a .ko, from the public
// metadata reader (<umod/metadata.h>); none of its code runs.
int modinfo_umod(const Options& o, const std::string& path) {
    if (emit_filename(o, path)) return 0;
    auto metadata = read_module_metadata(path);
    if (!metadata) {
        std::fprintf(stderr, "modinfo: ERROR: could not get modinfo from '%s': %s (%s)\n",
                     module_name_from_path(path).c_str(), std::strerror(metadata.error().code()),
                     metadata.error().message().c_str());
        return 1;
    }
    std::vector<std::pair<std::string, std::string>> info(metadata->modinfo.begin(), metadata->modinfo.end());
    if (const auto& sig = metadata->signature) {
        info.emplace_back("sig_id", sig->id_type);
        info.emplace_back("signer", sig->signer);
        info.emplace_back("sig_key", hex(sig->key_id));
        info.emplace_back("sig_hashalgo", sig->hash_algorithm);
        info.emplace_back("signature", hex(sig->signature));
    }
    return print_info(o, info);
}

bool is_umod_module_path(std::string_view path) { return path.size() > 3 && path.ends_with(".so"); }

}  // namespace

int modinfo_main(std::string_view, std::span<char* const> args) {
    // A module loaded in a live host (--pid PID or --host SOCKET; -p is kmod's --parameters).
    if (names_host(args, PidOption::LongOnly)) return live_main("modinfo", args, nullptr, PidOption::LongOnly);
    Options o;
    bool by_name_only = false;
    std::string root, version;
    std::string argv0 = "modinfo";
    std::vector<char*> argv = getopt_argv(argv0, args);
    static const option long_options[] = {
        {"author", no_argument, nullptr, 'a'},     {"description", no_argument, nullptr, 'd'},
        {"license", no_argument, nullptr, 'l'},    {"parameters", no_argument, nullptr, 'p'},
        {"filename", no_argument, nullptr, 'n'},   {"null", no_argument, nullptr, '0'},
        {"field", required_argument, nullptr, 'F'}, {"help", no_argument, nullptr, 'h'},
        {"modname", no_argument, nullptr, 'm'},    {"set-version", required_argument, nullptr, 'k'},
        {"basedir", required_argument, nullptr, 'b'}, {"version", no_argument, nullptr, 'V'},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(static_cast<int>(argv.size()) - 1, argv.data(), "adlpn0mF:k:b:Vh", long_options,
                                 nullptr)) != -1;) {
        switch (c) {
            case 'a': o.field = "author"; break;
            case 'd': o.field = "description"; break;
            case 'l': o.field = "license"; break;
            case 'p': o.field = "parm"; break;
            case 'n': o.field = "filename"; break;
            case '0': o.separator = '\0'; break;
            case 'F': o.field = optarg; break;
            case 'm': by_name_only = true; break;
            case 'k': version = optarg; break;
            case 'b': root = optarg; break;
            case 'V': return print_version();
            case 'h':
                std::printf("Usage:\n\tmodinfo [options] <modulename|filename>...\n"
                            "Options: -a -d -l -p -n -0 -m -F FIELD -k VERSION -b BASEDIR (as kmod's modinfo)\n");
                return 0;
            default: return 1;
        }
    }
    if (optind >= static_cast<int>(argv.size()) - 1) {
        std::fprintf(stderr, "modinfo: ERROR: missing module or filename.\n");
        return 1;
    }
    std::string dirname = module_directory(root, version);
    // Opened on the first name: the indexes, a lookup session over them (no
    // modprobe.d configuration), and the built-ins' modules.builtin.modinfo
    // records, read once when the first built-in is listed.
    std::optional<index::ModuleIndex> module_index;
    const index::ModprobeConfig no_config;
    std::optional<index::ModprobeSession> session;
    std::optional<std::map<std::string, std::vector<std::pair<std::string, std::string>>, std::less<>>> builtin_info;
    int status = 0;
    elf::ModuleFileBuffer buffer;  // one for all files
    for (int i = optind; i < static_cast<int>(argv.size()) - 1; ++i) {
        std::string arg = argv[static_cast<std::size_t>(i)];
        std::error_code ec;
        if (!by_name_only && is_umod_module_path(arg) && std::filesystem::is_regular_file(arg, ec)) {
            status |= modinfo_umod(o, arg);
            std::fflush(stdout);
            continue;
        }
        if (!by_name_only && std::filesystem::is_regular_file(arg, ec) && has_module_extension(arg)) {
            status |= modinfo_file(o, arg, buffer);
            std::fflush(stdout);
            continue;
        }
        if (!module_index) {
            module_index.emplace(index::ModuleIndex::open(dirname));
            session.emplace(*module_index, no_config);
        }
        auto found = by_name_only ? session->lookup_name(arg) : session->lookup_indexes(arg);
        if (!found && found.error().detail<index::UnmatchedBracket>() == nullptr) {
            std::fprintf(stderr, "modinfo: ERROR: %s\n", found.error().message().c_str());
            status = 1;
            continue;
        }
        // Modules with a file or built in; kmod finds nothing to list for others.
        std::vector<std::pair<index::ProbeModule*, bool>> listed;  // (module, built in)
        for (index::ProbeModule* m : found ? *found : std::vector<index::ProbeModule*>()) {
            auto builtin = session->is_builtin(*m);
            auto path = session->path(*m);
            if (!builtin || !path) {
                std::fprintf(stderr, "modinfo: ERROR: %s\n", (!builtin ? builtin.error() : path.error()).message().c_str());
                status = 1;
                continue;
            }
            if (*builtin || !path->empty()) listed.emplace_back(m, *builtin);
        }
        if (listed.empty()) {
            std::fprintf(stderr, by_name_only ? "modinfo: ERROR: Module name %s not found.\n"
                                              : "modinfo: ERROR: Module %s not found.\n",
                         arg.c_str());
            status = 1;
        }
        for (auto [m, builtin] : listed) {
            if (!builtin) {
                status |= modinfo_file(o, m->path, buffer);
                continue;
            }
            if (!builtin_info) {
                builtin_info.emplace();
                // A missing file lists built-ins without records, as before.
                (void)index::read_builtin_modinfo(dirname, [&](std::string_view module, std::string_view key,
                                                               std::string_view value) {
                    (*builtin_info)[std::string(module)].emplace_back(key, value);
                });
            }
            static const std::vector<std::pair<std::string, std::string>> none;
            auto it = builtin_info->find(m->name);
            status |= modinfo_builtin(o, m->name, it == builtin_info->end() ? none : it->second);
        }
        std::fflush(stdout);
    }
    return status;
}

}  // namespace umod::tool
