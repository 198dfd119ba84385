// The .bin reader against the writer, on hostile bytes, and shared by threads;
// modprobe.d and kernel command-line parsing as libkmod 30 parses them.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "index/index_file.h"
#include "index/modprobe.h"
#include "index/modprobe_config.h"

namespace umod::index {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

IndexBuilder sample() {
    IndexBuilder b;
    b.insert("usb:v1234p*", "usb_a", 3);
    b.insert("usb:v1234p5678", "usb_exact", 1);
    b.insert("usb:v12?4p5678", "usb_q", 2);
    b.insert("pci:v[0-9]*", "pci_range", 7);
    b.insert("fs_vfat", "vfat", 5);
    b.insert("fs_vfat", "vfat_second", 5);
    b.insert("fs_vfat", "vfat_first", 0);
    b.insert("fs_v", "short", 9);
    b.insert("symbol:foo", "owner", 4);
    return b;
}

std::vector<std::string> values(const Expected<std::vector<IndexValue>>& found) {
    std::vector<std::string> out;
    for (const auto& v : *found) out.emplace_back(v.value);
    return out;
}

TEST(IndexReader, FindsWhatTheWriterWrote) {
    IndexBuilder b = sample();
    std::string file = b.serialize();
    auto r = IndexReader::parse(bytes_of(file), "sample");
    ASSERT_TRUE(r) << r.error().message();
    auto exact = r->search("fs_vfat");
    ASSERT_TRUE(exact);
    EXPECT_EQ(exact->value_or("?"), "vfat_first");
    EXPECT_FALSE(r->search("fs_vfa")->has_value());
    EXPECT_FALSE(r->search("fs_vfat_").value().has_value());
    EXPECT_EQ(r->search("fs_v")->value_or("?"), "short");
    // What libkmod answers, written out: fnmatch(3) of every
    // stored pattern against the key; values by priority, and each value read
    // goes before those of the same priority read earlier (libkmod's
    // add_value), so the file's order "vfat_first vfat_second vfat" (see the
    // dump below) comes back as "vfat_first vfat vfat_second".
    const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
        {"usb:v1234p5678", {"usb_exact", "usb_q", "usb_a"}},
        {"usb:v1234p9", {"usb_a"}},
        {"usb:v1224p5678", {"usb_q"}},
        {"pci:v8086", {"pci_range"}},
        {"fs_vfat", {"vfat_first", "vfat", "vfat_second"}},
        {"symbol:foo", {"owner"}},
        {"nothing", {}},
        {"", {}},
        {"usb:", {}},
        {"pci:vx", {}},
    };
    for (const auto& [key, answer] : expected) {
        auto found = r->search_wild(key);
        ASSERT_TRUE(found) << key;
        EXPECT_EQ(values(found), answer) << key;
    }
}

