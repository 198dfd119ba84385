#include "index/modprobe_config.h"

#include "index/config_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstring>

namespace umod::index {

const std::vector<std::string>& default_config_paths() {
    static const std::vector<std::string> paths{"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
                                                "/lib/modprobe.d"};
    return paths;
}

std::string underscores(std::string_view s) {
    std::string out(s);
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '-') {
            out[i] = '_';
        } else if (out[i] == '[') {
            std::size_t close = out.find(']', i);
            if (close == std::string::npos) break;  // unmatched: libkmod only mentions it at INFO level
            i = close;
        }
    }
    return out;
}

namespace {

// libkmod's checked underscores() (shared/util.c), which the kernel command
// line goes through: '-' as '_' outside [...]; false at a ']' without '[' or a
// '[' without ']', `s` then converted up to there.
bool underscores_checked(std::string& s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '-') {
            s[i] = '_';
        } else if (s[i] == ']') {
            return false;
        } else if (s[i] == '[') {
            i = s.find(']', i);
            if (i == std::string::npos) return false;
        }
    }
    return true;
}

// kmod's getline_wrapped(): one logical line ("\\\n" joins lines; a
// backslash before anything else is dropped), and the number of the last
// physical line it took.
class LineReader {
public:
    explicit LineReader(std::string_view text) : text_(text) {}
    bool next(std::string& line, unsigned& linenum) {
        line.clear();
        if (pos_ >= text_.size()) return false;
        unsigned taken = 0;
        while (true) {
            if (pos_ >= text_.size()) {
                ++taken;
                break;
            }
            char ch = text_[pos_++];
            if (ch == '\n') {
                ++taken;
                break;
            }
            if (ch == '\\') {
                if (pos_ < text_.size() && text_[pos_] == '\n') {
                    ++pos_;
                    ++taken;
                    continue;
                }
                // getc() after the backslash: the next character, or EOF as (char)-1.
                ch = pos_ < text_.size() ? text_[pos_++] : static_cast<char>(-1);
            }
            line += ch;
        }
        linenum_ += taken;
        linenum = linenum_;
        return true;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
    unsigned linenum_ = 0;
};

// strtok_r() over one line.
class Tokens {
public:
    explicit Tokens(std::string_view line) : line_(line) {}
    // The next word separated by spaces and tabs; false at the end.
    bool word(std::string_view& out) {
        while (pos_ < line_.size() && (line_[pos_] == ' ' || line_[pos_] == '\t')) ++pos_;
        if (pos_ >= line_.size()) return false;
        std::size_t start = pos_;
        while (pos_ < line_.size() && line_[pos_] != ' ' && line_[pos_] != '\t') ++pos_;
        out = line_.substr(start, pos_ - start);
        if (pos_ < line_.size()) ++pos_;  // strtok_r consumes the one delimiter that ended the word
        return true;
    }
    // strtok_r(NULL, "\0", ...): everything left, as is; false when nothing is.
    bool rest(std::string_view& out) {
        if (pos_ >= line_.size()) return false;
        out = line_.substr(pos_);
        pos_ = line_.size();
        return true;
    }

private:
    std::string_view line_;
    std::size_t pos_ = 0;
};

ConfigSoftdep make_softdep(std::string modname, std::string_view spec) {
    ConfigSoftdep dep;
    dep.modname = std::move(modname);
    // libkmod copies every pre: and post: word, in order, into one buffer and
    // prints each list as the bytes from its first word to its last — words
    // of the other list in between included — with no space before "post:".
    std::string buffer;
    std::size_t pre_start = 0, pre_end = 0, post_start = 0, post_end = 0;
    enum { None, Pre, Post } mode = None;
    for (std::size_t i = 0; i < spec.size();) {
        while (i < spec.size() && std::isspace(static_cast<unsigned char>(spec[i]))) ++i;
        std::size_t start = i;
        while (i < spec.size() && !std::isspace(static_cast<unsigned char>(spec[i]))) ++i;
        if (i == start) break;
        std::string_view word = spec.substr(start, i - start);
        if (word == "pre:") {
            mode = Pre;
        } else if (word == "post:") {
            mode = Post;
        } else if (mode != None) {
            std::size_t at = buffer.size();
            buffer.append(word);
            buffer += '\0';
            if (mode == Pre) {
                if (dep.pre.empty()) pre_start = at;
                pre_end = at + word.size();
                dep.pre.emplace_back(word);
            } else {
                if (dep.post.empty()) post_start = at;
                post_end = at + word.size();
                dep.post.emplace_back(word);
            }
        }
    }
    auto render = [&](const char* label, std::size_t start, std::size_t end) {
        dep.plain += label;
        for (std::size_t k = start; k < end; ++k) dep.plain += buffer[k] == '\0' ? ' ' : buffer[k];
    };
    if (!dep.pre.empty()) render("pre: ", pre_start, pre_end);
    if (!dep.post.empty()) render("post: ", post_start, post_end);
    return dep;
}

}  // namespace

