// depmod's library side: the depmod.d reader (files, lines, directives, the
// messages kmod gives), the rule choosing between two copies of a module,
// and the errors depmod() returns. Byte parity with kmod's depmod is checked
// end to end by tests/tools/depmod_*parity.sh.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "index/depmod.h"
#include "index/depmod_config.h"

namespace umod::index {
namespace {

class TempDir {
public:
    TempDir() {
        char pattern[] = "/tmp/umod-depmod-test.XXXXXX";
        path_ = mkdtemp(pattern);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    const std::string& path() const { return path_; }
    std::string write(const std::string& name, const std::string& text) const {
        std::string file = path_ + "/" + name;
        std::filesystem::create_directories(std::filesystem::path(file).parent_path());
        std::ofstream(file) << text;
        return file;
    }

private:
    std::string path_;
};

// The configuration read from `paths`, and what was logged.
struct Read {
    DepmodConfig config;
    std::string log;
};
Read read(const std::vector<std::string>& paths, int verbosity = 4) {
    char* text = nullptr;
    std::size_t size = 0;
    std::FILE* log = open_memstream(&text, &size);
    Read r{read_depmod_config(paths, "6.1.0-50-amd64", verbosity, log), {}};
    std::fclose(log);
    r.log.assign(text, size);
    std::free(text);
    return r;
}

std::vector<std::string> search_paths(const DepmodConfig& c) {
    std::vector<std::string> out;
    for (const auto& s : c.searches)
        out.push_back(s.kind == DepmodConfig::SearchKind::BuiltIn    ? "built-in"
                      : s.kind == DepmodConfig::SearchKind::External ? "external"
                                                                     : s.path);
    return out;
}

TEST(DepmodConfig, WithoutSearchLinesOnlyUpdatesIsSearched) {
    auto r = read({"/dev/null"});
    EXPECT_EQ(search_paths(r.config), std::vector<std::string>{"updates"});
    EXPECT_EQ(r.log, "");
}

TEST(DepmodConfig, FilesAreReadInNameOrderAndANameOnceFromTheFirstPath) {
    TempDir dir;
    dir.write("a/20-b.conf", "search b\n");
    dir.write("a/10-a.conf", "search a\n");
    dir.write("b/10-a.conf", "search shadowed\n");
    dir.write("b/15-c.conf", "search c\n");
    dir.write("a/notes.txt", "search never\n");
    dir.write("a/.hidden.conf", "search never\n");
    auto r = read({dir.path() + "/a", dir.path() + "/b"});
    EXPECT_EQ(search_paths(r.config), (std::vector<std::string>{"a", "c", "b"}));
}

TEST(DepmodConfig, DirectivesAndBadLinesAreReportedAsKmodDoes) {
    TempDir dir;
    std::string file = dir.write("x.conf",
                                 "# comment\n"
                                 "search kernel \\\n  built-in external\n"
                                 "override foo 6\\.1\\..* extra\n"
                                 "override bar ^5 extra\n"
                                 "external * /opt/mods\n"
                                 "exclude staging tmp\n"
                                 "bogus x\n"
                                 "override foo\n"
                                 "include y\n");
    auto r = read({file}, 6);
    EXPECT_EQ(search_paths(r.config), (std::vector<std::string>{"kernel", "built-in", "external"}));
    EXPECT_EQ(r.config.overrides, std::vector<std::string>{"extra/foo"});
    EXPECT_EQ(r.config.externals, std::vector<std::string>{"/opt/mods"});
    EXPECT_EQ(r.config.excludes, (std::vector<std::string>{"staging", "tmp"}));
    // As in kmod, a backslash inside a line is dropped: "6\\.1\\..*" is read as "6.1..*".
    EXPECT_EQ(r.log, "depmod: INFO: " + file + ":5: override kernel did not match ^5\n" +
                         "depmod: ERROR: " + file + ":8: ignoring bad line starting with 'bogus'\n" +
                         "depmod: ERROR: " + file + ":9: ignoring bad line starting with 'override'\n" +
                         "depmod: INFO: " + file + ":10: command include not implemented yet\n");
    // At the default verbosity only the errors are shown.
    auto quiet = read({file});
    EXPECT_EQ(quiet.log.find("INFO"), std::string::npos);
    EXPECT_NE(quiet.log.find("'bogus'"), std::string::npos);
}

constexpr const char* kDir = "/lib/modules/6.1.0-50-amd64";
std::string in_tree(const std::string& rel) { return std::string(kDir) + "/" + rel; }

DepmodConfig config_of(const std::string& text) {
    TempDir dir;
    return read({dir.write("c.conf", text)}).config;
}

TEST(DepmodConfig, TheEarlierSearchEntryWins) {
    auto c = config_of("search extra updates built-in\n");
    EXPECT_TRUE(keep_existing_module(c, kDir, in_tree("extra/foo.ko"), in_tree("updates/foo.ko")));
    EXPECT_FALSE(keep_existing_module(c, kDir, in_tree("updates/foo.ko"), in_tree("extra/foo.ko")));
    // A path no entry names has built-in's priority, below updates.
    EXPECT_FALSE(keep_existing_module(c, kDir, in_tree("kernel/foo.ko"), in_tree("updates/foo.ko")));
    // An entry is a directory: "foo" does not name foobar/.
    auto prefix = config_of("search foo\n");
    EXPECT_TRUE(keep_existing_module(prefix, kDir, in_tree("zzz/m.ko"), in_tree("foobar/m.ko")));
    EXPECT_FALSE(keep_existing_module(prefix, kDir, in_tree("zzz/m.ko"), in_tree("foo/m.ko")));
}

TEST(DepmodConfig, OverridesBeatTheSearchListAndMatchTheFileName) {
    auto c = config_of("search updates\noverride foo-bar * kernel/x\n");
    EXPECT_TRUE(keep_existing_module(c, kDir, in_tree("kernel/x/foo-bar.ko.xz"), in_tree("updates/foo-bar.ko")));
    EXPECT_FALSE(keep_existing_module(c, kDir, in_tree("updates/foo-bar.ko"), in_tree("kernel/x/foo-bar.ko")));
    // Written with the module name's underscore, it names no file.
    auto underscore = config_of("search updates\noverride foo_bar * kernel/x\n");
    EXPECT_FALSE(keep_existing_module(underscore, kDir, in_tree("kernel/x/foo-bar.ko"), in_tree("updates/foo-bar.ko")));
}

TEST(DepmodConfig, ExternalDirectoriesTakeTheExternalKeywordsPlace) {
    auto c = config_of("external * /opt/mods\nsearch external updates\n");
    EXPECT_FALSE(keep_existing_module(c, kDir, in_tree("updates/foo.ko"), "/opt/mods/foo.ko"));
    auto last = config_of("external * /opt/mods\nsearch updates external\n");
    EXPECT_TRUE(keep_existing_module(last, kDir, in_tree("updates/foo.ko"), "/opt/mods/foo.ko"));
}

TEST(DepmodConfig, AnEntryTheNewCopyMatchesIsNotTriedOnTheOldOne) {
    // kmod's quirk: both in kernel/, the later copy found replaces the first.
    auto c = config_of("search kernel\n");
    EXPECT_FALSE(keep_existing_module(c, kDir, in_tree("kernel/c/foo.ko"), in_tree("kernel/a/foo.ko")));
    // Without an entry for either, the first copy found stays.
    auto none = config_of("search updates\n");
    EXPECT_TRUE(keep_existing_module(none, kDir, in_tree("kernel/c/foo.ko"), in_tree("kernel/a/foo.ko")));
}

TEST(Depmod, FailuresAreReturnedWithKmodsWording) {
    TempDir dir;
    DepmodOptions options;
    options.basedir = dir.path();
    options.kernel_version = "1.0";
    options.config_paths = {"/dev/null"};
    std::FILE* sink = std::fopen("/dev/null", "w");
    Status missing_tree = depmod(options, sink, sink);
    ASSERT_FALSE(missing_tree);
    EXPECT_EQ(missing_tree.error().code(), ENOENT);
    EXPECT_EQ(missing_tree.error().message(), "could not search modules: No such file or directory");

    std::filesystem::create_directories(dir.path() + "/lib/modules/1.0");
    options.system_map = dir.path() + "/System.map";
    Status missing_map = depmod(options, sink, sink);
    ASSERT_FALSE(missing_map);
    EXPECT_EQ(missing_map.error().message(), "could not load " + options.system_map + ": No such file or directory");

    options.system_map.clear();
    options.module_files = {"relative.ko"};
    Status relative = depmod(options, sink, sink);
    ASSERT_FALSE(relative);
    EXPECT_EQ(relative.error().message(), "relative.ko: not absolute path.");
    std::fclose(sink);

    auto fresh = index_up_to_date(dir.path() + "/lib/modules/1.0", ModuleFormat::Kernel, nullptr);
    ASSERT_FALSE(fresh);
    EXPECT_EQ(fresh.error().code(), ENOENT);
}

TEST(Depmod, AnEmptyTreeGetsTheTenFilesAndIsThenUpToDate) {
    TempDir dir;
    std::filesystem::create_directories(dir.path() + "/lib/modules/1.0");
    DepmodOptions options;
    options.basedir = dir.path();
    options.kernel_version = "1.0";
    options.config_paths = {"/dev/null"};
    std::FILE* sink = std::fopen("/dev/null", "w");
    ASSERT_TRUE(depmod(options, sink, sink));
    std::fclose(sink);
    for (const char* f : {"modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin", "modules.softdep",
                          "modules.symbols", "modules.symbols.bin", "modules.builtin.bin",
                          "modules.builtin.alias.bin", "modules.devname"})
        EXPECT_TRUE(std::filesystem::exists(dir.path() + "/lib/modules/1.0/" + f)) << f;
    auto fresh = index_up_to_date(dir.path() + "/lib/modules/1.0", ModuleFormat::Kernel, nullptr);
    ASSERT_TRUE(fresh);
    EXPECT_TRUE(*fresh);
}

}  // namespace
}  // namespace umod::index