// The trie kmod 30 builds key by key, as the builder's sorted writer must
// reproduce it: the root without a prefix, an empty key's value at the root,
// keys that are prefixes of others, equal priorities with the value added
// last first. The bytes were written by the earlier node-per-node builder.
TEST(IndexBuilder, WritesKmodsTrieByteForByte) {
    IndexBuilder b = sample();
    b.insert("", "empty_key", 2);
    b.insert("fs", "fs_itself", 1);
    b.insert("fs_vfat", "vfat_again", 5);
    b.insert("a", "x", 0);
    b.insert("ab", "y", 0);
    b.insert("abc", "z", 0);
    static const char kExpected[] =
        "\xb0\x07\xf4\x57\x00\x02\x00\x01\x60\x00\x01\x84\x00\x00\x00\x01\x00\x00\x00\x00\x7a\x00\x63\x63"
        "\x40\x00\x00\x0c\x00\x00\x00\x01\x00\x00\x00\x00\x79\x00\x62\x62\x60\x00\x00\x16\x00\x00\x00\x01"
        "\x00\x00\x00\x00\x78\x00\x61\x74\x00\x00\x00\x00\x04\x00\x00\x00\x00\x76\x66\x61\x74\x5f\x66\x69"
        "\x72\x73\x74\x00\x00\x00\x00\x05\x76\x66\x61\x74\x5f\x61\x67\x61\x69\x6e\x00\x00\x00\x00\x05\x76"
        "\x66\x61\x74\x5f\x73\x65\x63\x6f\x6e\x64\x00\x00\x00\x00\x05\x76\x66\x61\x74\x00\x76\x00\x66\x66"
        "\xc0\x00\x00\x36\x00\x00\x00\x01\x00\x00\x00\x09\x73\x68\x6f\x72\x74\x00\x73\x00\x5f\x5f\xe0\x00"
        "\x00\x74\x00\x00\x00\x01\x00\x00\x00\x01\x66\x73\x5f\x69\x74\x73\x65\x6c\x66\x00\x63\x69\x3a\x76"
        "\x5b\x30\x2d\x39\x5d\x2a\x00\x00\x00\x00\x01\x00\x00\x00\x07\x70\x63\x69\x5f\x72\x61\x6e\x67\x65"
        "\x00\x79\x6d\x62\x6f\x6c\x3a\x66\x6f\x6f\x00\x00\x00\x00\x01\x00\x00\x00\x04\x6f\x77\x6e\x65\x72"
        "\x00\x00\x00\x00\x01\x00\x00\x00\x03\x75\x73\x62\x5f\x61\x00\x36\x37\x38\x00\x00\x00\x00\x01\x00"
        "\x00\x00\x01\x75\x73\x62\x5f\x65\x78\x61\x63\x74\x00\x34\x70\x00\x2a\x35\x40\x00\x00\xd9\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xc0\x00\x00\xe7\x34\x70\x35\x36\x37\x38"
        "\x00\x00\x00\x00\x01\x00\x00\x00\x02\x75\x73\x62\x5f\x71\x00\x73\x62\x3a\x76\x31\x32\x00\x33\x3f"
        "\xa0\x00\x00\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\xc0\x00\x01\x32\x61\x75\x60\x00\x00\x26\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\xe0\x00\x00\x8a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xc0\x00\x00\xa4\x00\x00"
        "\x00\x00\x00\x00\x00\x00\xc0\x00\x00\xc1\x00\x00\x00\x00\xa0\x00\x01\x47\x00\x00\x00\x01\x00\x00"
        "\x00\x02\x65\x6d\x70\x74\x79\x5f\x6b\x65\x79\x00";
    EXPECT_EQ(b.serialize(), std::string(kExpected, sizeof kExpected - 1));
    // No entries: a 12-byte file whose root is its end, as kmod writes it.
    EXPECT_EQ(IndexBuilder().serialize(), std::string("\xb0\x07\xf4\x57\x00\x02\x00\x01\x00\x00\x00\x0c", 12));
}

TEST(IndexReader, DumpsEveryKeyInTrieOrder) {
    std::string file = sample().serialize();
    auto r = IndexReader::parse(bytes_of(file), "sample");
    ASSERT_TRUE(r);
    std::string out;
    ASSERT_TRUE(r->dump("alias ", [&](std::string_view line) { out += line; }));
    EXPECT_EQ(out,
              "alias fs_v short\n"
              "alias fs_vfat vfat_first\nalias fs_vfat vfat_second\nalias fs_vfat vfat\n"
              "alias pci:v[0-9]* pci_range\n"
              "alias symbol:foo owner\n"
              "alias usb:v1234p* usb_a\nalias usb:v1234p5678 usb_exact\n"
              "alias usb:v12?4p5678 usb_q\n");
}

TEST(IndexReader, RejectsHeadersThatAreNotKmods) {
    std::string file = sample().serialize();
    auto kind_of = [](const std::string& bytes) {
        auto r = IndexReader::parse(bytes_of(bytes), "x");
        EXPECT_FALSE(r);
        EXPECT_EQ(r.error().code(), EINVAL);
        const auto* e = r.error().detail<IndexFormatError>();
        return e == nullptr ? IndexFormatError::Kind::BadNode : e->kind;
    };
    EXPECT_EQ(kind_of(file.substr(0, 11)), IndexFormatError::Kind::TooShort);
    std::string magic = file;
    magic[0] = 'X';
    EXPECT_EQ(kind_of(magic), IndexFormatError::Kind::BadMagic);
    std::string version = file;
    version[5] = 3;
    EXPECT_EQ(kind_of(version), IndexFormatError::Kind::BadVersion);
    auto missing = IndexReader::open("/nonexistent/modules.dep.bin");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), ENOENT);
}

