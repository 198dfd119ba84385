// Real modules end to end: compiled C and C++ shared objects, loaded, linked,
// used and unloaded, and the mapping proved gone.
#include <umod/loader.h>
#include <umod/umod.h>
#include <umod/views.h>

#include <dlfcn.h>
#include <link.h>
#include <elf.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "calls.h"

namespace umod {
namespace {

namespace fs = std::filesystem;

std::string example(const std::string& name) { return std::string(EXAMPLE_MODULES) + "/" + name + ".so"; }
std::string test_module(const std::string& name) { return std::string(TEST_MODULES) + "/" + name + ".so"; }

// The loader maps a private copy of each module file, which keeps the file's
// name: these look for an object of that name, wherever it lives.
bool mapped(const std::string& path) {
    std::string name = "/" + fs::path(path).filename().string();
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);)
        if (line.ends_with(name)) return true;
    return false;
}

// The path the dynamic linker knows an object of that file name by; empty if none.
std::string loaded_as(const std::string& path) {
    struct Query {
        std::string name;
        std::string found;
    } query{fs::path(path).filename().string(), {}};
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) {
            auto* q = static_cast<Query*>(data);
            if (info->dlpi_name != nullptr && fs::path(info->dlpi_name).filename() == q->name) q->found = info->dlpi_name;
            return q->found.empty() ? 0 : 1;
        },
        &query);
    return query.found;
}

bool still_loaded(const std::string& path) { return !loaded_as(path).empty(); }

struct Events final : Observer {
    std::vector<std::string> lines;
    void on_event(const Event& e) override {
        if (!e.text.empty()) lines.push_back(std::string(to_string(e.kind)) + ": " + std::string(e.text));
    }
    bool has(const std::string& needle) const {
        for (const auto& l : lines)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    }
};

class LoaderTest : public ::testing::Test {
protected:
    Registry registry;
    Events events;
    void SetUp() override { registry.subscribe(events); }
    void TearDown() override { registry.unsubscribe(events); }

    ModuleHandle load(const std::string& path, std::vector<std::string> params = {}) {
        auto r = load_module_file(registry, path, params);
        EXPECT_TRUE(r) << (r ? "" : r.error().message());
        return r ? *r : ModuleHandle();
    }
    int call(const std::string& symbol) { return testing::call_export(registry, symbol); }
};

TEST_F(LoaderTest, LinksModulesAndUnmapsThemOnUnload) {
    load(example("crc"));
    load(example("net"));
    EXPECT_EQ(call("net_checksum"), 1032);
    auto holders = registry.holders("crc");
    ASSERT_TRUE(holders);
    ASSERT_EQ(holders->size(), 1u);
    EXPECT_EQ((*holders)[0].user, "net");
    EXPECT_EQ((*holders)[0].static_uses, 1u);
    EXPECT_TRUE(mapped(example("net")));
    auto refused = registry.unload("crc");
    EXPECT_EQ(refused.error().code(), EWOULDBLOCK);

    auto net = registry.unload("net");
    ASSERT_TRUE(net);
    EXPECT_TRUE(net->unmap.unmapped);
    EXPECT_FALSE(mapped(example("net")));
    EXPECT_FALSE(still_loaded(example("net")));
    auto crc = registry.unload("crc");
    ASSERT_TRUE(crc);
    EXPECT_TRUE(crc->unmap.unmapped);
    EXPECT_FALSE(mapped(example("crc")));
    EXPECT_FALSE(still_loaded(example("crc")));
}

TEST_F(LoaderTest, SymbolGetFromAModuleIsAttributedToIt) {
    load(example("crc"));
    load(example("ext4"));
    EXPECT_EQ(call("ext4_grab"), 16);
    EXPECT_EQ(call("ext4_grab"), 16);
    auto holders = registry.holders("crc");
    ASSERT_TRUE(holders);
    ASSERT_EQ(holders->size(), 1u);
    EXPECT_EQ((*holders)[0].user, "ext4");
    EXPECT_EQ((*holders)[0].dynamic, 2u);
    EXPECT_EQ((*holders)[0].symbols[0].name, "crc16");
    EXPECT_EQ(call("ext4_release"), 0);
    auto r = registry.unload("ext4");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->leaks.size(), 1u);
    EXPECT_EQ(describe_leak(r->leaks[0]), "leak: ext4 still held 1 reference(s) to crc (crc16 x1), released");
    EXPECT_TRUE(registry.unload("crc"));
}

