// The request table, the parser of a request's words, and the frames they
// travel in (docs/control.md). Every input here is hostile: the fuzzer
// (fuzz/control_fuzz.cpp) feeds it arbitrary bytes.
#include <cerrno>
#include <charconv>
#include <cstdint>

#include <umod/control.h>

namespace umod::control {

namespace {

constexpr VerbInfo kVerbs[] = {
    {Verb::Lsmod, "lsmod", "lsmod [--json]", "the modules, as lsmod lists them", Changes::No},
    {Verb::ProcModules, "proc-modules", "proc-modules", "the modules in /proc/modules' layout", Changes::No},
    {Verb::Holders, "holders", "holders MODULE [--json]", "who holds MODULE: static uses, references per symbol",
     Changes::No},
    {Verb::Graph, "graph", "graph [--json|--dot]", "the whole graph: modules, exports, uses with counts",
     Changes::No},
    {Verb::Modinfo, "modinfo", "modinfo MODULE [--json]", "a loaded module: state, licence, exports, users",
     Changes::No},
    {Verb::Monitor, "monitor", "monitor [--json] [-n COUNT]", "a stream of events: load, unload, get, put, leak",
     Changes::No},
    {Verb::Status, "status", "status", "the host: pid, program, number of modules, access", Changes::No},
    {Verb::Insmod, "insmod", "insmod PATH [name=value...]", "load a module file", Changes::Yes},
    {Verb::Rmmod, "rmmod", "rmmod [-f|--force] [-w|--wait[=MS]] MODULE", "unload a module", Changes::Yes},
    {Verb::Track, "track", "track [off|counts|stacks]", "show or set the tracking level", Changes::Yes},
    {Verb::Reload, "reload", "reload [-f] [-w|--wait[=MS]] [--dry-run] MODULE FILE [name=value...]",
     "replace MODULE by FILE, its dependents reloaded, rolled back on failure (--dry-run: the plan)", Changes::Yes},
};

Error usage(const VerbInfo& verb, std::string what) {
    return Error(EINVAL, std::string(verb.name) + ": " + what + " (usage: " + std::string(verb.usage) + ")");
}

// Milliseconds, as a decimal number no larger than kMaxWait.
Expected<std::chrono::milliseconds> parse_wait(const VerbInfo& verb, std::string_view text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return usage(verb, "--wait=" + std::string(text) + " is not a number of milliseconds");
    if (value > static_cast<std::uint64_t>(kMaxWait.count()))
        return usage(verb, "--wait=" + std::string(text) + " is longer than " +
                               std::to_string(kMaxWait.count()) + " ms");
    return std::chrono::milliseconds(value);
}

}  // namespace

std::span<const VerbInfo> verbs() { return kVerbs; }

const VerbInfo* find_verb(std::string_view name) {
    for (const VerbInfo& v : kVerbs)
        if (v.name == name) return &v;
    return nullptr;
}

Expected<Request> parse_request(std::span<const std::string> words) {
    if (words.empty()) return Error(EINVAL, "an empty request");
    const VerbInfo* verb = find_verb(words[0]);
    if (verb == nullptr) return Error(EINVAL, "unknown request '" + words[0] + "'");
    Request request;
    request.verb = verb->verb;
    std::vector<std::string_view> operands;
    // --json everywhere: listings answer in JSON, and so does any error.
    bool json_ok = true;
    for (std::size_t i = 1; i < words.size(); ++i) {
        std::string_view w = words[i];
        if ((verb->verb == Verb::Insmod && !operands.empty()) || (verb->verb == Verb::Reload && operands.size() >= 2)) {
            // After the file: module parameters, name=value.
            if (w.find('=') == std::string_view::npos || w.front() == '=')
                return usage(*verb, "'" + std::string(w) + "' is not a parameter (name=value)");
            request.params.emplace_back(w);
            continue;
        }
        if (w == "--json" && json_ok) {
            request.format = Format::Json;
        } else if (w == "--dot" && verb->verb == Verb::Graph) {
            request.format = Format::Dot;
        } else if (verb->verb == Verb::Rmmod && (w == "-f" || w == "--force")) {
            request.unload.mode = UnloadMode::Force;
        } else if (verb->verb == Verb::Rmmod && (w == "-w" || w == "--wait")) {
            request.unload.wait = kDefaultWait;
        } else if (verb->verb == Verb::Rmmod && w.starts_with("--wait=")) {
            auto wait = parse_wait(*verb, w.substr(7));
            if (!wait) return wait.error();
            request.unload.wait = *wait;
        } else if (verb->verb == Verb::Reload && (w == "-f" || w == "--force")) {
            request.reload.mode = ReloadMode::Force;
        } else if (verb->verb == Verb::Reload && (w == "-w" || w == "--wait")) {
            request.reload.wait = kDefaultWait;
        } else if (verb->verb == Verb::Reload && w.starts_with("--wait=")) {
            auto wait = parse_wait(*verb, w.substr(7));
            if (!wait) return wait.error();
            request.reload.wait = *wait;
        } else if (verb->verb == Verb::Reload && w == "--dry-run") {
            request.dry_run = true;
        } else if (verb->verb == Verb::Monitor && (w == "-n" || w.starts_with("--count="))) {
            std::string_view text = w == "-n" ? (i + 1 < words.size() ? std::string_view(words[++i]) : "")
                                              : w.substr(8);
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), request.count);
            if (text.empty() || ec != std::errc() || end != text.data() + text.size())
                return usage(*verb, "'" + std::string(text) + "' is not a number of events");
        } else if (w.size() > 1 && w.front() == '-') {
            return usage(*verb, "unknown option '" + std::string(w) + "'");
        } else {
            operands.push_back(w);
        }
    }
    auto want = [&](std::size_t n) -> Status {
        if (operands.size() < n) return usage(*verb, "missing argument");
        if (operands.size() > n) return usage(*verb, "unexpected argument '" + std::string(operands[n]) + "'");
        return {};
    };
    switch (verb->verb) {
        case Verb::Holders:
        case Verb::Modinfo:
        case Verb::Rmmod:
        case Verb::Insmod:
            if (Status s = want(1); !s) return s.error();
            request.module = std::string(operands[0]);
            if (request.module.empty()) return usage(*verb, "an empty module name");
            break;
        case Verb::Reload:
            if (Status s = want(2); !s) return s.error();
            request.module = std::string(operands[0]);
            request.file = std::string(operands[1]);
            if (request.module.empty() || request.file.empty()) return usage(*verb, "an empty argument");
            break;
        case Verb::Track:
            if (operands.size() > 1) return usage(*verb, "unexpected argument '" + std::string(operands[1]) + "'");
            if (!operands.empty()) {
                auto level = parse_track_level(operands[0]);
                if (!level) return level.error();
                request.track = *level;
            }
            break;
        default:
            if (Status s = want(0); !s) return s.error();
            break;
    }
    return request;
}