// Every truncation and many single-byte changes: an answer or EINVAL, never a
// crash (the ASan/UBSan build checks the reads themselves).
TEST(IndexReader, SurvivesCorruptBytes) {
    const std::string good = sample().serialize();
    auto exercise = [](const std::string& bytes) {
        auto r = IndexReader::parse(bytes_of(bytes), "corrupt");
        if (!r) return;
        for (std::string key : {"usb:v1234p5678", "fs_vfat", "pci:v1", "zzz"}) {
            auto e = r->search(key);
            if (!e) {
                EXPECT_EQ(e.error().code(), EINVAL);
            }
            auto w = r->search_wild(key);
            if (!w) {
                EXPECT_EQ(w.error().code(), EINVAL);
            }
        }
        std::size_t lines = 0;
        (void)r->dump("", [&](std::string_view) { ++lines; });
    };
    for (std::size_t n = 0; n < good.size(); ++n) exercise(good.substr(0, n));
    for (std::size_t at = 8; at < good.size(); ++at)
        for (unsigned char v : {0x00, 0x01, 0x0c, 0x20, 0x7f, 0x80, 0xff}) {
            std::string bad = good;
            bad[at] = static_cast<char>(v);
            exercise(bad);
        }
}

// kmod's depmod (and umod's) write an index with no keys as the header alone,
// its root reference pointing at the end of the file: that is an empty index,
// found empty, not a corrupt one.
TEST(IndexReader, ReadsAnEmptyIndexAsEmpty) {
    std::string file = IndexBuilder().serialize();
    ASSERT_EQ(file, std::string("\xB0\x07\xF4\x57\x00\x02\x00\x01\x00\x00\x00\x0C", 12));
    auto r = IndexReader::parse(bytes_of(file), "empty");
    ASSERT_TRUE(r);
    auto exact = r->search("snd_foo");
    ASSERT_TRUE(exact) << exact.error().message();
    EXPECT_FALSE(exact->has_value());
    auto wild = r->search_wild("pci:v00008086d*");
    ASSERT_TRUE(wild) << wild.error().message();
    EXPECT_TRUE(wild->empty());
    std::size_t lines = 0;
    EXPECT_TRUE(r->dump("alias ", [&](std::string_view) { ++lines; }));
    EXPECT_EQ(lines, 0u);
    // A root that claims a prefix there is still past the end.
    std::string bad = file;
    bad[8] = '\x80';
    auto b = IndexReader::parse(bytes_of(bad), "bad");
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->search("x"));
}

TEST(IndexReader, ReportsALoopInsteadOfHanging) {
    // Root at 12 with children '*'..'*': the '*' child is the root again.
    std::string file("\xB0\x07\xF4\x57\x00\x02\x00\x01\x20\x00\x00\x0C" "**" "\x20\x00\x00\x0C", 18);
    auto r = IndexReader::parse(bytes_of(file), "loop");
    ASSERT_TRUE(r);
    auto w = r->search_wild("anything");
    ASSERT_FALSE(w);
    ASSERT_NE(w.error().detail<IndexFormatError>(), nullptr);
    EXPECT_NE(w.error().message().find("loop"), std::string::npos) << w.error().message();
    EXPECT_FALSE(r->dump("", [](std::string_view) {}));
    EXPECT_FALSE(r->search("****")->has_value());  // an exact search stops with the key
}

// A module directory written with the writer, as depmod lays it out.
class ModuleDir : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/umod-index-test-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        IndexBuilder dep, alias, symbols, builtin, builtin_alias;
        dep.insert("a", "kernel/a.ko: kernel/b.ko kernel/c.ko", 0);
        dep.insert("b", "kernel/b.ko: kernel/c.ko", 1);
        dep.insert("c", "kernel/c.ko:", 2);
        dep.insert("d", "kernel/d-x.ko:", 3);
        alias.insert("pci:v1*", "a", 0);
        alias.insert("pci:v12*", "d", 3);
        symbols.insert("symbol:c_fn", "c", 2);
        builtin.insert("core", "", 0);
        builtin_alias.insert("fs_core", "core", 0);
        write("modules.dep.bin", dep.serialize());
        write("modules.alias.bin", alias.serialize());
        write("modules.symbols.bin", symbols.serialize());
        write("modules.builtin.bin", builtin.serialize());
        write("modules.builtin.alias.bin", builtin_alias.serialize());
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    void write(const std::string& name, const std::string& bytes) {
        std::ofstream(dir_ + "/" + name, std::ios::binary) << bytes;
    }
    std::string dir_;
};

