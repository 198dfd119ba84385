// Reload as one transaction (docs/reloading.md): a provider with two
// dependents replaced, its state handed over, refused at plan time with
// nothing unloaded, and rolled back to exactly what was loaded before.
#include <umod/control.h>
#include <umod/loader.h>
#include <umod/umod.h>
#include <umod/views.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/debug_log.h"

namespace umod {
namespace {

namespace fs = std::filesystem;

std::string module_file(const std::string& name) { return std::string(RELOAD_MODULES) + "/" + name + ".so"; }

// Calls `symbol` as int(void), holding a reference as holder "test" meanwhile.
int call(Registry& registry, const std::string& symbol) {
    User* me = registry.holder("test");
    auto f = registry.symbol_get(symbol, me);
    EXPECT_TRUE(f) << symbol << ": " << (f ? "" : f.error().message());
    if (!f) return -1;
    int result = reinterpret_cast<int (*)()>(*f)();
    EXPECT_TRUE(registry.symbol_put(symbol, me));
    return result;
}

// The whole registry as JSON, without the load addresses (a module loaded
// again from the same bytes is mapped wherever the dynamic linker puts it).
std::string state_of(const Registry& registry) {
    static const std::regex address("\"address\": *\"?[0-9a-fx]+\"?");
    return std::regex_replace(views::json(registry.snapshot()), address, "\"address\": -");
}

bool mapped(const std::string& file_name) {
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);)
        if (line.ends_with("/" + file_name)) return true;
    return false;
}

struct Recorder : Observer {
    std::vector<std::string> events;
    std::vector<std::vector<std::string>> plans;  // each reload event's load order
    void on_event(const Event& e) override {
        if (e.kind != EventKind::ReloadStarted && e.kind != EventKind::ReloadCommitted &&
            e.kind != EventKind::ReloadRolledBack)
            return;
        events.emplace_back(to_string(e.kind));
        plans.push_back(e.plan ? e.plan->load_order : std::vector<std::string>{});
    }
};

class Reload : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(load_module_file(registry, module_file("reload_prov_v1")));
        std::vector<std::string> scale{"scale=3"};
        ASSERT_TRUE(load_module_file(registry, module_file("reload_dep_a"), scale));
        ASSERT_TRUE(load_module_file(registry, module_file("reload_dep_b")));
        EXPECT_EQ(call(registry, "dep_b_bump"), 1);
        EXPECT_EQ(call(registry, "dep_b_bump"), 2);
        registry.subscribe(recorder);
    }

    // Expects `result` to be a ReloadFailed rolled back completely, naming `step`.
    void expect_rolled_back(const Expected<ReloadReport>& result, const std::string& step, int code) {
        ASSERT_FALSE(result);
        EXPECT_EQ(result.error().code(), code) << result.error().message();
        const auto* failed = result.error().detail<ReloadFailed>();
        ASSERT_NE(failed, nullptr) << result.error().message();
        EXPECT_EQ(failed->step, step);
        EXPECT_TRUE(failed->rollback.empty()) << result.error().message();
        EXPECT_NE(result.error().message().find("rolled back"), std::string::npos) << result.error().message();
        EXPECT_EQ(recorder.events, (std::vector<std::string>{"reload-started", "reload-rolled-back"}));
    }

    Registry registry;
    Recorder recorder;
};

TEST_F(Reload, ReplacesTheProviderAndRebindsBothDependentsInOrder) {
    EXPECT_EQ(call(registry, "dep_a_call"), (1000 + 2) * 3);
    auto old_prov = registry.find("prov");

    auto reloaded = registry.reload("prov", module_file("reload_prov_v2"));
    ASSERT_TRUE(reloaded) << reloaded.error().message();
    EXPECT_EQ(reloaded->plan.unload_order, (std::vector<std::string>{"reload_dep_b", "reload_dep_a", "prov"}));
    EXPECT_EQ(reloaded->plan.load_order, (std::vector<std::string>{"prov", "reload_dep_a", "reload_dep_b"}));
    ASSERT_EQ(reloaded->plan.states.size(), 1u);
    EXPECT_EQ(reloaded->plan.states[0].from_version, 1u);
    EXPECT_EQ(reloaded->plan.states[0].to_version, 2u);
    // Each old image proved unmapped.
    ASSERT_EQ(reloaded->replaced.size(), 3u);
    for (const auto& r : reloaded->replaced) EXPECT_TRUE(r.unmap.unmapped) << r.module;
    EXPECT_FALSE(mapped("reload_prov_v1.so"));
    EXPECT_EQ(old_prov.state(), ModuleState::Gone);

    // The dependents reach the new code, with the counter handed over and
    // dep_a's parameter as it was.
    EXPECT_EQ(call(registry, "dep_a_call"), (2000 + 2) * 3);
    EXPECT_EQ(call(registry, "dep_b_call"), (2000 + 2) * 3);
    EXPECT_EQ(call(registry, "prov_restored_from"), 1);
    EXPECT_EQ(call(registry, "dep_b_bump"), 3);
    EXPECT_EQ(recorder.events, (std::vector<std::string>{"reload-started", "reload-committed"}));
    EXPECT_EQ(recorder.plans[1], reloaded->plan.load_order);
}