// A module's call sites remember their lookups; a provider reloaded at
// another address must not be reached through a stale memory.
TEST_F(LoaderTest, CallSiteCachesSurviveProviderReload) {
    load(example("crc"));
    load(example("ext4"));
    EXPECT_EQ(call("ext4_grab"), 16);
    EXPECT_EQ(call("ext4_release"), 0);
    EXPECT_EQ(call("ext4_grab"), 16);  // through the cache
    EXPECT_EQ(call("ext4_release"), 0);
    ASSERT_TRUE(registry.unload("crc"));
    EXPECT_EQ(call("ext4_grab"), -1);  // crc is gone: symbol_get fails
    load(example("crc"));
    EXPECT_EQ(call("ext4_grab"), 16);
    auto holders = registry.holders("crc");
    ASSERT_TRUE(holders);
    ASSERT_EQ(holders->size(), 1u);
    EXPECT_EQ((*holders)[0].user, "ext4");
    EXPECT_EQ((*holders)[0].dynamic, 1u);
    EXPECT_EQ(call("ext4_release"), 0);
    EXPECT_EQ(call("ext4_release"), 0);  // one put too many: caught
    EXPECT_TRUE(events.has("unmatched put: ext4 put crc16 of crc without a matching get"));
    EXPECT_TRUE(registry.holders("crc")->empty());
}

TEST_F(LoaderTest, UnmatchedPutFromAModuleKeepsTheStaticUse) {
    load(example("crc"));
    load(example("badput"));
    EXPECT_EQ(call("badput_put"), 0);
    EXPECT_TRUE(events.has("unmatched-put: unmatched put: badput put crc32 of crc without a matching get"));
    auto holders = registry.holders("crc");
    ASSERT_TRUE(holders);
    ASSERT_EQ(holders->size(), 1u);
    EXPECT_EQ((*holders)[0].static_uses, 1u);
}

