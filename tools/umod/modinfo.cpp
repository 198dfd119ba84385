// umod modinfo — what kmod 30's modinfo prints, for module files.
//   umod modinfo [-a|-d|-l|-p|-n|-F FIELD] [-0] FILE...
// An argument that is not a module file is looked up as kmod does, by name,
// symbol or alias, in BASEDIR/lib/modules/KVER (-b, -k; default / and the
// running kernel); -m looks up module names only.
#include <getopt.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
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
    if (bytes.empty()) return {};
    std::string out(bytes.size() * 3 - 1 + (bytes.size() - 1) / 20 * 3, '\0');
    char* p = out.data();
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        *p++ = kDigits[bytes[i] >> 4];
        *p++ = kDigits[bytes[i] & 15];
        if (i + 1 < bytes.size()) {
            *p++ = ':';
            if ((i + 1) % 20 == 0) *p++ = '\n', *p++ = '\t', *p++ = '\t';
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

// What one argument prints, in order: what goes to stdout and what to
// stderr, as consecutive runs. Made on any thread, printed through stdio on
// the main one in the same order (so stdio's buffering treats both streams
// as if they had been written directly).
class Output {
public:
    explicit Output(const Options& o) : options_(&o) {}
    const Options& options() const { return *options_; }

    // One field line: the pieces, then the separator.
    template <class... Pieces>
    void line(const Pieces&... pieces) {
        to(false);
        (bytes_.append(pieces), ...);
        bytes_ += options_->separator;
    }
    template <class... Args>
    void error(fmt::format_string<Args...> format, Args&&... args) {
        to(true);
        fmt::format_to(std::back_inserter(bytes_), format, std::forward<Args>(args)...);
    }
    void print() const {
        for (std::size_t i = 0; i < runs_.size(); ++i) {
            std::size_t begin = runs_[i].second, end = i + 1 < runs_.size() ? runs_[i + 1].second : bytes_.size();
            std::fwrite(bytes_.data() + begin, 1, end - begin, runs_[i].first ? stderr : stdout);
        }
    }

private:
    void to(bool is_error) {
        if (runs_.empty() || runs_.back().first != is_error) runs_.emplace_back(is_error, bytes_.size());
    }

    const Options* options_;
    std::string bytes_;
    std::vector<std::pair<bool, std::size_t>> runs_;  // (to stderr, where the run starts in bytes_)
};

// Merges parm/parmtype per parameter; kmod lists them newest first.
void add_param(Output& out, std::vector<Param>& params, std::string_view key, std::string_view value) {
    auto colon = value.find(':');
    if (colon == std::string_view::npos) {
        out.error("modinfo: ERROR: Found invalid \"{}={}\": missing ':'\n", key, value);
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

void print_params(Output& out, const std::vector<Param>& params, std::string_view prefix) {
    for (const Param& p : params) {
        if (!p.has_description && !prefix.empty())  // kmod words a type alone differently in the two listings
            out.line(prefix, p.name, ":", p.type);
        else if (!p.has_description)
            out.line(p.name, ": (", p.type, ")");
        else if (p.has_type)
            out.line(prefix, p.name, ":", p.description, " (", p.type, ")");
        else
            out.line(prefix, p.name, ":", p.description);
    }
}

using ModinfoFields = std::vector<std::pair<std::string_view, std::string_view>>;

// The .modinfo listing: every key (or only -F's), parameters merged at the end.
int print_info(Output& out, const ModinfoFields& info) {
    const Options& o = out.options();
    std::vector<Param> params;
    bool only_parms = o.field != nullptr && std::strcmp(o.field, "parm") == 0;
    static constexpr std::string_view kPad = "               ";  // 15 blanks
    for (const auto& [key, value] : info) {
        if (only_parms) {
            if (key == "parm" || key == "parmtype") add_param(out, params, key, value);
            continue;
        }
        if (o.field != nullptr) {
            if (key == o.field) out.line(value);
            continue;
        }
        if (key == "parm" || key == "parmtype") {
            add_param(out, params, key, value);
            continue;
        }
        if (o.separator == '\0')
            out.line(key, "=", value);
        else  // the key and its colon padded to 16 columns (none past 15 characters)
            out.line(key, ":", kPad.substr(0, key.size() < 15 ? 15 - key.size() : 0), value);
    }
    if (only_parms)
        print_params(out, params, "");
    else if (o.field == nullptr)
        print_params(out, params, "parm:           ");
    return 0;
}

// The signature fields kmod lists after .modinfo's; `owned` keeps their text.
template <class Signature>  // elf::ModuleSignature or umod::SignatureInfo: the same fields
void add_signature(ModinfoFields& info, std::vector<std::string>& owned, const Signature& sig) {
    owned.reserve(owned.size() + 2);  // the views below must not move
    info.emplace_back("sig_id", sig.id_type);
    info.emplace_back("signer", sig.signer);
    info.emplace_back("sig_key", owned.emplace_back(hex(sig.key_id)));
    info.emplace_back("sig_hashalgo", sig.hash_algorithm);
    info.emplace_back("signature", owned.emplace_back(hex(sig.signature)));
}

// A built-in module: its name, "(builtin)", and its modules.builtin.modinfo records.
int modinfo_builtin(Output& out, const std::string& name, const std::vector<std::pair<std::string, std::string>>& records) {
    const Options& o = out.options();
    if (o.field == nullptr)
        out.line(fmt::format("{:<16}{}", "name:", name));
    else if (std::strcmp(o.field, "name") == 0)
        out.line(name);
    if (o.field == nullptr)
        out.line(fmt::format("{:<16}{}", "filename:", "(builtin)"));
    else if (std::strcmp(o.field, "filename") == 0) {
        out.line("(builtin)");
        return 0;
    }
    ModinfoFields info(records.begin(), records.end());
    return print_info(out, info);
}

// The first line, "filename:" and the absolute path, as kmod prints it; true
// when -F filename asked for nothing else.
bool emit_filename(Output& out, const std::string& path) {
    const Options& o = out.options();
    std::string filename = path[0] == '/' ? path : std::filesystem::current_path().string() + "/" + path;
    if (o.field == nullptr) {
        out.line(fmt::format("{:<16}", "filename:"), filename);
        return false;
    }
    if (std::strcmp(o.field, "filename") != 0) return false;
    out.line(filename);
    return true;
}

int modinfo_file(Output& out, const std::string& path, elf::ModuleFileBuffer& file) {
    if (emit_filename(out, path)) return 0;
    auto fail = [&](int code) {
        out.error("modinfo: ERROR: could not get modinfo from '{}': {}\n", index::module_name_of_path(path),
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
    ModinfoFields info;  // views into the file's bytes and `owned`
    std::vector<std::string> owned;
    if (const elf::Section* s = elf->section(".modinfo")) {
        auto data = elf->contents(*s);
        if (!data) return fail(EINVAL);
        info = elf::parse_modinfo(*data);
    }
    auto signature = elf::read_module_signature(*bytes);
    if (signature && *signature) add_signature(info, owned, **signature);
    return print_info(out, info);
}

// A umod module (PATH.so): the same listing as for a .ko, from the public
// metadata reader (<umod/metadata.h>); none of its code runs.
int modinfo_umod(Output& out, const std::string& path) {
    if (emit_filename(out, path)) return 0;
    auto metadata = read_module_metadata(path);
    if (!metadata) {
        out.error("modinfo: ERROR: could not get modinfo from '{}': {} ({})\n", module_name_from_path(path),
                  std::strerror(metadata.error().code()), metadata.error().message());
        return 1;
    }
    ModinfoFields info(metadata->modinfo.begin(), metadata->modinfo.end());
    std::vector<std::string> owned;
    if (const auto& sig = metadata->signature) add_signature(info, owned, *sig);
    return print_info(out, info);
}

// Module files named on the command line, read on two threads: each thread
// takes the next file not yet taken; the main thread prints them in order,
// and while the one it needs is still being read by the helper it reads the
// next ones itself. No file is taken more than kAhead past the last printed.
class FilesAhead {
public:
    static constexpr std::size_t kAhead = 64;

    struct Slot {
        std::atomic<bool> done{false};
        std::optional<Output> out;
        int status = 0;
        bool not_a_file = false;  // not a regular file: the main thread looks it up by name
    };

    FilesAhead(const Options& o, std::vector<std::string> paths)
        : options_(o), paths_(std::move(paths)), slots_(paths_.size()) {
        if (paths_.size() >= 16) helper_ = std::jthread([this] { help(); });
    }
    ~FilesAhead() {
        stop_.store(true);
        printed_.fetch_add(kAhead * 4);
        printed_.notify_all();
    }

    // File i, once read (by either thread).
    Slot& get(std::size_t i) {
        Slot& slot = slots_[i];
        while (!slot.done.load(std::memory_order_acquire)) {
            if (next_.load(std::memory_order_relaxed) < std::min(paths_.size(), i + kAhead)) {
                if (std::size_t j = next_.fetch_add(1, std::memory_order_relaxed); j < paths_.size()) make(j, buffer_);
                continue;
            }
            slot.done.wait(false, std::memory_order_acquire);
        }
        return slot;
    }
    // File i has been printed: the helper may take more.
    void printed(std::size_t i) {
        slots_[i].out.reset();
        printed_.store(i + 1, std::memory_order_release);
        printed_.notify_one();
    }

private:
    void make(std::size_t i, elf::ModuleFileBuffer& buffer) {
        Slot& slot = slots_[i];
        std::error_code ec;
        slot.out.emplace(options_);
        if (!std::filesystem::is_regular_file(paths_[i], ec))
            slot.not_a_file = true;
        else
            slot.status = modinfo_file(*slot.out, paths_[i], buffer);
        slot.done.store(true, std::memory_order_release);
        slot.done.notify_one();
    }
    void help() {
        elf::ModuleFileBuffer buffer;
        while (!stop_.load(std::memory_order_relaxed)) {
            std::size_t i = next_.fetch_add(1, std::memory_order_relaxed);
            if (i >= paths_.size()) break;
            for (std::size_t p; i >= (p = printed_.load(std::memory_order_acquire)) + kAhead;) printed_.wait(p);
            if (stop_.load(std::memory_order_relaxed)) break;
            make(i, buffer);
        }
    }

    const Options& options_;
    std::vector<std::string> paths_;
    std::vector<Slot> slots_;
    elf::ModuleFileBuffer buffer_;  // the main thread's
    std::atomic<std::size_t> next_{0};     // the next file not taken
    std::atomic<std::size_t> printed_{0};  // files printed
    std::atomic<bool> stop_{false};
    std::jthread helper_;  // last: joined before the rest goes
};

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
    elf::ModuleFileBuffer buffer;  // for the files modules are found in
    // Arguments that name a Linux module file, read ahead.
    std::vector<std::string> args_as_files;
    std::vector<std::size_t> file_slot(argv.size(), SIZE_MAX);
    for (int i = optind; i < static_cast<int>(argv.size()) - 1; ++i) {
        std::string_view arg = argv[static_cast<std::size_t>(i)];
        if (by_name_only || is_umod_module_path(arg) || !has_module_extension(arg)) continue;
        file_slot[static_cast<std::size_t>(i)] = args_as_files.size();
        args_as_files.emplace_back(arg);
    }
    FilesAhead files(o, std::move(args_as_files));
    // Printed through stdio as kmod prints (stdout buffered, stderr not):
    // the two streams interleave as kmod's do when they share a file.
    auto flush = [](const Output& out) { out.print(); };
    for (int i = optind; i < static_cast<int>(argv.size()) - 1; ++i) {
        std::string arg = argv[static_cast<std::size_t>(i)];
        std::error_code ec;
        if (std::size_t slot = file_slot[static_cast<std::size_t>(i)]; slot != SIZE_MAX) {
            FilesAhead::Slot& file = files.get(slot);
            bool looked_up = file.not_a_file;
            if (!looked_up) {
                flush(*file.out);
                status |= file.status;
            }
            files.printed(slot);
            if (!looked_up) continue;
        } else if (!by_name_only && is_umod_module_path(arg) && std::filesystem::is_regular_file(arg, ec)) {
            Output out(o);
            status |= modinfo_umod(out, arg);
            flush(out);
            continue;
        }
        if (!module_index) {
            module_index.emplace(index::ModuleIndex::open(dirname));
            session.emplace(*module_index, no_config);
        }
        Output out(o);
        auto found = by_name_only ? session->lookup_name(arg) : session->lookup_indexes(arg);
        if (!found && found.error().detail<index::UnmatchedBracket>() == nullptr) {
            out.error("modinfo: ERROR: {}\n", found.error().message());
            out.print();
            status = 1;
            continue;
        }
        // Modules with a file or built in; kmod finds nothing to list for others.
        std::vector<std::pair<index::ProbeModule*, bool>> listed;  // (module, built in)
        for (index::ProbeModule* m : found ? *found : std::vector<index::ProbeModule*>()) {
            auto builtin = session->is_builtin(*m);
            auto path = session->path(*m);
            if (!builtin || !path) {
                out.error("modinfo: ERROR: {}\n", (!builtin ? builtin.error() : path.error()).message());
                status = 1;
                continue;
            }
            if (*builtin || !path->empty()) listed.emplace_back(m, *builtin);
        }
        if (listed.empty()) {
            if (by_name_only)
                out.error("modinfo: ERROR: Module name {} not found.\n", arg);
            else
                out.error("modinfo: ERROR: Module {} not found.\n", arg);
            status = 1;
        }
        for (auto [m, builtin] : listed) {
            if (!builtin) {
                status |= modinfo_file(out, m->path, buffer);
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
            status |= modinfo_builtin(out, m->name, it == builtin_info->end() ? none : it->second);
        }
        flush(out);
    }
    return status;
}

}  // namespace umod::tool
