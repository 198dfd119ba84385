// Holders text, JSON and DOT views of the use graph.
#include <umod/views.h>

#include <algorithm>
#include <charconv>
#include <concepts>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "elf/umod_module.h"

namespace umod::views {

namespace {

const ModuleSnapshot* find(const RegistrySnapshot& snapshot, std::string_view name) {
    for (const auto& m : snapshot.modules)
        if (m.name == name) return &m;
    return nullptr;
}

std::string_view license_name(ExportLicense license) {
    return license == ExportLicense::GplOnly ? "gpl" : "any";
}

nlohmann::json frame_json(const StackFrame& f) {
    nlohmann::json j = {{"address", f.address}, {"object", f.object}, {"function", f.function},
                        {"offset", f.offset}, {"text", describe_frame(f)}};
    if (!f.file.empty()) {
        j["file"] = f.file;
        j["line"] = f.line;
    }
    return j;
}

nlohmann::json stack_json(const StackTrace& stack) {
    nlohmann::json frames = nlohmann::json::array();
    for (const StackFrame& f : stack) frames.push_back(frame_json(f));
    return frames;
}

nlohmann::json holder_json(const HolderCounts& h) {
    nlohmann::json symbols = nlohmann::json::object();
    for (const auto& s : h.symbols) symbols[s.name] = s.count;
    nlohmann::json j = {{"user", h.user}, {"kind", h.kind}, {"static", h.static_uses},
                        {"dynamic", h.dynamic}, {"symbols", symbols}};
    if (!h.acquired.empty()) {
        nlohmann::json groups = nlohmann::json::array();
        for (const StackGroup& g : h.acquired)
            groups.push_back({{"symbol", g.symbol}, {"count", g.count}, {"stack", stack_json(g.stack)}});
        j["acquired"] = groups;
    }
    return j;
}

}  // namespace

std::string json(const Error& error) {
    const char* name = strerrorname_np(error.code());
    nlohmann::json j = {{"code", error.code()}, {"errno", name ? name : ""}, {"message", error.message()}};
    if (const auto* put = error.detail<UnmatchedPut>()) {
        nlohmann::json releases = nlohmann::json::array();
        for (const auto& r : put->recent_releases)
            releases.push_back({{"acquired", stack_json(r.acquired)}, {"released", stack_json(r.released)}});
        j["unmatched_put"] = {{"user", put->user}, {"provider", put->provider}, {"symbol", put->symbol},
                              {"put_stack", stack_json(put->put_stack)}, {"recent_releases", releases}};
    }
    if (const auto* in_use = error.detail<ModuleInUse>()) {
        nlohmann::json holders = nlohmann::json::array();
        for (const HolderCounts& h : in_use->holders) holders.push_back(holder_json(h));
        j["module_in_use"] = {{"module", in_use->module}, {"waited", in_use->waited}, {"holders", holders}};
    }
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string json(std::string_view module, const std::vector<HolderCounts>& holders) {
    nlohmann::json list = nlohmann::json::array();
    for (const HolderCounts& h : holders) list.push_back(holder_json(h));
    nlohmann::json j = {{"module", module}, {"holders", list}};
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string json(const Leak& leak) {
    nlohmann::json j = {{"leak", {{"user", leak.user}, {"provider", leak.provider},
                                  {"references", holder_json(leak.references)}}},
                        {"message", describe_leak(leak)}};
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string holders(const RegistrySnapshot& snapshot, std::string_view module) {
    const ModuleSnapshot* m = find(snapshot, module);
    if (m == nullptr) return {};
    std::string out = fmt::format("{}: {} holder{}\n", m->name, m->holders.size(),
                                  m->holders.size() == 1 ? "" : "s");
    for (const HolderCounts& h : m->holders) {
        out += fmt::format("  {:<20} {:<9} static {}  dynamic {}", h.user, h.kind, h.static_uses, h.dynamic);
        for (std::size_t i = 0; i < h.symbols.size(); ++i)
            out += fmt::format("{}{} x{}", i ? ", " : "  (", elf::readable_name(h.symbols[i].name),
                              h.symbols[i].count);  // JSON keeps the link name
        if (!h.symbols.empty()) out += ")";
        out += "\n";
    }
    return out;
}

namespace {

// The graph's JSON written straight into one string, byte for byte what
// nlohmann's dump(2, ' ', false, replace) of the same document prints: keys in
// std::map order (written here already sorted), two spaces per level, empty
// arrays and objects as [] and {}. A control endpoint serves this view to
// polling clients, and building the DOM cost 10x the writing (an allocation
// per key and value); tests/views/graph_json_test.cpp compares the two.
class GraphJsonWriter {
public:
    // Appends to `out`, which holds the text once finish() has run.
    explicit GraphJsonWriter(std::string& out) : out_(out), used_(out.size()) {}
    void finish() { out_.resize(used_); }

    // A string as nlohmann writes it. Printable ASCII without '"' or '\\' is
    // written as it is; anything else (escapes, UTF-8, invalid bytes replaced
    // by U+FFFD) by nlohmann's own serializer, so the rules exist once.
    void value(std::string_view s) {
        bool plain = std::all_of(s.begin(), s.end(), [](char c) {
            auto u = static_cast<unsigned char>(c);
            return u >= 0x20 && u < 0x7F && c != '"' && c != '\\';
        });
        if (!plain) {
            put(nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
            return;
        }
        put("\"");
        put(s);
        put("\"");
    }
    template <std::integral Int>
    void value(Int n) {
        if constexpr (std::is_same_v<Int, bool>) {
            put(n ? std::string_view("true") : std::string_view("false"));
        } else {
            char digits[24];
            char* end = std::to_chars(digits, digits + sizeof digits, n).ptr;
            put(std::string_view(digits, static_cast<std::size_t>(end - digits)));
        }
    }
    template <class T>
    void field(std::string_view name, const T& v) {
        key(name);
        value(v);
    }

    // A container: open, then item() (arrays) or key() (objects) per member, then close.
    void open(std::string_view bracket) {
        put(bracket);
        ++depth_;
        first_ = true;
    }
    void close(std::string_view bracket) {
        --depth_;
        if (!first_) {  // not empty
            put("\n");
            indent();
        }
        put(bracket);
        first_ = false;
    }
    void item() {
        put(first_ ? std::string_view("\n") : std::string_view(",\n"));
        first_ = false;
        indent();
    }
    void key(std::string_view name) {
        item();
        value(name);
        put(": ");
    }
    template <class F>
    void object(F members) {
        open("{");
        members();
        close("}");
    }
    template <class Range, class F>
    void array(const Range& range, F element) {
        open("[");
        for (const auto& e : range) {
            item();
            element(e);
        }
        close("]");
    }
    void strings(const std::vector<std::string>& list) {
        array(list, [&](const std::string& s) { value(s); });
    }

private:
    // Into the string's own bytes: std::string::append is a call (two in
    // libumod.so: it goes through the PLT) for every piece.
    __attribute__((always_inline)) void put(std::string_view text) {
        if (text.empty()) return;  // (a default string_view's data is null: no memcpy from it)
        if (out_.size() - used_ < text.size()) grow(text.size());
        std::memcpy(out_.data() + used_, text.data(), text.size());
        used_ += text.size();
    }
    __attribute__((noinline)) void grow(std::size_t more) {
        out_.resize(std::max(2 * out_.size(), used_ + more + 4096));
    }
    void indent() {
        static constexpr std::string_view kSpaces = "                                ";
        for (std::size_t n = 2 * depth_; n != 0;) {
            std::size_t part = std::min(n, kSpaces.size());
            put(kSpaces.substr(0, part));
            n -= part;
        }
    }

    std::string& out_;
    std::size_t used_;  // bytes of out_ written; the rest is room
    std::size_t depth_ = 0;
    bool first_ = true;
};

void write_frame(GraphJsonWriter& w, const StackFrame& f) {
    w.object([&] {
        w.field("address", f.address);
        if (!f.file.empty()) w.field("file", f.file);
        w.field("function", f.function);
        if (!f.file.empty()) w.field("line", f.line);
        w.field("object", f.object);
        w.field("offset", f.offset);
        w.field("text", describe_frame(f));
    });
}

// holder_json's document.
void write_holder(GraphJsonWriter& w, const HolderCounts& h) {
    w.object([&] {
        if (!h.acquired.empty()) {
            w.key("acquired");
            w.array(h.acquired, [&](const StackGroup& g) {
                w.object([&] {
                    w.field("count", g.count);
                    w.key("stack");
                    w.array(g.stack, [&](const StackFrame& f) { write_frame(w, f); });
                    w.field("symbol", g.symbol);
                });
            });
        }
        w.field("dynamic", h.dynamic);
        w.field("kind", h.kind);
        w.field("static", h.static_uses);
        // An object keyed by name: sorted, and the last count of a name repeated.
        std::vector<const HolderCounts::Symbol*> symbols;
        for (const auto& s : h.symbols) symbols.push_back(&s);
        std::stable_sort(symbols.begin(), symbols.end(), [](auto* a, auto* b) { return a->name < b->name; });
        w.key("symbols");
        w.open("{");
        for (std::size_t i = 0; i < symbols.size(); ++i) {
            if (i + 1 < symbols.size() && symbols[i + 1]->name == symbols[i]->name) continue;
            w.field(symbols[i]->name, symbols[i]->count);
        }
        w.close("}");
        w.field("user", h.user);
    });
}

}  // namespace

std::string json(const RegistrySnapshot& snapshot) {
    std::string out;
    GraphJsonWriter w(out);
    w.object([&] {
        w.key("holders");
        w.strings(snapshot.holders);
        w.key("modules");
        w.array(snapshot.modules, [&](const ModuleSnapshot& m) {
            w.object([&] {
                w.key("depends");
                w.strings(m.depends);
                w.key("exports");
                w.array(m.exports, [&](const ExportSnapshot& e) {
                    w.object([&] {
                        w.field("license", license_name(e.license));
                        w.field("name", e.name);
                        w.field("namespace", e.ns);
                    });
                });
                w.key("holders");
                w.array(m.holders, [&](const HolderCounts& h) { write_holder(w, h); });
                w.field("license", m.license);
                w.field("name", m.name);
                w.field("permanent", m.permanent);
                w.field("refcount", m.refcount);
                w.field("size", m.size);
                w.field("state", to_string(m.state));
            });
        });
        w.field("taints", snapshot.taints);
    });
    w.finish();
    out += '\n';
    return out;
}

std::string dot(const RegistrySnapshot& snapshot) {
    std::string out = "digraph umod {\n  rankdir=LR;\n";
    for (const ModuleSnapshot& m : snapshot.modules)
        out += fmt::format("  \"{}\" [shape=box];\n", m.name);
    for (const auto& h : snapshot.holders) out += fmt::format("  \"{}\" [shape=ellipse];\n", h);
    for (const ModuleSnapshot& m : snapshot.modules) {
        for (const HolderCounts& h : m.holders) {
            if (h.static_uses != 0)
                out += fmt::format("  \"{}\" -> \"{}\" [style=solid, label=\"static\"];\n", h.user, m.name);
            if (h.dynamic != 0)
                out += fmt::format("  \"{}\" -> \"{}\" [style=dashed, label=\"{}\"];\n", h.user, m.name,
                                   h.dynamic);
        }
    }
    return out + "}\n";
}

}  // namespace umod::views
