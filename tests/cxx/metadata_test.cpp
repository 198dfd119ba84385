// <umod/metadata.h>: what a module file declares, read without running its
// code (everything.so aborts in a constructor unless allowed to run), and a
// loaded module's parameter values, typed and as /sys/module shows them.
#include <umod/loader.h>
#include <umod/metadata.h>
#include <umod/type_name.h>
#include <umod/umod.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace umod {
namespace {

std::string module_path(const std::string& name) { return std::string(OWN_MODULES) + "/" + name + ".so"; }

// Sorted: compilers write a file's declarations in different orders (GCC
// the last one first).
std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

std::vector<std::string> names_of(const std::vector<ParameterInfo>& params) {
    std::vector<std::string> out;
    for (const auto& p : params) out.push_back(p.name + ":" + p.type + ":" + p.description);
    return sorted(out);
}

const ExportInfo* export_named(const ModuleMetadata& m, std::string_view name) {
    for (const auto& e : m.exports)
        if (e.name == name) return &e;
    return nullptr;
}

bool imports(const ModuleMetadata& m, std::string_view name) {
    for (const auto& i : m.imports)
        if (i.name == name) return true;
    return false;
}

TEST(Metadata, EveryDeclarationWithoutRunningCode) {
    ASSERT_EQ(std::getenv("EVERYTHING_MAY_RUN"), nullptr);  // its constructor would abort this process
    auto m = read_module_metadata(module_path("everything"));
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->path, module_path("everything"));
    EXPECT_EQ(m->name, "everything");
    EXPECT_EQ(m->license, "GPL");
    EXPECT_EQ(m->version, "1.2.3");
    EXPECT_EQ(m->description, "every declaration");
    EXPECT_EQ(sorted(m->authors), (std::vector<std::string>{"First Author <first@example.org>", "Second Author"}));
    EXPECT_EQ(sorted(m->aliases), (std::vector<std::string>{"everything-alias", "symbol-free"}));
    EXPECT_EQ(m->softdeps, (std::vector<std::string>{"pre: storage"}));
    EXPECT_EQ(m->import_ns, (std::vector<std::string>{"OTHER"}));
    EXPECT_EQ(m->depends, (std::vector<std::string>{"storage", "cache"}));
    EXPECT_EQ(names_of(m->parameters),
              sorted({"flag:bool:a bool", "level:int:an int", "mask:uint:", "small:short:", "port:ushort:",
                      "offset:long:", "limit:ulong:", "label:charp:a charp with a default", "unset:charp:",
                      "verbosity:int:an int under another name than its variable"}));
    ASSERT_EQ(m->exports.size(), 4u);
    const ExportInfo* level = export_named(*m, "everything_level");
    ASSERT_NE(level, nullptr);
    EXPECT_EQ(level->link_name, "everything_level");
    EXPECT_EQ(level->lookup_name, "");
    EXPECT_EQ(level->license, ExportLicense::Any);
    const ExportInfo* secret = export_named(*m, "everything_secret");
    ASSERT_NE(secret, nullptr);
    EXPECT_EQ(secret->license, ExportLicense::GplOnly);
    const ExportInfo* spaced = export_named(*m, "everything_spaced");
    ASSERT_NE(spaced, nullptr);
    EXPECT_EQ(spaced->ns, "EVERYTHING");
    EXPECT_TRUE(imports(*m, "getenv"));
    EXPECT_TRUE(imports(*m, "abort"));
    for (const auto& i : m->imports) EXPECT_FALSE(i.link_name.starts_with("__umod_")) << i.link_name;
    EXPECT_FALSE(m->signature);
    // The .modinfo pairs as the file has them, parameter types included.
    bool has_parmtype = false;
    for (const auto& [key, value] : m->modinfo) has_parmtype |= key == "parmtype" && value == "verbosity:int";
    EXPECT_TRUE(has_parmtype);
}