std::string frame(std::string_view payload) {
    std::string out;
    out.reserve(4 + payload.size());
    auto n = static_cast<std::uint32_t>(payload.size());
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
    out += payload;
    return out;
}

std::string encode_request(std::span<const std::string> words) {
    std::string payload;
    for (const std::string& w : words) {
        payload += w;
        payload += '\0';
    }
    return frame(payload);
}

Expected<std::vector<std::string>> decode_request(std::string_view payload) {
    if (payload.size() > kMaxRequest)
        return Error(EMSGSIZE, "a request of " + std::to_string(payload.size()) + " bytes (at most " +
                                   std::to_string(kMaxRequest) + ")");
    if (payload.empty()) return Error(EINVAL, "an empty request");
    if (payload.back() != '\0') return Error(EINVAL, "a request whose last word is not NUL-terminated");
    std::vector<std::string> words;
    while (!payload.empty()) {
        std::size_t nul = payload.find('\0');
        if (words.size() == kMaxWords)
            return Error(EMSGSIZE, "a request of more than " + std::to_string(kMaxWords) + " words");
        if (nul > kMaxWord)
            return Error(EMSGSIZE, "a word of more than " + std::to_string(kMaxWord) + " bytes");
        words.emplace_back(payload.substr(0, nul));
        payload.remove_prefix(nul + 1);
    }
    if (words.front().empty()) return Error(EINVAL, "a request with an empty verb");
    return words;
}

}  // namespace umod::control
