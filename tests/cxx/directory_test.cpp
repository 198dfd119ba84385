// load_directory: a plain directory of plugins loaded providers first, with
// cycles, missing providers and files that are not modules reported by name
// while everything else loads.
#include <umod/loader.h>
#include <umod/metadata.h>
#include <umod/plugin_directory.h>
#include <umod/umod.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace umod {
namespace {

namespace fs = std::filesystem;

std::string built(const std::string& name) { return std::string(OWN_MODULES) + "/" + name + ".so"; }

class PluginDirectory : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("umod-plugins-" + std::to_string(::getpid()) + "-" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir);
    }
    void TearDown() override {
        ::unsetenv("EVERYTHING_MAY_RUN");
        fs::remove_all(dir);
    }
    // Puts the built module `module` in the directory as FILE.
    void add(const std::string& module, const std::string& file, const fs::path& where = {}) {
        fs::copy_file(module.find('/') == std::string::npos ? built(module) : module,
                      (where.empty() ? dir : where) / file);
    }
    static std::vector<std::string> loaded_names(const DirectoryLoad& r) {
        std::vector<std::string> out;
        for (const auto& l : r.loaded) out.emplace_back(l.module.name());
        return out;
    }
    static const DirectoryLoad::NotLoaded* failure(const DirectoryLoad& r, std::string_view module) {
        for (const auto& f : r.failed)
            if (f.module == module) return &f;
        return nullptr;
    }
    template <class F>
    F* function(std::string_view name) {
        auto address = registry.symbol_get(name, me);
        EXPECT_TRUE(address) << address.error().message();
        return address ? reinterpret_cast<F*>(*address) : nullptr;
    }
    fs::path dir;
    Registry registry;
    User* me = registry.holder("test");
};

TEST_F(PluginDirectory, FilesSortedOppositeToTheirDependenciesLoadProvidersFirst) {
    add("dir_top", "a_top.so");      // imports from m_mid
    add("dir_mid", "m_mid.so");      // imports from z_base
    add("dir_base", "z_base.so");
    add("cache", "aa_cache.so");     // C++: imports storage::describe and storage::banner
    add("storage", "zz_storage.so");
    std::ofstream(dir / "README") << "not a candidate: no .so suffix\n";
    fs::create_directory(dir / "sub.so");  // a directory: not a candidate
    add("dir_base", "hidden.so", dir / "sub.so");

    auto result = load_directory(registry, dir.string());
    ASSERT_TRUE(result) << result.error().message();
    for (const auto& f : result->failed) ADD_FAILURE() << f.path << ": " << f.error.message();
    EXPECT_EQ(loaded_names(*result), (std::vector<std::string>{"z_base", "m_mid", "a_top", "zz_storage", "aa_cache"}));
    EXPECT_EQ(result->loaded[0].path, (dir / "z_base.so").string());
    // Linked as ordered: each import resolved to the module loaded before it.
    if (auto* top = function<int()>("dir_top_value")) {
        EXPECT_EQ(top(), 111);
    }
    EXPECT_TRUE(registry.symbol_put("dir_top_value", me));
    auto holders = registry.holders("m_mid");
    ASSERT_TRUE(holders);
    ASSERT_EQ(holders->size(), 1u);
    EXPECT_EQ((*holders)[0].user, "a_top");
    EXPECT_EQ((*holders)[0].static_uses, 1u);
    EXPECT_TRUE(registry.find("aa_cache"));
    EXPECT_FALSE(registry.find("hidden"));
}

