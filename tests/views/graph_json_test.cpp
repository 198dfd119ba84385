// views::json(snapshot) writes its text directly (no DOM): byte for byte what
// nlohmann's dump(2, ' ', false, replace) printed when it built the document,
// for every kind of value a snapshot holds.
#include <umod/link_only.h>
#include <umod/umod.h>
#include <umod/views.h>

#include <limits>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace umod {
namespace {

using nlohmann::json;

// The document as views::json built it before it was written directly.
json reference_frame(const StackFrame& f) {
    json j = {{"address", f.address}, {"object", f.object}, {"function", f.function},
              {"offset", f.offset}, {"text", describe_frame(f)}};
    if (!f.file.empty()) {
        j["file"] = f.file;
        j["line"] = f.line;
    }
    return j;
}

json reference_holder(const HolderCounts& h) {
    json symbols = json::object();
    for (const auto& s : h.symbols) symbols[s.name] = s.count;
    json j = {{"user", h.user}, {"kind", h.kind}, {"static", h.static_uses}, {"dynamic", h.dynamic},
              {"symbols", symbols}};
    if (!h.acquired.empty()) {
        json groups = json::array();
        for (const StackGroup& g : h.acquired) {
            json frames = json::array();
            for (const StackFrame& f : g.stack) frames.push_back(reference_frame(f));
            groups.push_back({{"symbol", g.symbol}, {"count", g.count}, {"stack", frames}});
        }
        j["acquired"] = groups;
    }
    return j;
}

std::string reference(const RegistrySnapshot& snapshot) {
    json modules = json::array();
    for (const ModuleSnapshot& m : snapshot.modules) {
        json exports = json::array();
        for (const auto& e : m.exports)
            exports.push_back({{"name", e.name},
                               {"license", e.license == ExportLicense::GplOnly ? "gpl" : "any"},
                               {"namespace", e.ns}});
        json holders = json::array();
        for (const HolderCounts& h : m.holders) holders.push_back(reference_holder(h));
        modules.push_back({{"name", m.name},
                           {"state", to_string(m.state)},
                           {"size", m.size},
                           {"refcount", m.refcount},
                           {"license", m.license},
                           {"permanent", m.permanent},
                           {"depends", m.depends},
                           {"exports", exports},
                           {"holders", holders}});
    }
    json root = {{"modules", modules}, {"holders", snapshot.holders}, {"taints", snapshot.taints}};
    return root.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

TEST(GraphJson, EmptyRegistry) {
    RegistrySnapshot empty;
    EXPECT_EQ(views::json(empty), reference(empty));
    EXPECT_EQ(views::json(empty), "{\n  \"holders\": [],\n  \"modules\": [],\n  \"taints\": \"\"\n}\n");
}

int value_a, value_b, value_c;

TEST(GraphJson, LiveRegistry) {
    Registry registry;
    ASSERT_TRUE(registry.load(LinkOnlyImage("crc", "GPL", 20480)
                                  .exports("crc32", &value_a)
                                  .exports("crc16", &value_b, ExportLicense::GplOnly)
                                  .exports("crc8", &value_c, ExportLicense::Any, "CRC_NS")
                                  .build()));
    ASSERT_TRUE(registry.load(LinkOnlyImage("net", "GPL", 8192).imports("crc32").build()));
    ASSERT_TRUE(registry.load(LinkOnlyImage("blob", "Proprietary", 4096).build()));
    User* ui = registry.holder("ui \"main\"\\window\t\x01\x7f caf\xc3\xa9 bad\xff\xfe end");
    ASSERT_TRUE(registry.symbol_get("crc16", ui));
    ASSERT_TRUE(registry.symbol_get("crc32", ui));
    ASSERT_TRUE(registry.symbol_get("crc32", ui));
    ASSERT_TRUE(registry.symbol_get("crc32", registry.find("net").user()));
    ASSERT_TRUE(registry.symbol_get("crc8", nullptr));
    ASSERT_TRUE(registry.try_module_get(registry.find("crc").get(), nullptr));
    RegistrySnapshot snapshot = registry.snapshot();
    EXPECT_EQ(views::json(snapshot), reference(snapshot));
}

TEST(GraphJson, EveryField) {
    RegistrySnapshot s;
    s.taints = "FP";
    s.holders = {"b", "a\n", "\xe2\x82\xac", "\xc3"};
    ModuleSnapshot going;
    going.name = "going";
    going.state = ModuleState::Going;
    going.size = std::numeric_limits<std::size_t>::max();
    going.refcount = -1;
    going.permanent = true;
    going.license = "";
    s.modules.push_back(going);
    ModuleSnapshot m;
    m.name = "m";
    m.state = ModuleState::Live;
    m.size = 0;
    m.refcount = std::numeric_limits<long>::min();
    m.license = "Dual BSD/GPL";
    m.depends = {"x", "y\\z"};
    m.exports = {{"f", ExportLicense::Any, ""}, {"g", ExportLicense::GplOnly, "NS\x1f"}};
    HolderCounts h;
    h.user = "u";
    h.kind = "holder";
    h.static_uses = std::numeric_limits<std::uint32_t>::max();
    h.dynamic = std::numeric_limits<std::uint64_t>::max();
    // Unsorted, a name twice (the last count is the one an object keeps), a
    // name that sorts by unsigned bytes.
    h.symbols = {{"zeta", 1}, {"alpha", 2}, {"\xc3\xa9", 3}, {"alpha", 4}, {"Beta", 5}, {"(module)", 6}};
    StackFrame with_line{0x401000, "net.so", "net_init", 0x23, "net.c", 42};
    StackFrame bare{0x7f0000001234, "", "", 0x1234, "", 0};
    h.acquired = {{"alpha", 2, {with_line, bare}}, {"zeta", 1, {}}};
    HolderCounts empty_holder;
    empty_holder.user = "(anonymous)";
    empty_holder.kind = "anonymous";
    m.holders = {h, empty_holder};
    s.modules.push_back(m);
    EXPECT_EQ(views::json(s), reference(s));
}

}  // namespace
}  // namespace umod