std::string describe(ModprobeSession& s, std::string_view name) {
    std::string out;
    auto found = s.lookup(name);
    if (!found) return "error";
    for (ProbeModule* m : *found) {
        auto list = s.probe_list(*m, CommandUse::Run);
        if (!list) return "error";
        for (ProbeModule* p : *list) {
            auto path = s.path(*p);
            out += p->name + "=" + std::string(path ? *path : "?") + ";";
        }
    }
    return out;
}

TEST_F(ModuleDir, ResolvesAsLibkmod) {
    ModuleIndex index = ModuleIndex::open(dir_);
    EXPECT_TRUE(index.load_errors().empty());
    ModprobeConfig config;
    std::vector<ConfigDiagnostic> diagnostics;
    config.parse("softdep a pre: fs-core\nalias my-a a\n", "t.conf", diagnostics);
    EXPECT_TRUE(diagnostics.empty());
    ModprobeSession s(index, config);
    EXPECT_EQ(describe(s, "a"), "c=" + dir_ + "/kernel/c.ko;b=" + dir_ + "/kernel/b.ko;core=;a=" + dir_ + "/kernel/a.ko;");
    auto via_config = s.lookup("my-a");
    ASSERT_TRUE(via_config);
    ASSERT_EQ(via_config->size(), 1u);
    EXPECT_EQ((*via_config)[0]->name, "a");
    EXPECT_EQ((*via_config)[0]->alias.value_or(""), "my_a");
    EXPECT_EQ(describe(s, "d"), "d=" + dir_ + "/kernel/d-x.ko;");
    auto by_alias = s.lookup("pci:v1234");
    ASSERT_TRUE(by_alias);
    ASSERT_EQ(by_alias->size(), 2u);
    EXPECT_EQ((*by_alias)[0]->name, "a");
    EXPECT_EQ((*by_alias)[1]->name, "d");
    EXPECT_EQ((*by_alias)[0]->alias.value_or(""), "pci:v1234");
    auto sym = s.lookup("symbol:c_fn");
    ASSERT_TRUE(sym);
    ASSERT_EQ(sym->size(), 1u);
    EXPECT_EQ((*sym)[0]->name, "c");
    auto bad = s.lookup("x[");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().detail<UnmatchedBracket>(), nullptr);
}

TEST_F(ModuleDir, MissingAndBrokenIndexesAsLibkmod) {
    write("modules.alias.bin", "XXXXXXXXXXXXXXXX");
    std::filesystem::remove(dir_ + "/modules.symbols.bin");
    ModuleIndex index = ModuleIndex::open(dir_);
    ASSERT_EQ(index.load_errors().size(), 1u);  // libkmod stops at the first failure
    EXPECT_EQ(index.load_errors()[0].detail<IndexFormatError>()->kind, IndexFormatError::Kind::BadMagic);
    EXPECT_FALSE(index.has(IndexKind::Alias));
    EXPECT_TRUE(index.has(IndexKind::Builtin));  // still read, as libkmod's fallback reads it
    ModprobeConfig config;
    ModprobeSession s(index, config);
    EXPECT_TRUE(s.lookup("pci:v1234")->empty());
    EXPECT_EQ(s.lookup("core")->size(), 1u);
}