TEST(Metadata, CxxExportsAndImportsByTheirReadableNames) {
    auto storage = read_module_metadata(module_path("storage"));
    ASSERT_TRUE(storage) << storage.error().message();
    const ExportInfo* describe = export_named(*storage, "storage::describe(std::string_view)");
    ASSERT_NE(describe, nullptr);
    EXPECT_EQ(describe->link_name, "_ZN7storage8describeB5cxx11ESt17basic_string_viewIcSt11char_traitsIcEE");
    EXPECT_EQ(describe->lookup_name, "storage::describe");
    EXPECT_EQ(describe->type, type_name<std::string(std::string_view)>());
    const ExportInfo* add = export_named(*storage, "storage::add(int, int)");
    ASSERT_NE(add, nullptr);
    EXPECT_EQ(add->type, "int(int, int)");
    ASSERT_EQ(storage->parameters.size(), 1u);  // module_param_named(prefix, describe_prefix, charp)
    EXPECT_EQ(storage->parameters[0].name, "prefix");
    EXPECT_EQ(storage->parameters[0].type, "charp");
    EXPECT_EQ(storage->parameters[0].description, "what describe() puts before a key");

    auto cache = read_module_metadata(module_path("cache"));
    ASSERT_TRUE(cache) << cache.error().message();
    EXPECT_TRUE(imports(*cache, "storage::describe(std::string_view)"));
    EXPECT_TRUE(imports(*cache, "storage::banner"));

    auto overloads = read_module_metadata(module_path("overloads"));
    ASSERT_TRUE(overloads) << overloads.error().message();
    std::vector<std::string> shown;
    for (const auto& e : overloads->exports) shown.push_back(e.name + " " + e.lookup_name + " " + e.type);
    EXPECT_EQ(sorted(shown), (std::vector<std::string>{"ov::scale(double) ov::scale@double(double) double(double)",
                                                       "ov::scale(int) ov::scale@int(int) int(int)"}));
}

class MetadataFiles : public ::testing::Test {
protected:
    void SetUp() override {
        dir = std::filesystem::temp_directory_path() /
              ("umod-metadata-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir);
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    std::string write(const std::string& name, const std::string& bytes) {
        std::string path = (dir / name).string();
        std::ofstream(path, std::ios::binary) << bytes;
        return path;
    }
    static std::string contents(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    // The kernel's signature trailer: signer, key id and signature, then
    // struct module_signature (X509, sha256) and the magic.
    static std::string signed_trailer(std::uint32_t signature_length) {
        std::string t(12, '\0');
        t[1] = 4;  // sha256
        t[2] = 1;  // X509
        t[3] = 6;  // signer "Signer"
        t[4] = 2;  // key id
        std::uint32_t be = __builtin_bswap32(signature_length);
        std::memcpy(t.data() + 8, &be, 4);
        return t + "~Module signature appended~\n";
    }
    std::filesystem::path dir;
};

TEST_F(MetadataFiles, AnAppendedSignatureIsReported) {
    std::string path = write("signed.so", contents(module_path("storage")) + "Signer" + std::string("\x0a\x0b", 2) +
                                              "SIG" + signed_trailer(3));
    auto m = read_module_metadata(path);
    ASSERT_TRUE(m) << m.error().message();
    ASSERT_TRUE(m->signature);
    EXPECT_EQ(m->signature->id_type, "X509");
    EXPECT_EQ(m->signature->signer, "Signer");
    EXPECT_EQ(m->signature->key_id, (std::vector<std::uint8_t>{0x0a, 0x0b}));
    EXPECT_EQ(m->signature->hash_algorithm, "sha256");
    EXPECT_EQ(m->signature->signature, (std::vector<std::uint8_t>{'S', 'I', 'G'}));
    EXPECT_EQ(m->name, "signed");
    EXPECT_EQ(m->exports.size(), 3u);
}

TEST_F(MetadataFiles, BadFilesAreErrorsNamingThePath) {
    auto missing = read_module_metadata((dir / "missing.so").string());
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), ENOENT);
    EXPECT_NE(missing.error().message().find("missing.so"), std::string::npos) << missing.error().message();

    std::string junk = write("junk.so", "not an ELF file at all");
    auto not_elf = read_module_metadata(junk);
    ASSERT_FALSE(not_elf);
    EXPECT_EQ(not_elf.error().code(), ENOEXEC);
    EXPECT_NE(not_elf.error().message().find(junk), std::string::npos) << not_elf.error().message();

    auto plain = read_module_metadata(std::string(LOADER_MODULES) + "/plain.so");
    ASSERT_FALSE(plain);
    EXPECT_EQ(plain.error().code(), ENOEXEC);
    EXPECT_NE(plain.error().message().find("plain.so: not a umod module"), std::string::npos)
        << plain.error().message();

    std::string bad_trailer = write("trailer.so", contents(module_path("storage")) + signed_trailer(1u << 30));
    auto bad = read_module_metadata(bad_trailer);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), EBADMSG);
    EXPECT_NE(bad.error().message().find("trailer.so"), std::string::npos) << bad.error().message();

    // Every prefix of a module is refused or read, never a crash.
    std::string whole = contents(module_path("everything"));
    for (std::size_t size : {std::size_t{0}, std::size_t{63}, std::size_t{64}, whole.size() / 2, whole.size() - 1}) {
        std::string cut = write("cut.so", whole.substr(0, size));
        auto result = read_module_metadata(cut);
        if (!result) {
            EXPECT_NE(result.error().message().find("cut.so"), std::string::npos) << size;
        }
    }
}