TEST_F(LoaderTest, FailedInitRollsBackAndUnmaps) {
    load(example("crc"));
    auto r = load_module_file(registry, example("failinit"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ENODEV);
    EXPECT_FALSE(registry.find("failinit"));
    EXPECT_FALSE(still_loaded(example("failinit")));
    EXPECT_TRUE(registry.holders("crc")->empty());
}

TEST_F(LoaderTest, UnknownImportNamesTheModuleThatHasItUnexported) {
    load(example("crc"));
    auto r = load_module_file(registry, test_module("sneaky"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ENOENT);
    EXPECT_EQ(r.error().message(), "sneaky: unknown symbol crc_internal (defined but not exported by crc)");
    EXPECT_FALSE(still_loaded(test_module("sneaky")));
}

TEST_F(LoaderTest, UnknownImportWithoutProvider) {
    auto r = load_module_file(registry, example("net"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ENOENT);
    EXPECT_EQ(r.error().message(), "net: unknown symbol crc32");
    EXPECT_FALSE(still_loaded(example("net")));
}

TEST_F(LoaderTest, GplOnlyExportRefusedToProprietaryModule) {
    load(example("crc"));
    auto r = load_module_file(registry, example("proprietary"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), EPERM);
    EXPECT_FALSE(still_loaded(example("proprietary")));
}

TEST_F(LoaderTest, ParametersAreSetBeforeInit) {
    load(example("params"), {"count=5", "name=demo", "verbose=y"});
    EXPECT_EQ(call("params_count"), 5);
    EXPECT_EQ(call("params_name_length"), 4);
    EXPECT_EQ(call("params_verbose"), 1);
}

TEST_F(LoaderTest, BadParametersAreRefusedBeforeLoading) {
    auto unknown = load_module_file(registry, example("params"), std::vector<std::string>{"colour=blue"});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code(), EINVAL);
    EXPECT_EQ(unknown.error().message(), "params: parameter colour: unknown parameter");
    auto bad = load_module_file(registry, example("params"), std::vector<std::string>{"count=many"});
    EXPECT_EQ(bad.error().message(), "params: parameter count: 'many' is not a int");
    auto range = load_module_file(registry, example("params"), std::vector<std::string>{"count=99999999999"});
    EXPECT_EQ(range.error().message(), "params: parameter count: 99999999999 is out of range for a int");
    auto sign = load_module_file(registry, example("params"), std::vector<std::string>{"limit=-1"});
    EXPECT_EQ(sign.error().message(), "params: parameter limit: '-1' is not a ulong");
    EXPECT_FALSE(registry.find("params"));
    EXPECT_FALSE(still_loaded(example("params")));
}

TEST_F(LoaderTest, CxxExceptionsRttiAndStaticConstructorsCrossModules) {
    load(example("thrower"));
    load(example("catcher"));
    EXPECT_EQ(call("thrower_constructed"), 1);
    EXPECT_EQ(call("catcher_catches"), 1);
    EXPECT_EQ(call("catcher_sides"), 4);
    EXPECT_EQ(call("catcher_vector"), 4);
    EXPECT_EQ(call("catcher_typed"), 5);  // and the mismatched lookup refused
    EXPECT_EQ(call("catcher_ref"), 42);   // two RAII references, both released
    auto holders = registry.holders("thrower");
    ASSERT_TRUE(holders);
    ASSERT_EQ(holders->size(), 1u);
    EXPECT_EQ((*holders)[0].user, "catcher");
    EXPECT_EQ((*holders)[0].static_uses, 1u);
    EXPECT_EQ((*holders)[0].dynamic, 0u);  // the typed get was put back
    ASSERT_TRUE(registry.unload("catcher"));
    auto r = registry.unload("thrower");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->unmap.unmapped);
}

TEST_F(LoaderTest, CxxExportsByQualifiedNameAndTypedLookup) {
    load(example("thrower"));
    User* me = registry.holder("test");
    auto add = registry.symbol_get_typed("thrower::add", "int(int, int)", me);
    ASSERT_TRUE(add) << add.error().message();
    EXPECT_EQ(reinterpret_cast<int (*)(int, int)>(*add)(2, 3), 5);
    auto by_link_name = registry.symbol_get("_ZN7thrower3addEii", me);
    ASSERT_TRUE(by_link_name);
    EXPECT_EQ(*by_link_name, *add);
    auto wrong = registry.symbol_get_typed("thrower::add", "long(long)", me);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code(), EINVAL);
    EXPECT_EQ(wrong.error().message(), "thrower::add(int, int) of thrower has type int(int, int), not long(long)");
    EXPECT_TRUE(registry.symbol_put("thrower::add", me));
    EXPECT_TRUE(registry.symbol_put("thrower::add", me));
}

TEST_F(LoaderTest, HiddenCrossModuleBindingIsRefusedAndWarned) {
    // No warning at load: the binding check below covers what another module
    // could bind to.
    load(test_module("tmpl_a"));
    EXPECT_FALSE(events.has("default-visibility")) << events.lines[0];
    auto b = load_module_file(registry, test_module("tmpl_b"));
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().code(), ENOEXEC);
    EXPECT_NE(b.error().message().find("was bound to module tmpl_a's copy"), std::string::npos)
        << b.error().message();
    EXPECT_FALSE(registry.find("tmpl_b"));
    // Refused before its constructors ran: its destructors do not run either.
    EXPECT_EQ(getenv("tmpl_b_constructed"), nullptr);
    EXPECT_EQ(getenv("tmpl_b_destroyed"), nullptr);
    // A module that was constructed is destroyed once, at its unload.
    EXPECT_STREQ(getenv("tmpl_a_constructed"), "1");
    EXPECT_EQ(getenv("tmpl_a_destroyed"), nullptr);
    ASSERT_TRUE(registry.unload("tmpl_a"));
    EXPECT_STREQ(getenv("tmpl_a_destroyed"), "1");
    // Modules built with umod's flags instantiate the same templates safely.
    load(example("thrower"));
    load(example("catcher"));
    EXPECT_EQ(call("catcher_vector"), 4);
}