void ModprobeConfig::parse(std::string_view text, const std::string& file, std::vector<ConfigDiagnostic>& diagnostics) {
    LineReader lines(text);
    std::string line;
    unsigned linenum = 0;
    while (lines.next(line, linenum)) {
        std::string_view l(line.c_str());  // libkmod's lines are C strings: a NUL ends one
        if (l.empty() || l[0] == '#') continue;
        Tokens tokens(l);
        std::string_view cmd, a, b;
        if (!tokens.word(cmd)) continue;
        bool ok = true;
        if (cmd == "alias") {
            ok = tokens.word(a) && tokens.word(b);
            if (ok) aliases.push_back({underscores(a), underscores(b)});
        } else if (cmd == "blacklist") {
            ok = tokens.word(a);
            if (ok) blacklists.push_back(underscores(a));
        } else if (cmd == "options") {
            ok = tokens.word(a) && tokens.rest(b);
            if (ok) {
                std::string opts(b);
                for (char& c : opts)
                    if (c == '\t') c = ' ';
                options.push_back({underscores(a), std::move(opts)});
            }
        } else if (cmd == "install" || cmd == "remove") {
            ok = tokens.word(a) && tokens.rest(b);
            if (ok) (cmd == "install" ? install_commands : remove_commands).push_back({underscores(a), std::string(b)});
        } else if (cmd == "softdep") {
            ok = tokens.word(a) && tokens.rest(b);
            if (ok) softdeps.push_back(make_softdep(underscores(a), b));
        } else if (cmd == "include" || cmd == "config") {
            diagnostics.push_back({ConfigDiagnostic::Kind::Deprecated, file, linenum, std::string(cmd)});
        } else {
            ok = false;
        }
        if (!ok) diagnostics.push_back({ConfigDiagnostic::Kind::BadLine, file, linenum, std::string(cmd)});
    }
}

void ModprobeConfig::parse_kernel_cmdline(std::string_view cmdline, std::vector<ConfigDiagnostic>& diagnostics) {
    // libkmod reads at most 4095 bytes of /proc/cmdline, as a C string.
    std::string buf(cmdline.substr(0, 4095));
    buf.resize(std::strlen(buf.c_str()));
    buf.push_back('\0');
    constexpr std::size_t npos = std::string::npos;
    enum { Ignore, Modname, Param, Value, Complete } state = Modname;
    std::size_t modname = 0, param = npos, value = npos, quote_start = npos;
    bool quoted = false, more = true;
    auto c_str_at = [&](std::size_t at) { return std::string(buf.c_str() + at); };
    for (std::size_t p = 0; more && p < buf.size(); ++p) {
        switch (buf[p]) {
            case '"':
                quoted = !quoted;
                if (quoted && state == Modname && p == modname) {
                    quote_start = p;
                    modname = p + 1;
                } else if (state != Value) {
                    state = Ignore;
                }
                break;
            case '\0':
                more = false;
                [[fallthrough]];
            case ' ':
            case '\n':
            case '\t':
            case '\v':
            case '\f':
            case '\r':
                if (quoted && state == Value) {
                } else if (quoted) {
                    state = Ignore;
                } else if (state == Value || state == Param) {
                    buf[p] = '\0';
                    state = Complete;
                } else {
                    modname = p + 1;
                    state = Modname;
                    quote_start = npos;
                }
                break;
            case '.':
                if (state == Modname) {
                    buf[p] = '\0';
                    param = p + 1;
                    state = Param;
                } else if (state == Param) {
                    state = Ignore;
                }
                break;
            case '=':
                if (state == Param) {
                    value = p + 1;
                    state = Value;
                } else if (state == Modname) {
                    state = Ignore;
                }
                break;
            default:
                break;
        }
        if (state != Complete) continue;
        if (quote_start != npos && quote_start < modname && value != npos) {
            // Re-quote what a bootloader quoted whole: "mod.p=a b" -> mod p="a b".
            std::string moved = buf.substr(modname, value - modname);
            buf.replace(quote_start, moved.size(), moved);
            --value;
            --modname;
            --param;
            buf[value] = '"';
        }
        std::string name = c_str_at(modname), par = c_str_at(param);
        if (name == "modprobe" && par.starts_with("blacklist=")) {
            std::string list = c_str_at(value);
            for (std::size_t start = 0;;) {
                std::size_t comma = list.find(',', start);
                blacklists.push_back(list.substr(start, comma == npos ? npos : comma - start));
                if (comma == npos) break;
                start = comma + 1;
            }
        } else if (!underscores_checked(name)) {
            diagnostics.push_back({ConfigDiagnostic::Kind::BadKernelOption, {}, 0, std::move(name)});
        } else {
            for (char& c : par)
                if (c == '\t') c = ' ';
            options.push_back({std::move(name), std::move(par)});
        }
        modname = p + 1;
        param = value = npos;
        state = Modname;
        quote_start = npos;
    }
}

ModprobeConfig ModprobeConfig::load(const std::vector<std::string>& paths, const std::string& dirname,
                                    std::string_view kernel_cmdline, std::vector<ConfigDiagnostic>& diagnostics) {
    // The module directory's modules.softdep first, unchecked, as libkmod lists it.
    int module_dir = ::open(dirname.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    std::vector<ConfigFile> files{{"modules.softdep", dirname + "/modules.softdep",
                                   module_dir < 0 ? nullptr : std::make_shared<const ConfigDirectory>(module_dir)}};
    static constexpr std::string_view kSuffixes[] = {".conf", ".alias"};
    list_config_files(files, paths, kSuffixes, [&](const ConfigListingNote& n) {
        if (n.kind == ConfigListingNote::Kind::NestedDirectory)
            diagnostics.push_back({ConfigDiagnostic::Kind::NestedDirectory, n.path, 0, {}});
    });
    ModprobeConfig config;
    std::string text;
    constexpr std::size_t kMax = std::size_t{64} << 20;  // a device such as /dev/zero never ends
    for (const ConfigFile& f : files)
        if (read_config_file(f, text, kMax)) config.parse(text, f.path, diagnostics);
    config.parse_kernel_cmdline(kernel_cmdline, diagnostics);
    return config;
}

}  // namespace umod::index