// One index and configuration, a session per thread: the same answers as
// one thread alone (run under TSan with the concurrent label).
TEST_F(ModuleDir, SharedByThreads) {
    const ModuleIndex index = ModuleIndex::open(dir_);
    ModprobeConfig config;
    std::vector<ConfigDiagnostic> diagnostics;
    config.parse("softdep b post: d\noptions c x=1\n", "t.conf", diagnostics);
    std::vector<std::string> names{"a", "b", "c", "d", "pci:v1", "pci:v12", "symbol:c_fn", "core", "fs-core", "none"};
    std::vector<std::string> expected;
    {
        ModprobeSession s(index, config);
        for (const auto& n : names) expected.push_back(describe(s, n));
    }
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 200; ++round) {
                ModprobeSession s(index, config);
                for (std::size_t i = 0; i < names.size(); ++i)
                    if (describe(s, names[i]) != expected[i]) ++mismatches[static_cast<std::size_t>(t)];
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(ModprobeConfig, SoftdepAsKmod30PrintsIt) {
    ModprobeConfig c;
    std::vector<ConfigDiagnostic> d;
    c.parse("softdep m pre: a post: b pre: c\nsoftdep n x y\nsoftdep o post: p  q\n", "f", d);
    ASSERT_EQ(c.softdeps.size(), 3u);
    EXPECT_EQ(c.softdeps[0].plain, "pre: a b cpost: b");
    EXPECT_EQ(c.softdeps[0].pre, (std::vector<std::string>{"a", "c"}));
    EXPECT_EQ(c.softdeps[1].plain, "");
    EXPECT_EQ(c.softdeps[2].plain, "post: p q");
}

TEST(ModprobeConfig, LinesAndDiagnostics) {
    ModprobeConfig c;
    std::vector<ConfigDiagnostic> d;
    c.parse("options a-b  x=1\ty\\\n=2\nalias x-[a-b] m-1\n bogus\ninclude f\nremove r\n", "f.conf", d);
    ASSERT_EQ(c.options.size(), 1u);
    EXPECT_EQ(c.options[0].modname, "a_b");
    EXPECT_EQ(c.options[0].options, " x=1 y=2");
    ASSERT_EQ(c.aliases.size(), 1u);
    EXPECT_EQ(c.aliases[0].name, "x_[a-b]");
    EXPECT_EQ(c.aliases[0].modname, "m_1");
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d[0].kind, ConfigDiagnostic::Kind::BadLine);
    EXPECT_EQ(d[0].line, 4u);
    EXPECT_EQ(d[0].word, "bogus");
    EXPECT_EQ(d[1].kind, ConfigDiagnostic::Kind::Deprecated);
    EXPECT_EQ(d[2].line, 6u);
}

TEST(ModprobeConfig, KernelCommandLine) {
    ModprobeConfig c;
    std::vector<ConfigDiagnostic> d;
    c.parse_kernel_cmdline("quiet psmouse.foo parport.dyndbg=\"file drivers/parport/ieee1284_ops.c +mpf\" "
                           "\"snd-hda.model=a b\" a.b.c=1 modprobe.blacklist=x,y-z ip=1.2.3.4 rw\n", d);
    EXPECT_TRUE(d.empty());
    ASSERT_EQ(c.options.size(), 3u);
    EXPECT_EQ(c.options[0].modname, "psmouse");
    EXPECT_EQ(c.options[0].options, "foo");
    EXPECT_EQ(c.options[1].modname, "parport");
    EXPECT_EQ(c.options[1].options, "dyndbg=\"file drivers/parport/ieee1284_ops.c +mpf\"");
    EXPECT_EQ(c.options[2].modname, "snd_hda");
    EXPECT_EQ(c.options[2].options, "model=\"a b\"");
    EXPECT_EQ(c.blacklists, (std::vector<std::string>{"x", "y-z"}));
}

// libkmod 30 drops an option whose module name has an unmatched bracket and
// says so, naming it as far as it had converted dashes.
TEST(ModprobeConfig, KernelCommandLineUnmatchedBracket) {
    ModprobeConfig c;
    std::vector<ConfigDiagnostic> d;
    c.parse_kernel_cmdline("ivrs_acpihid[14:00.5]=AMD0020:00 a-b[c-d.e=1 x-y]z.p=2 ok-[1-2].q=3 foo.bar=1", d);
    ASSERT_EQ(c.options.size(), 2u);
    EXPECT_EQ(c.options[0].modname, "ok_[1-2]");
    EXPECT_EQ(c.options[0].options, "q=3");
    EXPECT_EQ(c.options[1].modname, "foo");
    ASSERT_EQ(d.size(), 3u);
    for (const auto& e : d) EXPECT_EQ(e.kind, ConfigDiagnostic::Kind::BadKernelOption);
    EXPECT_EQ(d[0].word, "ivrs_acpihid[14:00");
    EXPECT_EQ(d[1].word, "a_b[c-d");
    EXPECT_EQ(d[2].word, "x_y]z");
}

}  // namespace
}  // namespace umod::index