TEST_F(Reload, StateCarriedAcrossThreeVersionsAndDowngradeRefused) {
    ASSERT_TRUE(registry.reload("prov", module_file("reload_prov_v2")));
    EXPECT_EQ(call(registry, "dep_b_bump"), 3);
    auto v3 = registry.reload("prov", module_file("reload_prov_v3"));
    ASSERT_TRUE(v3) << v3.error().message();
    EXPECT_EQ(call(registry, "prov_restored_from"), 2);
    EXPECT_EQ(call(registry, "dep_b_bump"), 4);
    EXPECT_EQ(call(registry, "dep_a_call"), (3000 + 4) * 3);

    std::string before = state_of(registry);
    auto down = registry.reload("prov", module_file("reload_prov_v2"));
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code(), EINVAL);
    EXPECT_NE(down.error().message().find("prov's state counter v3 cannot go to v2 (a downgrade)"), std::string::npos)
        << down.error().message();
    EXPECT_NE(down.error().message().find("nothing unloaded"), std::string::npos);
    EXPECT_EQ(state_of(registry), before);
    EXPECT_EQ(call(registry, "dep_a_call"), (3000 + 4) * 3);
}

TEST_F(Reload, RefusedWhileAHolderOutsideTheSetHoldsAReferenceAllowedWithWaitOnceItLetsGo) {
    User* ui = registry.holder("ui");
    ASSERT_TRUE(registry.symbol_get("prov_value", ui));
    std::string before = state_of(registry);

    auto refused = registry.reload("prov", module_file("reload_prov_v2"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), EWOULDBLOCK);
    EXPECT_NE(refused.error().message().find("holder ui (static 0, dynamic 1: prov_value x1)"), std::string::npos)
        << refused.error().message();
    EXPECT_EQ(state_of(registry), before);
    EXPECT_TRUE(recorder.events.empty());

    // The dry run says the same.
    auto plan = registry.plan_reload("prov", module_file("reload_prov_v2"));
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().code(), EWOULDBLOCK);

    std::thread lets_go([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        EXPECT_TRUE(registry.symbol_put("prov_value", ui));
    });
    auto waited = registry.reload("prov", module_file("reload_prov_v2"), {},
                                  ReloadOptions{.wait = std::chrono::milliseconds(10000)});
    lets_go.join();
    ASSERT_TRUE(waited) << waited.error().message();
    EXPECT_EQ(call(registry, "dep_a_call"), (2000 + 2) * 3);
}

TEST_F(Reload, MissingExportRefusedAtPlanTimeWithNothingUnloaded) {
    std::string before = state_of(registry);
    auto refused = registry.reload("prov", module_file("reload_prov_no_bump"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), ENOENT);
    EXPECT_NE(refused.error().message().find("reload_dep_b imports prov_bump from prov, which " +
                                             module_file("reload_prov_no_bump") + " does not export"),
              std::string::npos)
        << refused.error().message();
    EXPECT_EQ(state_of(registry), before);
    EXPECT_TRUE(recorder.events.empty());
    EXPECT_FALSE(mapped("reload_prov_no_bump.so"));
}

TEST_F(Reload, NamespaceChangeRefusedNamingTheDependent) {
    auto refused = registry.reload("prov", module_file("reload_prov_ns"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), EINVAL);
    EXPECT_NE(refused.error().message().find("the new prov would refuse reload_dep_a"), std::string::npos)
        << refused.error().message();
    EXPECT_NE(refused.error().message().find("in namespace VALUE_NS, which reload_dep_a does not import"), std::string::npos) << refused.error().message();
}

TEST_F(Reload, NewVersionWithoutRestoreForTheExistingStateRefused) {
    std::string before = state_of(registry);
    auto refused = registry.reload("prov", module_file("reload_prov_no_state"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), EINVAL);
    EXPECT_NE(refused.error().message().find("prov's state counter v1 has no restore in the new version"),
              std::string::npos)
        << refused.error().message();
    EXPECT_EQ(state_of(registry), before);
}