TEST_F(LoaderTest, UniqueSymbolsDoNotKeepAModuleMapped) {
    // Its own unique definitions: it would be their first supplier, and NODELETE.
    load(test_module("unique"));
    EXPECT_FALSE(events.has("STB_GNU_UNIQUE")) << "no hazard left to warn about";
    EXPECT_EQ(call("unique_bump"), 101);
    EXPECT_EQ(call("unique_bump"), 202);
    auto r = registry.unload("unique");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->unmap.unmapped) << (r->unmap.reasons.empty() ? "" : r->unmap.reasons[0]);
    // Loaded again: fresh statics, so the old image really went.
    load(test_module("unique"));
    EXPECT_EQ(call("unique_bump"), 101);
    EXPECT_TRUE(registry.unload("unique"));
}

TEST_F(LoaderTest, UnloadHazardsAreWarnedAtLoadAndReportedAtUnload) {
    load(test_module("nodelete"));
    EXPECT_TRUE(events.has("nodelete: DF_1_NODELETE may keep it mapped after unload"));
    EXPECT_EQ(call("nodelete_answer"), 42);
    auto r = registry.unload("nodelete");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->unmap.unmapped);
    ASSERT_FALSE(r->unmap.reasons.empty());
    EXPECT_NE(r->unmap.reasons[0].find("DF_1_NODELETE"), std::string::npos) << r->unmap.reasons[0];
}

std::string fmt_entry(int index, std::uint64_t offset) {
    char text[64];
    std::snprintf(text, sizeof text, "dynamic entry %d at offset %#llx", index, static_cast<unsigned long long>(offset));
    return text;
}

TEST_F(LoaderTest, InitThatThrowsFailsTheLoadAndRollsBack) {
    load(example("crc"));
    auto r = load_module_file(registry, test_module("throw_init"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ECANCELED);
    EXPECT_NE(r.error().message().find("throw_init: init threw std::runtime_error: init could not start"),
              std::string::npos) << r.error().message();
    ASSERT_NE(r.error().detail<CodeThrew>(), nullptr);
    EXPECT_FALSE(registry.find("throw_init"));
    EXPECT_FALSE(mapped(test_module("throw_init")));
    EXPECT_EQ(registry.modules().size(), 1u);
    // Nothing is left half-done: it loads again, and fails the same way.
    auto again = load_module_file(registry, test_module("throw_init"));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), ECANCELED);
}

TEST_F(LoaderTest, StaticConstructorThatThrowsFailsTheLoadAndRollsBack) {
    auto r = load_module_file(registry, test_module("throw_ctor"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ECANCELED);
    EXPECT_NE(r.error().message().find("throw_ctor: a static constructor threw std::runtime_error: constructor "
                                       "of a static object failed"),
              std::string::npos) << r.error().message();
    EXPECT_TRUE(registry.modules().empty());
    EXPECT_FALSE(mapped(test_module("throw_ctor")));
    load(example("crc"));  // the dynamic linker is left in order
}

TEST_F(LoaderTest, ExitThatThrowsIsCaughtAndTheUnloadCompletes) {
    load(test_module("throw_exit"));
    auto r = registry.unload("throw_exit");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->unmap.exit_error, "throw_exit: exit threw std::logic_error: exit could not stop");
    EXPECT_TRUE(r->unmap.unmapped);
    EXPECT_FALSE(registry.find("throw_exit"));
    EXPECT_FALSE(mapped(test_module("throw_exit")));
}

