// depmod.d as kmod 30 reads it (see shared/reference/kmod-formats.md §5.1):
// files listed from every path, sorted by name, a name read once; lines
// joined by a backslash before the newline; four directives.
#include "index/depmod_config.h"

#include "index/config_files.h"

#include <regex.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <optional>

namespace umod::index {

namespace {

constexpr int kLogErr = 3, kLogInfo = 6;

// kmod's tool log: "depmod: PRIORITY: message".
[[gnu::format(printf, 4, 5)]] void log_at(std::FILE* log, int verbosity, int priority, const char* format, ...) {
    if (priority > verbosity || log == nullptr) return;
    std::fputs(priority == kLogErr ? "depmod: ERROR: " : "depmod: INFO: ", log);
    va_list args;
    va_start(args, format);
    std::vfprintf(log, format, args);
    va_end(args);
}

// One logical line: a backslash joins the next physical line (both dropped)
// or keeps the character after it. `line_number` ends on the line's last
// physical line. nullopt at the end of the file.
class WrappedLines {
public:
    explicit WrappedLines(std::string_view text) : text_(text) {}

    std::optional<std::string> next(unsigned& line_number) {
        std::string line;
        unsigned lines = 0;
        for (;;) {
            int c = get();
            if (c == EOF && line.empty()) return std::nullopt;
            if (c == EOF || c == '\n') {
                line_number += lines + 1;
                return line;
            }
            if (c == '\\') {
                c = get();
                if (c == '\n') {
                    ++lines;
                    continue;
                }
            }
            line.push_back(static_cast<char>(c));  // after a final backslash: EOF stored as a byte, as kmod does
        }
    }

private:
    int get() { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_++]) : EOF; }

    std::string_view text_;
    std::size_t pos_ = 0;
};

// strtok_r(…, "\t ") over a line.
class Tokens {
public:
    explicit Tokens(std::string_view line) : rest_(line) {}
    std::optional<std::string> next() {
        std::size_t start = rest_.find_first_not_of("\t ");
        if (start == std::string_view::npos) return std::nullopt;
        rest_.remove_prefix(start);
        std::size_t end = std::min(rest_.find_first_of("\t "), rest_.size());
        std::string token(rest_.substr(0, end));
        rest_.remove_prefix(end == rest_.size() ? end : end + 1);
        return token;
    }

private:
    std::string_view rest_;
};

bool kernel_matches(std::string_view kernel_version, const std::string& pattern) {
    if (pattern == "*") return true;
    regex_t re;
    if (regcomp(&re, pattern.c_str(), REG_EXTENDED | REG_NOSUB) != 0) return false;
    std::string version(kernel_version);
    bool match = regexec(&re, version.c_str(), 0, nullptr, 0) == 0;
    regfree(&re);
    return match;
}

void parse_file(DepmodConfig& config, const ConfigFile& file, std::string_view kernel_version, int verbosity,
                std::FILE* log) {
    const std::string& path = file.path;
    std::string text;
    if (!read_config_file(file, text)) {
        log_at(log, verbosity, kLogErr, "file parse %s: %s\n", path.c_str(), std::strerror(errno));
        return;
    }
    WrappedLines lines(text);
    unsigned line_number = 0;
    while (auto line = lines.next(line_number)) {
        if (line->empty() || (*line)[0] == '#') continue;
        Tokens tokens(*line);
        auto command = tokens.next();
        if (!command) continue;
        bool bad = false;
        if (*command == "search") {
            while (auto entry = tokens.next()) {
                if (*entry == "built-in")
                    config.searches.push_back({DepmodConfig::SearchKind::BuiltIn, {}});
                else if (*entry == "external")
                    config.searches.push_back({DepmodConfig::SearchKind::External, {}});
                else
                    config.searches.push_back({DepmodConfig::SearchKind::Path, std::move(*entry)});
            }
        } else if (*command == "override") {
            auto module = tokens.next(), version = tokens.next(), subdir = tokens.next();
            if (!module || !version || !subdir) {
                bad = true;
            } else if (!kernel_matches(kernel_version, *version)) {
                log_at(log, verbosity, kLogInfo, "%s:%u: override kernel did not match %s\n", path.c_str(),
                       line_number, version->c_str());
            } else {
                config.overrides.push_back(*subdir + "/" + *module);
            }
        } else if (*command == "external") {
            auto version = tokens.next(), dir = tokens.next();
            if (!version || !dir) {
                bad = true;
            } else if (!kernel_matches(kernel_version, *version)) {
                log_at(log, verbosity, kLogInfo, "%s:%u: external directory did not match %s\n", path.c_str(),
                       line_number, version->c_str());
            } else {
                config.externals.push_back(std::move(*dir));
            }
        } else if (*command == "exclude") {
            while (auto entry = tokens.next()) config.excludes.push_back(std::move(*entry));
        } else if (*command == "include" || *command == "make_map_files") {
            log_at(log, verbosity, kLogInfo, "%s:%u: command %s not implemented yet\n", path.c_str(), line_number,
                   command->c_str());
        } else {
            bad = true;
        }
        if (bad)
            log_at(log, verbosity, kLogErr, "%s:%u: ignoring bad line starting with '%s'\n", path.c_str(),
                   line_number, command->c_str());
    }
}

