// A module whose licence is missing ("unspecified") or not GPL-compatible
// loads with a Warning and taints the registry and itself with P, the
// kernel's TAINT_PROPRIETARY_MODULE, shown in /proc/modules' taint column.
#include <umod/loader.h>
#include <umod/umod.h>
#include <umod/views.h>

#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace umod {
namespace {

int answer() { return 1; }

struct Warnings final : Observer {
    void on_event(const Event& e) override {
        if (e.kind == EventKind::Warning) texts.emplace_back(e.text);
    }
    std::vector<std::string> texts;
};

ModuleImage image(std::string name, std::string license, std::vector<std::string> imports = {}) {
    ModuleImage m;
    m.name = name;
    if (!license.empty()) m.modinfo = {{"license", license}};
    m.exports.push_back({.name = name + "_answer", .address = reinterpret_cast<const void*>(&answer)});
    m.imports = std::move(imports);
    m.exit = [] {};
    return m;
}

// The /proc/modules line of `name`.
std::string proc_line(const Registry& registry, const std::string& name) {
    std::string all = views::proc_modules(registry.snapshot());
    auto at = all.find(name + " ");
    if (at == std::string::npos) return {};
    return all.substr(at, all.find('\n', at) - at);
}

class LicenseTaint : public ::testing::Test {
protected:
    void SetUp() override { registry.subscribe(warnings); }
    Registry registry;
    Warnings warnings;
};

TEST_F(LicenseTaint, AModuleWithoutLicenceLoadsWithAWarningAndTaints) {
    auto m = load_module_file(registry, std::string(OWN_MODULES) + "/nolicense.so");
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(warnings.texts, std::vector<std::string>{"nolicense: module license 'unspecified' taints the registry"});
    std::string line = proc_line(registry, "nolicense");
    EXPECT_TRUE(line.ends_with(" (P)")) << line;
    EXPECT_EQ(registry.snapshot().taints, "P");
    ASSERT_TRUE(registry.unload("nolicense"));
    EXPECT_EQ(registry.snapshot().taints, "P");  // a taint stays
}

TEST_F(LicenseTaint, AProprietaryLicenceTaintsAndAGplOneDoesNot) {
    ASSERT_TRUE(registry.load(image("free", "GPL v2")));
    EXPECT_TRUE(warnings.texts.empty());
    EXPECT_EQ(proc_line(registry, "free").find('('), std::string::npos) << proc_line(registry, "free");
    EXPECT_EQ(registry.snapshot().taints, "");
    ASSERT_TRUE(registry.load(image("closed", "Proprietary")));
    EXPECT_EQ(warnings.texts, std::vector<std::string>{"closed: module license 'Proprietary' taints the registry"});
    EXPECT_TRUE(proc_line(registry, "closed").ends_with(" (P)")) << proc_line(registry, "closed");
    EXPECT_EQ(proc_line(registry, "free").find('('), std::string::npos);
    EXPECT_EQ(registry.snapshot().taints, "P");
}

// umod taints once a module's code is in place: a module refused at link
// (here: a GPL-only import) ran nothing and taints nothing.
TEST_F(LicenseTaint, AModuleRefusedAtLinkDoesNotTaint) {
    ModuleImage gpl = image("gpl", "GPL");
    gpl.exports[0].license = ExportLicense::GplOnly;
    ASSERT_TRUE(registry.load(std::move(gpl)));
    auto refused = registry.load(image("closed", "", {"gpl_answer"}));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), EPERM);
    EXPECT_TRUE(warnings.texts.empty());
    EXPECT_EQ(registry.snapshot().taints, "");
}

TEST_F(LicenseTaint, TaintsKeepTheKernelsOrder) {
    ASSERT_TRUE(registry.load(image("provider", "GPL")));
    ASSERT_TRUE(registry.symbol_get("provider_answer", registry.holder("host")));
    ASSERT_TRUE(registry.unload("provider", UnloadOptions{.mode = UnloadMode::Force}));
    EXPECT_EQ(registry.snapshot().taints, "F");
    ASSERT_TRUE(registry.load(image("closed", "")));
    EXPECT_EQ(registry.snapshot().taints, "PF");
}

}  // namespace
}  // namespace umod