TEST_F(Reload, OldImageThatCannotBeUnmappedRefusedWithDependentsAndUnlessForcedAlone) {
    ASSERT_TRUE(registry.reload("prov", module_file("reload_prov_nodelete")));
    std::string before = state_of(registry);
    auto refused = registry.reload("prov", module_file("reload_prov_v2"), {}, ReloadOptions{.mode = ReloadMode::Force});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), EBUSY);
    EXPECT_NE(refused.error().message().find("prov cannot be unmapped (DF_1_NODELETE) and is linked with the modules "
                                             "reloaded with it"),
              std::string::npos)
        << refused.error().message();
    EXPECT_EQ(state_of(registry), before);

    // Alone: refused unless forced; forced, replaced and reported.
    ASSERT_TRUE(registry.unload("reload_dep_b"));
    ASSERT_TRUE(registry.unload("reload_dep_a"));
    auto alone = registry.plan_reload("prov", module_file("reload_prov_v2"));
    ASSERT_FALSE(alone);
    EXPECT_EQ(alone.error().code(), EBUSY);
    EXPECT_NE(alone.error().message().find("prov cannot be unmapped (DF_1_NODELETE); a forced reload replaces it anyway"),
              std::string::npos)
        << alone.error().message();
    auto forced = registry.reload("prov", module_file("reload_prov_v2"), {}, ReloadOptions{.mode = ReloadMode::Force});
    ASSERT_TRUE(forced) << forced.error().message();
    EXPECT_EQ(forced->plan.stays_mapped, (std::vector<std::string>{"prov: DF_1_NODELETE"}));
    ASSERT_EQ(forced->replaced.size(), 1u);
    EXPECT_FALSE(forced->replaced[0].unmap.unmapped);
    EXPECT_EQ(call(registry, "prov_value"), 2000 + 2);
}

TEST_F(Reload, FailingInitLeavesEverythingAsBefore) {
    std::string before = state_of(registry);
    auto result = registry.reload("prov", module_file("reload_prov_fail_init"));
    expect_rolled_back(result, "load prov (new file)", EIO);
    EXPECT_EQ(state_of(registry), before);
    EXPECT_EQ(call(registry, "dep_a_call"), (1000 + 2) * 3);
    EXPECT_EQ(call(registry, "dep_b_bump"), 3);  // the old state restored into the old version
    EXPECT_FALSE(mapped("reload_prov_fail_init.so"));
}

TEST_F(Reload, ThrowingInitLeavesEverythingAsBefore) {
    std::string before = state_of(registry);
    auto result = registry.reload("prov", module_file("reload_prov_throw"));
    expect_rolled_back(result, "load prov (new file)", ECANCELED);
    EXPECT_NE(result.error().message().find("no version 9 today"), std::string::npos) << result.error().message();
    EXPECT_EQ(state_of(registry), before);
    EXPECT_EQ(call(registry, "dep_b_bump"), 3);
}

TEST_F(Reload, FailingRestoreLeavesEverythingAsBefore) {
    std::string before = state_of(registry);
    auto result = registry.reload("prov", module_file("reload_prov_fail_restore"));
    expect_rolled_back(result, "restore state of prov", EPROTO);
    EXPECT_EQ(state_of(registry), before);
    EXPECT_EQ(call(registry, "dep_b_bump"), 3);
}

TEST_F(Reload, RestoreMissingAtRunTimeRollsBack) {
    std::string before = state_of(registry);
    auto result = registry.reload("prov", module_file("reload_prov_no_restore"));
    expect_rolled_back(result, "restore state of prov", EINVAL);
    EXPECT_EQ(state_of(registry), before);
}

TEST(ReloadKeptBytes, RollbackUsesTheKeptBytesWhenTheFileWasOverwritten) {
    // The provider loaded from a file that is then broken.
    Registry other;
    fs::path dir = fs::temp_directory_path() / ("umod-reload-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::path file = dir / "prov_v1.so";
    fs::copy_file(module_file("reload_prov_v1"), file, fs::copy_options::overwrite_existing);
    ASSERT_TRUE(load_module_file(other, file.string()));
    std::vector<std::string> scale{"scale=3"};
    ASSERT_TRUE(load_module_file(other, module_file("reload_dep_a"), scale));
    ASSERT_TRUE(load_module_file(other, module_file("reload_dep_b")));
    EXPECT_EQ(call(other, "dep_b_bump"), 1);
    {
        std::ofstream broken(file, std::ios::trunc | std::ios::binary);
        broken << "not an ELF file at all";
    }
    std::string before = state_of(other);
    auto result = other.reload("prov", module_file("reload_prov_fail_init"));
    ASSERT_FALSE(result);
    const auto* failed = result.error().detail<ReloadFailed>();
    ASSERT_NE(failed, nullptr) << result.error().message();
    EXPECT_TRUE(failed->rollback.empty()) << result.error().message();
    EXPECT_EQ(state_of(other), before);
    EXPECT_EQ(call(other, "dep_a_call"), (1000 + 1) * 3);
    EXPECT_EQ(call(other, "dep_b_bump"), 2);
    fs::remove_all(dir);
}

TEST_F(Reload, UnknownModuleAndWrongFile) {
    auto unknown = registry.reload("nope", module_file("reload_prov_v2"));
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code(), ENOENT);
    auto wrong = registry.reload("reload_dep_a", module_file("reload_prov_v2"));
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code(), EINVAL);
    EXPECT_NE(wrong.error().message().find("is module prov, not reload_dep_a"), std::string::npos)
        << wrong.error().message();
}