class BadInput : public LoaderTest {
protected:
    fs::path dir = fs::temp_directory_path() / ("umod-bad-" + std::to_string(getpid()));
    void SetUp() override {
        LoaderTest::SetUp();
        fs::create_directories(dir);
    }
    void TearDown() override {
        fs::remove_all(dir);
        LoaderTest::TearDown();
    }
    std::string write(const std::string& name, std::string bytes) {
        std::ofstream(dir / name, std::ios::binary) << bytes;
        return (dir / name).string();
    }
    std::string crc_bytes() { return bytes_of("crc"); }
    static std::string file_bytes(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    // A module's bytes as the loader maps them: DT_INIT_ARRAYSZ 0 (it runs
    // the static constructors itself).
    static std::string as_mapped(std::string bytes);
    std::string bytes_of(const std::string& module) {
        std::ifstream in(example(module), std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    void expect_refused(const std::string& path, const std::string& message) {
        auto r = load_module_file(registry, path);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code(), ENOEXEC);
        EXPECT_NE(r.error().message().find(message), std::string::npos) << r.error().message();
        EXPECT_TRUE(registry.modules().empty());
        EXPECT_FALSE(still_loaded(path));
    }
};

TEST_F(BadInput, NotElf) { expect_refused(write("text.so", "hello, world\n"), "not an ELF file"); }

TEST_F(BadInput, Truncated) {
    expect_refused(write("short.so", crc_bytes().substr(0, 40)), "file too short");
    expect_refused(write("cut.so", crc_bytes().substr(0, 2000)), "section header table past end of file");
}

TEST_F(BadInput, WrongClassAndMachine) {
    std::string bytes = crc_bytes();
    bytes[4] = 1;  // ELFCLASS32
    expect_refused(write("class.so", bytes), "not a 64-bit ELF file");
    bytes = crc_bytes();
    bytes[18] = 40;  // EM_ARM
    expect_refused(write("machine.so", bytes), "machine 40 is not x86-64");
}

TEST_F(BadInput, SectionPastEndOfFile) {
    std::string bytes = crc_bytes();
    // Move e_shoff so the table runs off the end.
    std::uint64_t shoff = bytes.size() - 64;
    std::memcpy(bytes.data() + 0x28, &shoff, 8);
    expect_refused(write("shoff.so", bytes), "past end of file");
}

TEST_F(BadInput, RelocatableObjectIsNotAModule) {
    std::string bytes = crc_bytes();
    bytes[16] = 1;  // ET_REL
    expect_refused(write("rel.so", bytes), "not a shared object");
}

// What is mapped is a private copy of the bytes that were checked: the
// user's file can change or go away meanwhile.
TEST_F(BadInput, FileOverwrittenWhileLoadedChangesNothing) {
    std::string crc = write("crc.so", crc_bytes());
    std::string net = write("net.so", bytes_of("net"));
    load(crc);
    load(net);
    EXPECT_EQ(call("net_checksum"), 1032);
    std::string copy = loaded_as(net);
    EXPECT_NE(copy, net);
    EXPECT_TRUE(copy.ends_with("/net.so")) << copy;
    // A rebuild in place: same name, other bytes.
    write("net.so", "hello, world\n");
    write("crc.so", std::string(4096, '\0'));
    EXPECT_EQ(call("net_checksum"), 1032);
    ASSERT_TRUE(registry.unload("net"));
    EXPECT_FALSE(still_loaded(net));
    // The copy still holds the bytes that were checked (kept for a reload of them).
    EXPECT_TRUE(file_bytes(copy) == as_mapped(bytes_of("net")));
    // The next load reads the new bytes.
    auto again = load_module_file(registry, net);
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message().find("not an ELF file"), std::string::npos) << again.error().message();
    ASSERT_TRUE(registry.unload("crc"));
}

// A reload of the same bytes maps the copy kept from the last load (no file
// written); a rebuilt file gets a copy of its new bytes.
TEST_F(BadInput, ReloadMapsTheKeptCopyOnlyWhileTheBytesAreTheSame) {
    std::string plugin = write("plugin.so", bytes_of("lifecycle"));
    load(plugin);
    std::string first = loaded_as(plugin);
    ASSERT_TRUE(first.ends_with("/plugin.so")) << first;
    ASSERT_TRUE(registry.unload("plugin"));
    EXPECT_FALSE(still_loaded(plugin));
    load(plugin);
    EXPECT_EQ(loaded_as(plugin), first);
    ASSERT_TRUE(registry.unload("plugin"));
    // A rebuild under the same name: other bytes, other exports.
    write("plugin.so", crc_bytes());
    load(plugin);
    std::string second = loaded_as(plugin);
    EXPECT_TRUE(second.ends_with("/plugin.so")) << second;
    EXPECT_TRUE(file_bytes(second) == as_mapped(crc_bytes()));
    EXPECT_TRUE(registry.exports("crc32"));
    EXPECT_FALSE(registry.exports("lifecycle_state"));
    ASSERT_TRUE(registry.unload("plugin"));
    EXPECT_FALSE(still_loaded(plugin));
}

// A file unchanged since it was read is not read again; one rewritten in
// place, same size and with its old mtime put back (cp -p, rsync -t), is.
TEST_F(BadInput, RewriteInPlaceKeepingSizeAndMtimeIsSeen) {
    std::string original = crc_bytes();
    std::string plugin = write("settled.so", original);
    std::this_thread::sleep_for(std::chrono::milliseconds(2200));  // its ctime a second older than the next read
    load(plugin);
    std::string copy = loaded_as(plugin);
    ASSERT_TRUE(registry.unload("settled"));
    struct stat before {};
    ASSERT_EQ(::stat(plugin.c_str(), &before), 0);
    std::string changed = original;
    auto at = changed.find("checksums for the demo");
    ASSERT_NE(at, std::string::npos);
    changed[at + 8] = 'z';
    {
        std::fstream f(plugin, std::ios::in | std::ios::out | std::ios::binary);
        f.write(changed.data(), static_cast<std::streamsize>(changed.size()));
    }
    timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, plugin.c_str(), times, 0), 0);
    load(plugin);
    EXPECT_TRUE(file_bytes(loaded_as(plugin)) == as_mapped(changed));
    ASSERT_TRUE(registry.unload("settled"));
}

