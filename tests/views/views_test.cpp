// The views, byte for byte: /proc/modules, lsmod, holders, JSON, DOT.
#include <umod/link_only.h>
#include <umod/umod.h>
#include <umod/views.h>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace umod {
namespace {

int crc32_value, crc16_value;

class ViewsTest : public ::testing::Test {
protected:
    Registry registry;
    void SetUp() override {
        ASSERT_TRUE(registry.load(LinkOnlyImage("crc", "GPL", 20480)
                                      .exports("crc32", &crc32_value)
                                      .exports("crc16", &crc16_value, ExportLicense::GplOnly)
                                      .build()));
        ASSERT_TRUE(registry.load(LinkOnlyImage("net", "GPL", 8192).imports("crc32").build()));
        ASSERT_TRUE(registry.load(LinkOnlyImage("fs", "GPL", 4096).imports("crc16").build()));
        User* ui = registry.holder("ui");
        ASSERT_TRUE(registry.symbol_get("crc16", ui));
        ASSERT_TRUE(registry.symbol_get("crc16", ui));
        ASSERT_TRUE(registry.symbol_get("crc32", registry.find("net").user()));
    }
};

TEST_F(ViewsTest, ProcModules) {
    EXPECT_EQ(views::proc_modules(registry.snapshot()),
              "fs 4096 0 - Live 0x0000000000000000\n"
              "net 8192 0 - Live 0x0000000000000000\n"
              "crc 20480 3 fs,net, Live 0x0000000000000000\n");
}

TEST_F(ViewsTest, Lsmod) {
    EXPECT_EQ(views::lsmod(registry.snapshot()),
              "Module                  Size  Used by\n"
              "fs                      4096  0\n"
              "net                     8192  0\n"
              "crc                    20480  3 fs,net +dynamic ui\n");
}

TEST_F(ViewsTest, Holders) {
    EXPECT_EQ(views::holders(registry.snapshot(), "crc"),
              "crc: 3 holders\n"
              "  ui                   holder    static 0  dynamic 2  (crc16 x2)\n"
              "  fs                   module    static 1  dynamic 0\n"
              "  net                  module    static 1  dynamic 1  (crc32 x1)\n");
    EXPECT_EQ(views::holders(registry.snapshot(), "nothing"), "");
}

TEST_F(ViewsTest, Json) {
    auto j = nlohmann::json::parse(views::json(registry.snapshot()));
    ASSERT_EQ(j["modules"].size(), 3u);
    const auto& crc = j["modules"][2];
    EXPECT_EQ(crc["name"], "crc");
    EXPECT_EQ(crc["state"], "live");
    EXPECT_EQ(crc["refcount"], 3);
    EXPECT_EQ(crc["exports"][1]["license"], "gpl");
    EXPECT_EQ(crc["holders"][0]["user"], "ui");
    EXPECT_EQ(crc["holders"][0]["kind"], "holder");
    EXPECT_EQ(crc["holders"][0]["symbols"]["crc16"], 2);
    EXPECT_EQ(crc["holders"][2]["static"], 1);
    EXPECT_EQ(crc["holders"][2]["dynamic"], 1);
    EXPECT_EQ(j["modules"][1]["depends"][0], "crc");
    EXPECT_EQ(j["holders"][0], "ui");
}

TEST_F(ViewsTest, DotDistinguishesStaticAndDynamicEdges) {
    ASSERT_TRUE(registry.symbol_get("crc32", registry.find("fs").user()));  // a dynamic edge of a module too
    std::string dot = views::dot(registry.snapshot());
    EXPECT_NE(dot.find("\"fs\" -> \"crc\" [style=dashed, label=\"1\"];"), std::string::npos) << dot;
    EXPECT_NE(dot.find("\"net\" -> \"crc\" [style=solid, label=\"static\"];"), std::string::npos) << dot;
    EXPECT_NE(dot.find("\"net\" -> \"crc\" [style=dashed, label=\"1\"];"), std::string::npos) << dot;
    EXPECT_NE(dot.find("\"ui\" -> \"crc\" [style=dashed, label=\"2\"];"), std::string::npos) << dot;
    EXPECT_NE(dot.find("\"ui\" [shape=ellipse];"), std::string::npos) << dot;
}

TEST_F(ViewsTest, UnloadingShowsMinusOneAndUnloadingState) {
    std::string during;
    ASSERT_TRUE(registry.load(LinkOnlyImage("watch").exit([&] {
                                  during = views::proc_modules(registry.snapshot());
                              }).build()));
    ASSERT_TRUE(registry.unload("watch"));
    EXPECT_EQ(during.substr(0, during.find('\n')), "watch 16384 -1 - Unloading 0x0000000000000000");
}

}  // namespace
}  // namespace umod

namespace umod {
namespace {

// A name that is not UTF-8 (a module file or holder named with any bytes)
// must not make a JSON view throw: it is printed with U+FFFD instead.
TEST(ViewsJson, NamesThatAreNotUtf8AreReplacedNotThrown) {
    Registry registry;
    int value = 0;
    ASSERT_TRUE(registry.load(LinkOnlyImage("bad\xff", "GPL", 4096).exports("f", &value).build()));
    ASSERT_TRUE(registry.symbol_get("f", registry.holder("ui\xfe")));
    std::string graph;
    ASSERT_NO_THROW(graph = views::json(registry.snapshot()));
    EXPECT_NE(graph.find("bad\xef\xbf\xbd"), std::string::npos);
    std::string lsmod;
    ASSERT_NO_THROW(lsmod = views::lsmod_json(registry.snapshot()));
    EXPECT_NE(lsmod.find("ui\xef\xbf\xbd"), std::string::npos);
    ASSERT_NO_THROW((void)views::modinfo_json(registry.snapshot(), "bad\xff"));
    auto holders = registry.holders("bad\xff");
    ASSERT_TRUE(holders);
    ASSERT_NO_THROW((void)views::json("bad\xff", *holders));
    ASSERT_TRUE(registry.symbol_put("f", registry.holder("ui\xfe")));
}

// lsmod as JSON and a loaded module's modinfo, from the same snapshot as the texts.
TEST_F(ViewsTest, LsmodJsonAndModinfo) {
    auto lsmod = nlohmann::json::parse(views::lsmod_json(registry.snapshot()));
    ASSERT_EQ(lsmod["modules"].size(), 3u);
    EXPECT_EQ(lsmod["modules"][2]["name"], "crc");
    EXPECT_EQ(lsmod["modules"][2]["used_by"], nlohmann::json({"fs", "net"}));
    EXPECT_EQ(lsmod["modules"][2]["dynamic_users"], nlohmann::json({"ui", "net"}));
    std::string info = views::modinfo(registry.snapshot(), "crc");
    EXPECT_NE(info.find("license:        GPL\n"), std::string::npos) << info;
    EXPECT_NE(info.find("export:         crc16 (GPL only)\n"), std::string::npos) << info;
    EXPECT_NE(info.find("holder:         holder ui (static 0, dynamic 2: crc16 x2)\n"), std::string::npos) << info;
    EXPECT_EQ(views::modinfo(registry.snapshot(), "nothing"), "");
}

}  // namespace
}  // namespace umod