// ---- the values of a loaded module ---------------------------------------------

class LoadedParameters : public ::testing::Test {
protected:
    void SetUp() override { ::setenv("EVERYTHING_MAY_RUN", "1", 1); }
    void TearDown() override { ::unsetenv("EVERYTHING_MAY_RUN"); }
    static const ParameterValue* named(const std::vector<ParameterValue>& values, std::string_view name) {
        for (const auto& v : values)
            if (v.name == name) return &v;
        return nullptr;
    }
    Registry registry;
};

TEST_F(LoadedParameters, DefaultsOfEveryTypeAsSysfsShowsThem) {
    auto m = load_module_file(registry, module_path("everything"));
    ASSERT_TRUE(m) << m.error().message();
    auto values = module_parameters(*m);
    ASSERT_TRUE(values) << values.error().message();
    ASSERT_EQ(values->size(), 10u);
    std::vector<std::string> shown;
    for (const auto& v : *values) shown.push_back(v.name + "=" + v.text);
    EXPECT_EQ(sorted(shown), sorted({"flag=Y", "level=-3", "mask=7", "small=-2", "port=8080",
                                               "offset=-5000000000", "limit=10000000000", "label=default label",
                                               "unset=(null)", "verbosity=1"}));
    EXPECT_EQ(std::get<bool>(named(*values, "flag")->value), true);
    EXPECT_EQ(std::get<long long>(named(*values, "level")->value), -3);
    EXPECT_EQ(std::get<unsigned long long>(named(*values, "mask")->value), 7u);
    EXPECT_EQ(std::get<long long>(named(*values, "small")->value), -2);
    EXPECT_EQ(std::get<unsigned long long>(named(*values, "port")->value), 8080u);
    EXPECT_EQ(std::get<long long>(named(*values, "offset")->value), -5000000000LL);
    EXPECT_EQ(std::get<unsigned long long>(named(*values, "limit")->value), 10000000000ULL);
    EXPECT_EQ(std::get<std::string>(named(*values, "label")->value), "default label");
    EXPECT_TRUE(std::holds_alternative<std::monostate>(named(*values, "unset")->value));
    EXPECT_EQ(named(*values, "verbosity")->type, "int");
    EXPECT_EQ(named(*values, "verbosity")->description, "an int under another name than its variable");
    EXPECT_EQ(named(*values, "label")->description, "a charp with a default");
}