TEST_F(BadInput, FileDeletedWhileLoadedChangesNothing) {
    std::string crc = write("crc.so", crc_bytes());
    std::string net = write("net.so", bytes_of("net"));
    load(crc);
    load(net);
    fs::remove(net);
    fs::remove(crc);
    EXPECT_EQ(call("net_checksum"), 1032);
    auto r = registry.unload("net");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->unmap.unmapped);
    EXPECT_FALSE(still_loaded(net));
    ASSERT_TRUE(registry.unload("crc"));
    EXPECT_EQ(load_module_file(registry, net).error().code(), ENOENT);
}

TEST_F(BadInput, PlainSharedObjectIsNotAModule) {
    expect_refused(test_module("plain"),
                   "plain.so: not a umod module: no .umod_this_module section; build it with umod_add_module "
                   "or pkg-config umod-module");
}

TEST_F(BadInput, CopyOfASystemLibraryIsNotAModule) {
    const fs::path libz = "/lib/x86_64-linux-gnu/libz.so.1";
    if (!fs::exists(libz)) GTEST_SKIP() << "no " << libz;
    fs::copy_file(libz, dir / "z.so");
    expect_refused((dir / "z.so").string(), "z.so: not a umod module: no .umod_this_module section");
}

// Finds the dynamic entry with `tag` through the program headers, as the
// dynamic linker does; returns its file offset (0 if none).
std::uint64_t dynamic_entry_offset(const std::string& bytes, std::int64_t tag, int* index) {
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    for (int i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        std::memcpy(&ph, bytes.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_DYNAMIC) continue;
        for (std::uint64_t off = ph.p_offset, n = 0; off < ph.p_offset + ph.p_filesz; off += sizeof(Elf64_Dyn), ++n) {
            Elf64_Dyn d;
            std::memcpy(&d, bytes.data() + off, sizeof d);
            if (d.d_tag == tag) {
                *index = static_cast<int>(n);
                return off;
            }
        }
    }
    return 0;
}