// True if `path` is `dir` followed by '/' and more.
bool in_directory(std::string_view path, std::string_view dir) {
    return path.size() > dir.size() && path[dir.size()] == '/' && path.starts_with(dir);
}

}  // namespace

DepmodConfig read_depmod_config(std::span<const std::string> paths, std::string_view kernel_version, int verbosity,
                                std::FILE* log) {
    static const std::vector<std::string> defaults(std::begin(kDepmodConfigDirs), std::end(kDepmodConfigDirs));
    static constexpr std::string_view kSuffixes[] = {".conf"};
    std::vector<ConfigFile> files;
    list_config_files(files, paths.empty() ? std::span<const std::string>(defaults) : paths, kSuffixes,
                          [&](const ConfigListingNote& n) {
                              using Kind = ConfigListingNote::Kind;
                              if (n.kind == Kind::Unreadable)
                                  log_at(log, verbosity, kLogErr, "files list %s: %s\n", n.path.c_str(),
                                         std::strerror(n.error));
                              else if (n.kind == Kind::WrongSuffix)
                                  log_at(log, verbosity, kLogInfo, "All cfg files need .conf: %s\n", n.path.c_str());
                              else
                                  log_at(log, verbosity, kLogErr,
                                         "Directories inside directories are not supported: %s\n", n.path.c_str());
                          });
    DepmodConfig config;
    for (const ConfigFile& f : files) parse_file(config, f, kernel_version, verbosity, log);
    if (config.searches.empty()) config.searches.push_back({DepmodConfig::SearchKind::Path, "updates"});
    return config;
}

bool keep_existing_module(const DepmodConfig& config, std::string_view dirname, std::string_view old_path,
                          std::string_view new_path) {
    // kmod compares each path cut after the module name's length in the file
    // name ("dir/foo-bar" for dir/foo-bar.ko.xz), and relative to the module
    // directory when it starts with it.
    auto cut = [](std::string_view path) {
        std::size_t base = path.rfind('/') + 1;  // npos + 1 == 0
        std::size_t stem = path.find('.', base);
        return stem == std::string_view::npos ? path : path.substr(0, stem);
    };
    auto relative = [&](std::string_view path) -> std::optional<std::string_view> {
        if (!path.starts_with(dirname) || path.size() <= dirname.size()) return std::nullopt;
        return path.substr(dirname.size() + 1);
    };
    std::string_view old_cut = cut(old_path), new_cut = cut(new_path);
    auto old_rel = relative(old_cut), new_rel = relative(new_cut);

    for (auto ov = config.overrides.rbegin(); ov != config.overrides.rend(); ++ov) {
        if (new_rel && *new_rel == *ov) return false;
        if (old_rel && *old_rel == *ov) return true;
    }
    int i = 0, builtin = -1, old_priority = -1, new_priority = -1;
    for (auto se = config.searches.rbegin(); se != config.searches.rend(); ++se, ++i) {
        switch (se->kind) {
            case DepmodConfig::SearchKind::BuiltIn:
                builtin = i;
                break;
            case DepmodConfig::SearchKind::External:
                for (auto ext = config.externals.rbegin(); ext != config.externals.rend(); ++ext, ++i) {
                    if (in_directory(new_cut, *ext)) new_priority = i;
                    if (in_directory(old_cut, *ext)) old_priority = i;
                }
                break;
            case DepmodConfig::SearchKind::Path:
                // As kmod: an entry the new path matches is not tried on the old one.
                if (new_rel && in_directory(*new_rel, se->path))
                    new_priority = i;
                else if (old_rel && in_directory(*old_rel, se->path))
                    old_priority = i;
                break;
        }
    }
    if (new_priority < 0) new_priority = builtin;
    if (old_priority < 0) old_priority = builtin;
    return new_priority <= old_priority;
}

}  // namespace umod::index
