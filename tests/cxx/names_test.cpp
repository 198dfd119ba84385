// C++ names as people write them, for modules built with this build's
// compiler and with the other one (GCC <-> Clang): exports after their
// definitions reach the dynamic symbol table, ABI-tagged names answer to the
// name without the tag, views and errors show readable names, JSON keeps the
// link names, and typed lookups agree across compilers.
#include <umod/loader.h>
#include <umod/type_name.h>
#include <umod/umod.h>
#include <umod/views.h>

#include <dlfcn.h>

#include <cerrno>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace umod {
namespace {

class CxxNames : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        if (std::string(GetParam()).empty()) GTEST_SKIP() << "no second compiler installed";
    }
    std::string path(const std::string& name) const { return std::string(GetParam()) + "/" + name + ".so"; }
    void load(const std::string& name) {
        auto m = load_module_file(registry, path(name));
        ASSERT_TRUE(m) << m.error().message();
    }
    Registry registry;
    User* me = registry.holder("test");
};

using Describe = std::string(std::string_view);

TEST_P(CxxNames, ExportsAfterTheDefinitionLinkByQualifiedNames) {
    load("storage");
    load("cache");  // links to storage::describe and storage::banner
    auto lookup = registry.symbol_get("cache::lookup", me);
    ASSERT_TRUE(lookup) << lookup.error().message();
    EXPECT_EQ(reinterpret_cast<Describe*>(*lookup)("k"), "stored:k (storage v1)");
    auto banner = registry.symbol_get("storage::banner", me);
    ASSERT_TRUE(banner) << banner.error().message();
    EXPECT_EQ(*static_cast<const std::string*>(*banner), "storage v1");
    // The link names answer too; the ABI-tagged spelling is not a name.
    EXPECT_TRUE(registry.exports("_ZN5cache6lookupB5cxx11ESt17basic_string_viewIcSt11char_traitsIcEE"));
    EXPECT_FALSE(registry.exports("cache::lookup[abi:cxx11]"));
    auto holders = registry.holders("storage");
    ASSERT_TRUE(holders);
    ASSERT_EQ(holders->size(), 2u);  // cache (static) and test (dynamic)
    EXPECT_TRUE(registry.symbol_put("cache::lookup", me));
    EXPECT_TRUE(registry.symbol_put("storage::banner", me));
    ASSERT_TRUE(registry.unload("cache"));
    auto r = registry.unload("storage");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->unmap.unmapped);
}

TEST_P(CxxNames, ViewsAndErrorsShowReadableNamesJsonKeepsLinkNames) {
    load("storage");
    auto describe = registry.symbol_get("storage::describe", me);
    ASSERT_TRUE(describe) << describe.error().message();
    std::string text = views::holders(registry.snapshot(), "storage");
    EXPECT_NE(text.find("(storage::describe(std::string_view) x1)"), std::string::npos) << text;
    std::string json = views::json(registry.snapshot());
    EXPECT_NE(json.find("_ZN7storage8describeB5cxx11ESt17basic_string_viewIcSt11char_traitsIcEE"),
              std::string::npos);
    auto refused = registry.unload("storage");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), EWOULDBLOCK);
    EXPECT_EQ(refused.error().message(),
              "storage is in use: holder test (static 0, dynamic 1: storage::describe(std::string_view) x1)");
    EXPECT_TRUE(registry.symbol_put("storage::describe", me));
    ASSERT_TRUE(registry.unload("storage"));

    // cache alone: its imports are named as written in C++.
    auto alone = load_module_file(registry, path("cache"));
    ASSERT_FALSE(alone);
    EXPECT_EQ(alone.error().code(), ENOENT);
    EXPECT_EQ(alone.error().message(), "cache: unknown symbols storage::banner, storage::describe(std::string_view)");
}

TEST_P(CxxNames, TypedLookupAgreesWithTheModulesCompiler) {
    load("storage");
    auto add = registry.symbol_get_typed("storage::add", type_name<int(int, int)>(), me);
    ASSERT_TRUE(add) << add.error().message();
    EXPECT_EQ(reinterpret_cast<int (*)(int, int)>(*add)(2, 3), 5);
    auto describe = registry.symbol_get_typed("storage::describe", type_name<Describe>(), me);
    ASSERT_TRUE(describe) << describe.error().message();
    auto wrong = registry.symbol_get_typed("storage::add", type_name<long(long)>(), me);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code(), EINVAL);
    EXPECT_EQ(wrong.error().message(), "storage::add(int, int) of storage has type int(int, int), not long(long)");
    EXPECT_TRUE(registry.symbol_put("storage::add", me));
    EXPECT_TRUE(registry.symbol_put("storage::describe", me));
}

INSTANTIATE_TEST_SUITE_P(Compilers, CxxNames, ::testing::Values(OWN_MODULES, OTHER_MODULES),
                         [](const auto& param) { return param.index == 0 ? "ThisCompiler" : "OtherCompiler"; });

TEST(CanonicalTypeName, OneSpellingForGccAndClang) {
    EXPECT_EQ(canonical_type_name("int (int, int)"), "int(int, int)");
    EXPECT_EQ(canonical_type_name("std::__cxx11::basic_string<char> (std::basic_string_view<char>)"),
              "std::basic_string<char>(std::basic_string_view<char>)");
    EXPECT_EQ(canonical_type_name("const char *const"), "const char* const");
    EXPECT_EQ(canonical_type_name("long unsigned int(long long int, short unsigned int)"),
              "unsigned long(long long, unsigned short)");
    EXPECT_EQ(canonical_type_name("ns::W<ns::W<int> >"), "ns::W<ns::W<int>>");
    EXPECT_EQ(canonical_type_name("int (ns::S::*)(int) const"), "int(ns::S::*)(int) const");
    EXPECT_EQ(std::string(type_name<int[3]>()), "int[3]");
    EXPECT_EQ(canonical_type_name(type_name<unsigned long(const char*)>()), type_name<unsigned long(const char*)>());
}

}  // namespace
}  // namespace umod
