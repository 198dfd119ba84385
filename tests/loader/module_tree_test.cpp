// modprobe in the runtime: a tree of the example modules indexed by depmod
// (umod format), then probe, remove and symbol_request through it.
#include <umod/loader.h>
#include <umod/umod.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "calls.h"

#include "index/depmod.h"

namespace umod {
namespace {

namespace fs = std::filesystem;

class ModuleTreeTest : public ::testing::Test {
protected:
    Registry registry;
    fs::path root;
    std::string dirname;

    void SetUp() override {
        root = fs::temp_directory_path() / ("umod-tree-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::path kernel = root / "lib/modules/test/kernel";
        fs::create_directories(kernel);
        for (const char* m : {"crc", "net", "ext4", "lazy"})
            fs::copy_file(std::string(EXAMPLE_MODULES) + "/" + m + ".so", kernel / (std::string(m) + ".so"));
        dirname = (root / "lib/modules/test").string();
        index::DepmodOptions options{.basedir = root.string(), .kernel_version = "test",
                                     .format = index::ModuleFormat::Umod, .config_paths = {"/dev/null"}};
        Status indexed = index::depmod(options, stdout, stderr);
        ASSERT_TRUE(indexed) << indexed.error().message();
    }
    void TearDown() override { fs::remove_all(root); }

    int call(const std::string& symbol) { return testing::call_export(registry, symbol); }
};

TEST_F(ModuleTreeTest, ProbeLoadsDependenciesFirstAndRemoveTakesUnusedOnesAway) {
    auto tree = ModuleTree::open(registry, dirname);
    ASSERT_TRUE(tree) << tree.error().message();
    auto net = (*tree)->probe("net");
    ASSERT_TRUE(net) << net.error().message();
    EXPECT_EQ(net->name(), "net");
    auto loaded = registry.modules();  // newest first
    ASSERT_EQ(loaded.size(), 2u);
    EXPECT_EQ(loaded[0].name(), "net");
    EXPECT_EQ(loaded[1].name(), "crc");
    EXPECT_EQ(call("net_checksum"), 1032);

    // Probing again loads nothing new; an alias finds crc (MODULE_ALIAS).
    ASSERT_TRUE((*tree)->probe("net"));
    ASSERT_TRUE((*tree)->probe("checksum"));
    EXPECT_EQ(registry.modules().size(), 2u);

    // crc is still linked to by net: refused, naming net.
    auto busy = (*tree)->remove("crc");
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error().code(), EWOULDBLOCK);
    EXPECT_NE(busy.error().message().find("module net"), std::string::npos) << busy.error().message();

    auto removed = (*tree)->remove("net");
    ASSERT_TRUE(removed);
    ASSERT_EQ(removed->size(), 2u);
    EXPECT_EQ((*removed)[0].module, "net");
    EXPECT_EQ((*removed)[1].module, "crc");
    EXPECT_TRUE((*removed)[1].report.unmap.unmapped);
    EXPECT_TRUE(registry.modules().empty());
}

TEST_F(ModuleTreeTest, RemoveKeepsDependenciesOthersStillUse) {
    auto tree = ModuleTree::open(registry, dirname);
    ASSERT_TRUE(tree);
    ASSERT_TRUE((*tree)->probe("net"));
    ASSERT_TRUE((*tree)->probe("ext4"));
    User* ui = registry.holder("ui");
    ASSERT_TRUE(registry.symbol_get("crc16", ui));  // someone else holds crc
    ASSERT_TRUE((*tree)->remove("net"));
    EXPECT_TRUE(registry.find("crc"));
    EXPECT_FALSE(registry.find("net"));
    ASSERT_TRUE(registry.symbol_put("crc16", ui));
}

TEST_F(ModuleTreeTest, UnknownNamesAndAFailedProbeLeaveNothing) {
    auto tree = ModuleTree::open(registry, dirname);
    ASSERT_TRUE(tree);
    auto nothing = (*tree)->probe("nothing");
    ASSERT_FALSE(nothing);
    EXPECT_EQ(nothing.error().code(), ENOENT);
    EXPECT_EQ(nothing.error().message(), "module nothing not found in " + dirname);

    // net's parameters are wrong: crc, loaded for it, is unloaded again.
    std::vector<std::string> params{"bogus=1"};
    auto bad = (*tree)->probe("net", params);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), EINVAL);
    EXPECT_TRUE(registry.modules().empty());

    auto missing = ModuleTree::open(registry, (root / "nowhere").string());
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), ENOENT);
}

TEST_F(ModuleTreeTest, SymbolRequestLoadsTheProviderThroughSymbolAliases) {
    auto tree = ModuleTree::open(registry, dirname);
    ASSERT_TRUE(tree);
    ASSERT_TRUE((*tree)->probe("lazy"));
    EXPECT_EQ(call("lazy_crc"), -1);  // nobody serves requests: crc stays unloaded
    EXPECT_FALSE(registry.find("crc"));
    (*tree)->serve_requests();
    EXPECT_EQ(call("lazy_crc"), 32);  // crc loaded through symbol:crc32
    EXPECT_TRUE(registry.find("crc"));
    auto holders = registry.holders("crc");
    ASSERT_TRUE(holders);
    EXPECT_TRUE(holders->empty());  // lazy put its reference back
}

}  // namespace
}  // namespace umod