TEST_F(PluginDirectory, CyclesMissingProvidersAndNonModulesAreNamedWhileTheRestLoads) {
    add("dir_cyc_a", "cyc_a.so");
    add("dir_cyc_b", "cyc_b.so");
    add("dir_cyc_user", "cyc_user.so");
    add("dir_orphan", "orphan.so");
    add("dir_orphan_user", "orphan_user.so");
    add("dir_base", "base.so");
    add("dir_mid", "mid.so");
    add(std::string(LOADER_MODULES) + "/plain.so", "plain.so");  // a shared object, not a umod module
    std::ofstream(dir / "notes.so") << "not even ELF\n";

    auto result = load_directory(registry, dir.string());
    ASSERT_TRUE(result) << result.error().message();
    EXPECT_EQ(loaded_names(*result), (std::vector<std::string>{"base", "mid"}));
    std::vector<std::string> failed;
    for (const auto& f : result->failed) failed.push_back(f.module);
    EXPECT_EQ(failed, (std::vector<std::string>{"cyc_a", "cyc_b", "cyc_user", "notes", "orphan", "orphan_user",
                                                "plain"}));  // by path

    const auto* a = failure(*result, "cyc_a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->error.code(), ELOOP);
    EXPECT_EQ(a->error.message(), "cyc_a: not loaded: its imports form a cycle (cyc_a -> cyc_b -> cyc_a)");
    ASSERT_NE(a->error.detail<ImportCycle>(), nullptr);
    EXPECT_EQ(a->error.detail<ImportCycle>()->cycle, (std::vector<std::string>{"cyc_a", "cyc_b", "cyc_a"}));
    const auto* b = failure(*result, "cyc_b");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->error.message(), "cyc_b: not loaded: its imports form a cycle (cyc_b -> cyc_a -> cyc_b)");

    const auto* cyc_user = failure(*result, "cyc_user");
    ASSERT_NE(cyc_user, nullptr);
    EXPECT_EQ(cyc_user->error.code(), ENOENT);
    EXPECT_EQ(cyc_user->error.message(), "cyc_user: not loaded: it imports cyc_a_value from cyc_a, which did not load");

    const auto* orphan = failure(*result, "orphan");
    ASSERT_NE(orphan, nullptr);
    EXPECT_EQ(orphan->error.code(), ENOENT);
    const auto* unknown = orphan->error.detail<UnknownSymbols>();
    ASSERT_NE(unknown, nullptr) << orphan->error.message();
    ASSERT_EQ(unknown->symbols.size(), 1u);
    EXPECT_EQ(unknown->symbols[0].symbol, "nobody_exports_this");
    const auto* orphan_user = failure(*result, "orphan_user");
    ASSERT_NE(orphan_user, nullptr);
    EXPECT_EQ(orphan_user->error.message(),
              "orphan_user: not loaded: it imports orphan_value from orphan, which did not load");
    ASSERT_NE(orphan_user->error.detail<ProviderNotLoaded>(), nullptr);

    const auto* plain = failure(*result, "plain");
    ASSERT_NE(plain, nullptr);
    EXPECT_EQ(plain->error.code(), ENOEXEC);
    EXPECT_NE(plain->error.message().find("plain.so: not a umod module"), std::string::npos) << plain->error.message();
    const auto* notes = failure(*result, "notes");
    ASSERT_NE(notes, nullptr);
    EXPECT_EQ(notes->error.code(), ENOEXEC);
    EXPECT_EQ(notes->path, (dir / "notes.so").string());

    // Nothing of what failed is left loaded, half or whole.
    std::vector<std::string> in_registry;
    for (const auto& m : registry.modules()) in_registry.emplace_back(m.name());
    EXPECT_EQ(in_registry, (std::vector<std::string>{"mid", "base"}));
}

TEST_F(PluginDirectory, LoadedModulesProvideParametersGoByModuleName) {
    ASSERT_TRUE(load_module_file(registry, built("dir_base")));  // already loaded: exports dir_base_value
    add("dir_base", "dir_base.so");
    add("dir_top", "a_top.so");
    add("dir_mid", "b_mid.so");
    add("everything", "everything.so");
    ::setenv("EVERYTHING_MAY_RUN", "1", 1);
    DirectoryOptions options;
    options.params["everything"] = {"level=9", "label=from the host"};

    auto result = load_directory(registry, dir.string(), options);
    ASSERT_TRUE(result) << result.error().message();
    EXPECT_EQ(loaded_names(*result), (std::vector<std::string>{"b_mid", "a_top", "everything"}));
    ASSERT_EQ(result->failed.size(), 1u);
    EXPECT_EQ(result->failed[0].module, "dir_base");
    EXPECT_EQ(result->failed[0].error.code(), EEXIST);
    auto values = module_parameters(registry.find("everything"));
    ASSERT_TRUE(values) << values.error().message();
    std::vector<std::string> shown;
    for (const auto& v : *values)
        if (v.name == "level" || v.name == "label") shown.push_back(v.name + "=" + v.text);
    std::sort(shown.begin(), shown.end());
    EXPECT_EQ(shown, (std::vector<std::string>{"label=from the host", "level=9"}));
}

TEST_F(PluginDirectory, AnUnreadableDirectoryIsAnErrorNamingIt) {
    auto missing = load_directory(registry, (dir / "nowhere").string());
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), ENOENT);
    EXPECT_NE(missing.error().message().find("nowhere"), std::string::npos) << missing.error().message();
    add("dir_base", "file.so");
    auto file = load_directory(registry, (dir / "file.so").string());
    ASSERT_FALSE(file);
    EXPECT_EQ(file.error().code(), ENOTDIR);
    auto empty_dir = dir / "empty";
    fs::create_directory(empty_dir);
    auto empty = load_directory(registry, empty_dir.string());
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->loaded.empty());
    EXPECT_TRUE(empty->failed.empty());
}

}  // namespace
}  // namespace umod