TEST_F(Reload, DryRunPlanDescribesTheOrderAndStates) {
    std::string before = state_of(registry);
    auto plan = registry.plan_reload("prov", module_file("reload_prov_v2"));
    ASSERT_TRUE(plan) << plan.error().message();
    EXPECT_EQ(describe_reload_plan(*plan),
              "reload prov from " + module_file("reload_prov_v2") +
                  "\n"
                  "  unload (top-down): reload_dep_b, reload_dep_a, prov\n"
                  "  load (bottom-up): prov (new file), reload_dep_a (kept bytes), reload_dep_b (kept bytes)\n"
                  "  state: prov counter v1 -> v2\n");
    EXPECT_EQ(state_of(registry), before);
    EXPECT_FALSE(mapped("reload_prov_v2.so"));
}

// `reload` in the one request table: umod run scripts and live hosts.
TEST_F(Reload, RequestTableDryRunReloadAndErrors) {
    const std::string file = module_file("reload_prov_v2");
    auto dry = control::parse_request(std::vector<std::string>{"reload", "--dry-run", "prov", file});
    ASSERT_TRUE(dry) << dry.error().message();
    EXPECT_TRUE(dry->dry_run);
    auto plan = control::execute(registry, *dry, ControlAccess::Manage);
    ASSERT_TRUE(plan) << plan.error().message();
    EXPECT_EQ(*plan, describe_reload_plan(*registry.plan_reload("prov", file)));
    auto read_only = control::execute(registry, *dry, ControlAccess::Read);
    ASSERT_FALSE(read_only);
    EXPECT_EQ(read_only.error().code(), EPERM);

    auto missing = control::parse_request(std::vector<std::string>{"reload", "prov"});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), EINVAL);
    EXPECT_NE(missing.error().message().find("missing argument"), std::string::npos) << missing.error().message();

    std::string before = state_of(registry);
    auto bad_param = control::parse_request(std::vector<std::string>{"reload", "prov", file, "nope=1"});
    ASSERT_TRUE(bad_param) << bad_param.error().message();
    auto refused = control::execute(registry, *bad_param, ControlAccess::Manage);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), EINVAL);
    EXPECT_NE(refused.error().message().find("parameter nope"), std::string::npos) << refused.error().message();
    EXPECT_EQ(state_of(registry), before);

    auto waited = control::parse_request(std::vector<std::string>{"reload", "--wait=500", "prov", file});
    ASSERT_TRUE(waited) << waited.error().message();
    EXPECT_EQ(waited->reload.wait, std::chrono::milliseconds(500));
    auto done = control::execute(registry, *waited, ControlAccess::Manage);
    ASSERT_TRUE(done) << done.error().message();
    EXPECT_EQ(*done, "prov reloaded from " + file +
                         ", dependents rebound: reload_dep_a reload_dep_b\n"
                         "  state counter handed over, v1 -> v2\n");
    EXPECT_EQ(call(registry, "dep_a_call"), (2000 + 2) * 3);
}

// The steps in the order they run, as the debug log shows them (UMOD_DEBUG=1).
TEST_F(Reload, StepsRunTopDownThenBottomUpAndRollBackInReverse) {
    std::vector<std::string> lines;
    support::set_debug_sink([&](std::string_view line) {
        if (line.starts_with("prov: reload: ")) lines.emplace_back(line.substr(14));
    });
    ASSERT_TRUE(registry.reload("prov", module_file("reload_prov_v2")));
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "unload reload_dep_b", "unload reload_dep_a", "unload prov", "save state of prov",
                         "load prov (new file)", "restore state of prov", "load reload_dep_a (from its kept bytes)",
                         "load reload_dep_b (from its kept bytes)"}));
    lines.clear();
    auto failed = registry.reload("prov", module_file("reload_prov_fail_init"));
    ASSERT_FALSE(failed);
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "unload reload_dep_b", "unload reload_dep_a", "unload prov", "save state of prov",
                         "load prov (new file)", "restore state of prov",
                         "roll back: load prov again from its kept bytes", "restore state of prov",
                         "roll back: load reload_dep_a again from its kept bytes",
                         "roll back: load reload_dep_b again from its kept bytes"}));
    support::set_debug_sink({});
}

}  // namespace
}  // namespace umod