std::string BadInput::as_mapped(std::string bytes) {
    int index = 0;
    if (std::uint64_t off = dynamic_entry_offset(bytes, DT_INIT_ARRAYSZ, &index); off != 0)
        std::memset(bytes.data() + off + 8, 0, 8);
    return bytes;
}

// A defect glibc's loader asserts on is refused before dlopen, named with
// where it is.
TEST_F(BadInput, DynamicEntryTheDynamicLinkerAssertsOn) {
    std::string bytes = crc_bytes();
    int index = 0;
    std::uint64_t at = dynamic_entry_offset(bytes, DT_RELAENT, &index);
    ASSERT_NE(at, 0u);
    std::uint64_t sixteen = 16;
    std::memcpy(bytes.data() + at + 8, &sixteen, 8);
    expect_refused(write("crc.so", bytes),
                   fmt_entry(index, at) + ": DT_RELAENT is 16, expected 24");
}

TEST_F(BadInput, PltRelocationsWithoutTheirTable) {
    std::string bytes = bytes_of("net");
    int index = 0;
    std::uint64_t at = dynamic_entry_offset(bytes, DT_JMPREL, &index);
    ASSERT_NE(at, 0u);
    std::int64_t unknown = 0x400017;  // DT_JMPREL gone, DT_PLTREL left: a null dereference in glibc
    std::memcpy(bytes.data() + at, &unknown, 8);
    expect_refused(write("net.so", bytes), "without all of DT_JMPREL, DT_PLTREL and DT_PLTRELSZ");
}

TEST_F(BadInput, ExitThatStartsNoFunction) {
    std::string bytes = bytes_of("lifecycle");
    // lifecycle's .umod_exit holds one pointer, relocated R_X86_64_RELATIVE:
    // move its target into the middle of the function.
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    Elf64_Shdr names;
    std::memcpy(&names, bytes.data() + eh.e_shoff + eh.e_shstrndx * sizeof names, sizeof names);
    std::uint64_t exit_slot = 0, rela = 0, rela_size = 0;
    for (int i = 0; i < eh.e_shnum; ++i) {
        Elf64_Shdr sh;
        std::memcpy(&sh, bytes.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
        std::string name = bytes.data() + names.sh_offset + sh.sh_name;
        if (name == ".umod_exit") exit_slot = sh.sh_addr;
        if (name == ".rela.dyn") rela = sh.sh_offset, rela_size = sh.sh_size;
    }
    ASSERT_NE(exit_slot, 0u) << "lifecycle has no exit";
    bool moved = false;
    for (std::uint64_t off = rela; off < rela + rela_size; off += sizeof(Elf64_Rela)) {
        Elf64_Rela r;
        std::memcpy(&r, bytes.data() + off, sizeof r);
        if (r.r_offset != exit_slot) continue;
        r.r_addend += 2;
        std::memcpy(bytes.data() + off, &r, sizeof r);
        moved = true;
    }
    ASSERT_TRUE(moved);
    expect_refused(write("lifecycle.so", bytes), ".umod_exit: exit function");
    expect_refused(write("lifecycle.so", bytes), "starts no function of .symtab");
}

TEST(ModuleName, FromPath) {
    EXPECT_EQ(module_name_from_path("/lib/x/snd-hda-intel.so"), "snd_hda_intel");
    EXPECT_EQ(module_name_from_path("crc.so"), "crc");
    // The one rule, kmod's: up to the first '.', as for "snd-hda.ko.xz".
    EXPECT_EQ(module_name_from_path("/x/snd-hda.ko.xz"), "snd_hda");
    EXPECT_EQ(module_name_from_path("net.v2.so"), "net");
}

}  // namespace
}  // namespace umod