TEST_F(LoadedParameters, ValuesSetAtLoadAndChangedByTheModule) {
    std::vector<std::string> params{"flag=n", "level=-7", "mask=0x10", "small=-32768", "port=65535",
                                    "offset=-1", "limit=18446744073709551615", "label=two words",
                                    "unset=now set", "verbosity=3"};
    auto m = load_module_file(registry, module_path("everything"), params);
    ASSERT_TRUE(m) << m.error().message();
    auto values = module_parameters(*m);
    ASSERT_TRUE(values) << values.error().message();
    std::vector<std::string> shown;
    for (const auto& v : *values) shown.push_back(v.name + "=" + v.text);
    EXPECT_EQ(sorted(shown), sorted({"flag=N", "level=-7", "mask=16", "small=-32768", "port=65535",
                                               "offset=-1", "limit=18446744073709551615", "label=two words",
                                               "unset=now set", "verbosity=3"}));
    EXPECT_EQ(std::get<unsigned long long>(named(*values, "limit")->value), 18446744073709551615ULL);
    EXPECT_EQ(std::get<std::string>(named(*values, "unset")->value), "now set");

    // Read when asked: the module's own change shows.
    User* me = registry.holder("test");
    auto set = registry.symbol_get("everything_set_level", me);
    ASSERT_TRUE(set) << set.error().message();
    reinterpret_cast<void (*)(int)>(*set)(12);
    ASSERT_TRUE(registry.symbol_put("everything_set_level", me));
    values = module_parameters(*m);
    ASSERT_TRUE(values);
    EXPECT_EQ(named(*values, "level")->text, "12");
    // Reading took no reference: nobody holds it now.
    auto holders = registry.holders("everything");
    ASSERT_TRUE(holders);
    for (const auto& h : *holders) EXPECT_EQ(h.dynamic, 0u) << h.user;
}

TEST_F(LoadedParameters, CharpFromCxxUnderItsParameterName) {
    auto m = load_module_file(registry, module_path("storage"), std::vector<std::string>{"prefix=p:"});
    ASSERT_TRUE(m) << m.error().message();
    auto values = module_parameters(*m);
    ASSERT_TRUE(values) << values.error().message();
    ASSERT_EQ(values->size(), 1u);
    EXPECT_EQ((*values)[0].name, "prefix");
    EXPECT_EQ((*values)[0].text, "p:");
}

TEST_F(LoadedParameters, UnloadedEmptyAndLinkOnlyModules) {
    auto m = load_module_file(registry, module_path("everything"));
    ASSERT_TRUE(m) << m.error().message();
    ModuleHandle handle = *m;
    ASSERT_TRUE(registry.unload("everything"));
    auto gone = module_parameters(handle);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code(), ENOENT);
    EXPECT_EQ(gone.error().message(), "module everything is not loaded") << gone.error().message();

    auto none = module_parameters(ModuleHandle());
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code(), ENOENT);

    ModuleImage image;
    image.name = "linked";
    image.init = [] { return 0; };
    image.exit = [] {};
    auto linked = registry.load(std::move(image));
    ASSERT_TRUE(linked) << linked.error().message();
    auto values = module_parameters(*linked);
    ASSERT_TRUE(values) << values.error().message();
    EXPECT_TRUE(values->empty());
}

// A reader on another thread while the module is unloaded and loaded again:
// each read sees the values or ENOENT, never unmapped memory.
TEST_F(LoadedParameters, ReadsRaceUnloadSafely) {
    std::atomic<bool> stop{false};
    std::atomic<ModuleHandle*> current{nullptr};
    std::vector<ModuleHandle> handles;
    handles.reserve(64);
    std::thread reader([&] {
        while (!stop.load()) {
            if (ModuleHandle* h = current.load()) {
                auto values = module_parameters(*h);
                if (values) {
                    EXPECT_EQ(values->size(), 10u);
                } else {
                    EXPECT_EQ(values.error().code(), ENOENT);
                }
            }
        }
    });
    for (int i = 0; i < 20; ++i) {
        auto m = load_module_file(registry, module_path("everything"));
        ASSERT_TRUE(m) << m.error().message();
        handles.push_back(*m);
        current.store(&handles.back());
        std::this_thread::yield();
        ASSERT_TRUE(registry.unload("everything"));
    }
    stop.store(true);
    reader.join();
}

}  // namespace
}  // namespace umod
