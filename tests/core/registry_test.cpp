// The registry's semantics, each asserted as a user would notice it: exact
// error codes, the names in messages, what is left loaded.
#include <umod/umod.h>
#include <umod/views.h>

#include <cerrno>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "fixtures.h"
#include "holders.h"

namespace umod {
namespace {

using testing::EventLog;
using testing::ImageBuilder;
using namespace std::chrono_literals;

class RegistryTest : public ::testing::Test {
protected:
    Registry registry;

    ModuleHandle load(ModuleImage image) {
        auto result = registry.load(std::move(image));
        EXPECT_TRUE(result) << (result ? "" : result.error().message());
        return result ? *result : ModuleHandle();
    }
    std::string proc() { return views::proc_modules(registry.snapshot()); }
    HolderCounts holder_of(std::string_view provider, std::string_view user) {
        return testing::holder_of(registry, provider, user);
    }
};

TEST_F(RegistryTest, LinkingTakesOneStaticUsePerProviderPair) {
    load(ImageBuilder("crc").exports("crc32").exports("crc16").build());
    load(ImageBuilder("net").imports("crc32").imports("crc16").build());
    HolderCounts h = holder_of("crc", "net");
    EXPECT_EQ(h.static_uses, 1u);
    EXPECT_EQ(h.dynamic, 0u);
    EXPECT_EQ(proc(),
              "net 16384 0 - Live 0x0000000000000000\n"
              "crc 16384 1 net, Live 0x0000000000000000\n");
}

TEST_F(RegistryTest, DuplicateNameIsEexist) {
    load(ImageBuilder("crc").build());
    auto again = registry.load(ImageBuilder("crc").build());
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), EEXIST);
    EXPECT_EQ(again.error().message(), "module crc is already loaded");
}

TEST_F(RegistryTest, UnknownSymbolsNameEveryMissingOneAndLeaveNothing) {
    load(ImageBuilder("crc").exports("crc32").build());
    std::string before = proc();
    auto r = registry.load(ImageBuilder("net").imports("crc32").imports("sha1").imports("md5").build());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ENOENT);
    EXPECT_EQ(r.error().message(), "net: unknown symbols sha1, md5");
    const auto* detail = r.error().detail<UnknownSymbols>();
    ASSERT_NE(detail, nullptr);
    ASSERT_EQ(detail->symbols.size(), 2u);
    EXPECT_EQ(proc(), before);  // no static use on crc was kept
    EXPECT_FALSE(registry.find("net"));
}

TEST_F(RegistryTest, GplOnlyExportRefusedToNonGplModule) {
    load(ImageBuilder("core").exports("gpl_fn", ExportLicense::GplOnly).exports("plain_fn").build());
    auto r = registry.load(ImageBuilder("blob", "Proprietary").imports("gpl_fn").build());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), EPERM);
    EXPECT_EQ(r.error().message(),
              "blob: GPL-only symbol gpl_fn of core refused to a user with license 'Proprietary'");
    EXPECT_TRUE(registry.load(ImageBuilder("blob", "Proprietary").imports("plain_fn").build()));
    EXPECT_TRUE(registry.load(ImageBuilder("dual", "Dual MIT/GPL").imports("gpl_fn").build()));
}

TEST_F(RegistryTest, GetsFollowTheLicenceRulesPerUser) {
    load(ImageBuilder("core").exports("gpl_fn", ExportLicense::GplOnly).exports("plain_fn").build());
    auto blob = load(ImageBuilder("blob", "Proprietary").build());
    auto get = registry.symbol_get("gpl_fn", blob.user());
    ASSERT_FALSE(get);
    EXPECT_EQ(get.error().code(), EPERM);
    EXPECT_TRUE(registry.symbol_get("plain_fn", blob.user()));
    // The host's parts are not modules: they may get GPL-only exports.
    EXPECT_TRUE(registry.symbol_get("gpl_fn", registry.holder("ui")));
    EXPECT_TRUE(registry.symbol_get("gpl_fn", nullptr));
}

TEST_F(RegistryTest, NamespacedExportNeedsImportNs) {
    load(ImageBuilder("usb").exports("usb_fn", ExportLicense::Any, "USB_STORAGE").build());
    auto r = registry.load(ImageBuilder("uas").imports("usb_fn").build());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), EINVAL);
    EXPECT_EQ(r.error().message(),
              "uas: symbol usb_fn of usb is in namespace USB_STORAGE, which uas does not import "
              "(MODULE_IMPORT_NS(USB_STORAGE))");
    EXPECT_TRUE(registry.load(ImageBuilder("uas").imports("usb_fn").import_ns("USB_STORAGE").build()));
}

TEST_F(RegistryTest, DuplicateExportNamesBothOwners) {
    load(ImageBuilder("a").exports("shared_fn").build());
    auto r = registry.load(ImageBuilder("b").exports("own_fn").exports("shared_fn").build());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ENOEXEC);
    EXPECT_EQ(r.error().message(), "b: exports shared_fn, already exported by a");
    // own_fn was not left behind.
    EXPECT_FALSE(registry.symbol_get("own_fn", nullptr));

    ASSERT_TRUE(registry.add_core_export({.name = "printk", .address = &errno}));
    auto core = registry.load(ImageBuilder("c").exports("printk").build());
    ASSERT_FALSE(core);
    EXPECT_EQ(core.error().message(), "c: exports printk, already exported by (core)");
}

TEST_F(RegistryTest, ImportsResolveAgainstTheCoreTable) {
    int value = 0;
    ASSERT_TRUE(registry.add_core_export({.name = "printk", .address = &value}));
    load(ImageBuilder("m").imports("printk").build());
    auto p = registry.symbol_get("printk", nullptr);
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, &value);
}

TEST_F(RegistryTest, ProviderStillComingIsWaitedForThenEbusy) {
    Registry quick(RegistryOptions{.provider_wait = 50ms});
    std::promise<void> release_init;
    std::shared_future<void> released = release_init.get_future().share();
    std::promise<void> init_started;
    std::thread loader([&] {
        auto r = quick.load(ImageBuilder("slow").exports("slow_fn").init([&] {
                                init_started.set_value();
                                released.wait();
                                return 0;
                            }).build());
        EXPECT_TRUE(r);
    });
    init_started.get_future().wait();
    auto r = quick.load(ImageBuilder("user").imports("slow_fn").build());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), EBUSY);
    EXPECT_EQ(r.error().message(), "user: slow_fn of slow is not available: slow is coming");
    EXPECT_FALSE(quick.find("user"));

    // Within the wait, the provider going live lets the load through.
    std::thread finisher([&] {
        std::this_thread::sleep_for(10ms);
        release_init.set_value();
    });
    Registry* reg = &quick;
    auto ok = reg->load(ImageBuilder("user").imports("slow_fn").build());
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().message());
    finisher.join();
    loader.join();
}

TEST_F(RegistryTest, InitFailureRollsBackEverything) {
    load(ImageBuilder("crc").exports("crc32").build());
    std::string before = proc();
    auto r = registry.load(ImageBuilder("net").imports("crc32").exports("net_fn").init([&] {
                               // init takes a dynamic reference, then fails
                               EXPECT_TRUE(registry.symbol_get("crc32", registry.find("net").user()));
                               return -ENODEV;
                           }).build());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ENODEV);
    EXPECT_EQ(r.error().message(), "net: init failed with error 19");
    EXPECT_EQ(proc(), before);
    EXPECT_FALSE(registry.find("net"));
    EXPECT_FALSE(registry.symbol_get("net_fn", nullptr));
    EXPECT_TRUE(registry.unload("crc"));  // nothing pins it
    // The name is free again.
    EXPECT_TRUE(registry.load(ImageBuilder("net").build()));
}

TEST_F(RegistryTest, GetTakesOneProviderReferencePerPair) {
    auto crc = load(ImageBuilder("crc").exports("crc32").exports("crc16").build());
    auto net = load(ImageBuilder("net").build());
    auto a = registry.symbol_get("crc32", net.user());
    ASSERT_TRUE(a);
    EXPECT_EQ(*a, testing::address_of("crc:crc32"));
    EXPECT_TRUE(registry.symbol_get("crc32", net.user()));
    EXPECT_TRUE(registry.symbol_get("crc16", net.user()));
    HolderCounts h = holder_of("crc", "net");
    EXPECT_EQ(h.static_uses, 0u);
    EXPECT_EQ(h.dynamic, 3u);
    ASSERT_EQ(h.symbols.size(), 2u);
    EXPECT_EQ(h.symbols[0].name, "crc32");
    EXPECT_EQ(h.symbols[0].count, 2u);
    EXPECT_EQ(h.symbols[1].name, "crc16");
    EXPECT_EQ(h.symbols[1].count, 1u);
    EXPECT_EQ(registry.snapshot().modules[1].refcount, 1);  // one pair, one reference
    EXPECT_TRUE(registry.symbol_put("crc32", net.user()));
    EXPECT_TRUE(registry.symbol_put("crc32", net.user()));
    EXPECT_TRUE(registry.symbol_put("crc16", net.user()));
    EXPECT_EQ(registry.snapshot().modules[1].refcount, 0);
    EXPECT_TRUE(registry.unload("crc"));
}

TEST_F(RegistryTest, GetOnComingOrGoingProviderFails) {
    Error seen(0, "");
    auto self_get = [&](std::string_view name) {
        auto r = registry.symbol_get("p_fn", registry.holder("probe"));
        EXPECT_FALSE(r) << name;
        if (!r) seen = r.error();
    };
    load(ImageBuilder("p").exports("p_fn").init([&] { self_get("init"); return 0; })
             .exit([&] { self_get("exit"); }).build());
    EXPECT_EQ(seen.code(), EBUSY);
    EXPECT_EQ(seen.message(), "probe: p_fn of p is not available: p is coming");
    ASSERT_TRUE(registry.unload("p"));
    EXPECT_EQ(seen.message(), "probe: p_fn of p is not available: p is going");
}

// The seed's own example: 1 uses 2 at link time; an extra put by 1 must not
// remove the static use.
TEST_F(RegistryTest, SeedExampleUnmatchedPutLeavesStaticUse) {
    EventLog log;
    registry.subscribe(log);
    load(ImageBuilder("mod2").exports("f").build());
    auto mod1 = load(ImageBuilder("mod1").imports("f").build());
    std::string before = proc();
    Status put = registry.symbol_put("f", mod1.user());
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code(), EINVAL);
    EXPECT_EQ(put.error().message(), "unmatched put: mod1 put f of mod2 without a matching get");
    const auto* d = put.error().detail<UnmatchedPut>();
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->user, "mod1");
    EXPECT_EQ(d->provider, "mod2");
    EXPECT_EQ(d->symbol, "f");
    EXPECT_EQ(proc(), before);
    EXPECT_EQ(holder_of("mod2", "mod1").static_uses, 1u);
    auto unload = registry.unload("mod2");
    ASSERT_FALSE(unload);
    EXPECT_EQ(unload.error().code(), EWOULDBLOCK);
    ASSERT_FALSE(log.lines.empty());
    EXPECT_EQ(log.lines.back(), "unmatched-put: unmatched put: mod1 put f of mod2 without a matching get");
    registry.unsubscribe(log);
}

TEST_F(RegistryTest, UnmatchedPutAfterBalancedUseIsCaught) {
    load(ImageBuilder("p").exports("f").exports("g").build());
    User* ui = registry.holder("ui");
    ASSERT_TRUE(registry.symbol_get("f", ui));
    ASSERT_TRUE(registry.symbol_put("f", ui));
    Status again = registry.symbol_put("f", ui);
    EXPECT_EQ(again.error().code(), EINVAL);
    // A put of another symbol of the same provider is not matched by f's get.
    ASSERT_TRUE(registry.symbol_get("f", ui));
    EXPECT_FALSE(registry.symbol_put("g", ui));
    EXPECT_EQ(holder_of("p", "ui").dynamic, 1u);
    Status unknown = registry.symbol_put("nope", ui);
    EXPECT_EQ(unknown.error().message(), "unmatched put: ui put nope, which no module exports");
}

// A put is matched against its own user and registry, whatever this
// thread's last get was (the hot path remembers it): a put by another user,
// or in a registry made where a destroyed one was, is unmatched.
TEST(RegistryReferences, PutIsMatchedToItsOwnUserAndRegistryNotTheThreadsLastGet) {
    for (int round = 0; round < 3; ++round) {
        auto registry = std::make_unique<Registry>();
        ASSERT_TRUE(registry->load(ImageBuilder("p").exports("f").build()));
        User* a = registry->holder("a");
        User* b = registry->holder("b");
        if (round > 0) {
            EXPECT_EQ(registry->symbol_put("f", a).error().code(), EINVAL);  // nothing taken here
        }
        ASSERT_TRUE(registry->symbol_get("f", a));
        EXPECT_EQ(registry->symbol_put("f", b).error().code(), EINVAL);
        EXPECT_TRUE(registry->symbol_put("f", a));
        EXPECT_EQ(registry->symbol_put("f", a).error().code(), EINVAL);
        // The thread's last get, still held when its registry goes: the pair
        // outlives the registry (as an RAII handle's would).
        ASSERT_TRUE(registry->symbol_get("f", a));
    }
}

TEST(RegistryPolicy, AbortPolicyAbortsAtThePut) {
    EXPECT_DEATH(
        {
            Registry r(RegistryOptions{.unmatched_put = UnmatchedPutPolicy::Abort});
            (void)r.load(ImageBuilder("p").exports("f").build());
            (void)r.symbol_put("f", r.holder("ui"));
        },
        "unmatched put: ui put f of p without a matching get");
}

TEST_F(RegistryTest, PutAddrFindsTheSymbolByAddress) {
    load(ImageBuilder("p").exports("f").build());
    User* ui = registry.holder("ui");
    auto f = registry.symbol_get("f", ui);
    ASSERT_TRUE(f);
    EXPECT_TRUE(registry.symbol_put_addr(*f, ui));
    EXPECT_EQ(registry.symbol_put_addr(*f, ui).error().code(), EINVAL);
    int local = 0;
    EXPECT_EQ(registry.symbol_put_addr(&local, ui).error().code(), EFAULT);
}

TEST_F(RegistryTest, TryModuleGetAnonymousAndAttributed) {
    auto p = load(ImageBuilder("p").build());
    User* sched = registry.holder("scheduler");
    ASSERT_TRUE(registry.try_module_get(p.get(), sched));
    ASSERT_TRUE(registry.try_module_get(p.get(), nullptr));
    auto holders = registry.holders("p");
    ASSERT_TRUE(holders);
    ASSERT_EQ(holders->size(), 2u);
    EXPECT_EQ((*holders)[0].user, "(anonymous)");
    EXPECT_EQ((*holders)[1].user, "scheduler");
    EXPECT_EQ((*holders)[1].symbols[0].name, "(module)");
    auto refused = registry.unload("p");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message(),
              "p is in use: anonymous (anonymous) (static 0, dynamic 1: (module) x1); "
              "holder scheduler (static 0, dynamic 1: (module) x1)");
    EXPECT_TRUE(registry.module_put(p.get(), sched));
    EXPECT_TRUE(registry.module_put(p.get(), nullptr));
    EXPECT_EQ(registry.module_put(p.get(), nullptr).error().code(), EINVAL);
    EXPECT_TRUE(registry.unload("p"));
}

TEST_F(RegistryTest, UnloadErrors) {
    auto missing = registry.unload("ghost");
    EXPECT_EQ(missing.error().code(), ENOENT);
    EXPECT_EQ(missing.error().message(), "module ghost is not loaded");

    load(ImageBuilder("perm").init([] { return 0; }).no_exit().build());
    auto perm = registry.unload("perm");
    EXPECT_EQ(perm.error().code(), EBUSY);
    EXPECT_EQ(perm.error().message(), "perm cannot be unloaded: it has an init function but no exit function");
    EXPECT_EQ(proc(), "perm 16384 0 [permanent], Live 0x0000000000000000\n");
    EXPECT_TRUE(registry.unload("perm", {.mode = UnloadMode::Force}));
}

TEST_F(RegistryTest, UnloadOfAModuleNotLiveIsEbusy) {
    Status from_init;
    load(ImageBuilder("early").init([&] {
                                  auto r = registry.unload("early");
                                  from_init = r ? Status() : Status(r.error());
                                  return 0;
                              }).build());
    ASSERT_FALSE(from_init);
    EXPECT_EQ(from_init.error().code(), EBUSY);
    EXPECT_EQ(from_init.error().message(), "early cannot be unloaded: it is coming");
}

TEST_F(RegistryTest, UnloadRefusedNamesHoldersWithCounts) {
    load(ImageBuilder("crc").exports("crc32").build());
    auto net = load(ImageBuilder("net").imports("crc32").build());
    auto ext4 = load(ImageBuilder("ext4").build());
    ASSERT_TRUE(registry.symbol_get("crc32", ext4.user()));
    ASSERT_TRUE(registry.symbol_get("crc32", ext4.user()));
    auto r = registry.unload("crc");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), EWOULDBLOCK);
    EXPECT_EQ(r.error().message(),
              "crc is in use: module ext4 (static 0, dynamic 2: crc32 x2); module net (static 1, dynamic 0)");
    // Force never overrides static dependents.
    auto forced = registry.unload("crc", {.mode = UnloadMode::Force});
    EXPECT_EQ(forced.error().code(), EWOULDBLOCK);
    EXPECT_EQ(registry.find("crc").state(), ModuleState::Live);
}

TEST_F(RegistryTest, ForceUnloadDespiteDynamicReferencesTaints) {
    load(ImageBuilder("crc").exports("crc32").build());
    User* ui = registry.holder("ui");
    ASSERT_TRUE(registry.symbol_get("crc32", ui));
    auto handle = registry.find("crc");
    auto r = registry.unload("crc", {.mode = UnloadMode::Force});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->forced.size(), 1u);
    EXPECT_EQ(r->forced[0].user, "ui");
    EXPECT_EQ(registry.snapshot().taints, "F");
    EXPECT_EQ(handle.state(), ModuleState::Gone);  // defunct, not dangling
    EXPECT_EQ(handle.name(), "crc");
    EXPECT_EQ(registry.symbol_put("crc32", ui).error().code(), EINVAL);
}

TEST_F(RegistryTest, UnloadWaitsForReferencesToDrain) {
    load(ImageBuilder("crc").exports("crc32").build());
    User* ui = registry.holder("ui");
    ASSERT_TRUE(registry.symbol_get("crc32", ui));
    auto timed_out = registry.unload("crc", {.wait = 20ms});
    ASSERT_FALSE(timed_out);
    EXPECT_EQ(timed_out.error().code(), EWOULDBLOCK);
    EXPECT_EQ(timed_out.error().message(),
              "crc is in use (after waiting): holder ui (static 0, dynamic 1: crc32 x1)");
    std::thread releaser([&] {
        std::this_thread::sleep_for(20ms);
        EXPECT_TRUE(registry.symbol_put("crc32", ui));
    });
    auto r = registry.unload("crc", {.wait = 5000ms});
    releaser.join();
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
}

TEST_F(RegistryTest, LeakReportedAndReleasedAtUnload) {
    EventLog log;
    registry.subscribe(log);
    load(ImageBuilder("crc").exports("crc32").exports("crc16").build());
    auto net = load(ImageBuilder("net").imports("crc16").build());
    ASSERT_TRUE(registry.symbol_get("crc32", net.user()));
    ASSERT_TRUE(registry.symbol_get("crc32", net.user()));
    auto r = registry.unload("net");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->leaks.size(), 1u);
    EXPECT_EQ(r->leaks[0].user, "net");
    EXPECT_EQ(r->leaks[0].provider, "crc");
    EXPECT_EQ(r->leaks[0].references.dynamic, 2u);
    EXPECT_EQ(describe_leak(r->leaks[0]), "leak: net still held 2 reference(s) to crc (crc32 x2), released");
    EXPECT_NE(std::find(log.lines.begin(), log.lines.end(),
                        "leak: leak: net still held 2 reference(s) to crc (crc32 x2), released"),
              log.lines.end());
    // Released: crc is not pinned.
    EXPECT_EQ(proc(), "crc 16384 0 - Live 0x0000000000000000\n");
    EXPECT_TRUE(registry.unload("crc"));
    registry.unsubscribe(log);
}

TEST_F(RegistryTest, UnloadedUserCannotTakeReferences) {
    load(ImageBuilder("crc").exports("crc32").build());
    auto net = load(ImageBuilder("net").build());
    ASSERT_TRUE(registry.unload("net"));
    auto r = registry.symbol_get("crc32", net.user());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), EINVAL);
}

TEST_F(RegistryTest, TypedLookupVerifiesRecordedType) {
    load(ImageBuilder("math").typed("add", "int(int,int)").exports("untyped").build());
    User* ui = registry.holder("ui");
    EXPECT_TRUE(registry.symbol_get_typed("add", "int(int,int)", ui));
    auto wrong = registry.symbol_get_typed("add", "long(long)", ui);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code(), EINVAL);
    EXPECT_EQ(wrong.error().message(), "add of math has type int(int,int), not long(long)");
    EXPECT_EQ(registry.symbol_get_typed("untyped", "int()", ui).error().message(),
              "untyped of math has type (untyped), not int()");
    EXPECT_EQ(holder_of("math", "ui").dynamic, 1u);
}

TEST_F(RegistryTest, AliasIsASecondKey) {
    ModuleImage image = ImageBuilder("math").exports("_ZN4math3addEii").build();
    image.exports[0].alias = "math::add";
    load(std::move(image));
    User* ui = registry.holder("ui");
    auto a = registry.symbol_get("math::add", ui);
    auto b = registry.symbol_get("_ZN4math3addEii", ui);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(holder_of("math", "ui").symbols[0].count, 2u);
}

TEST_F(RegistryTest, EventsForLoadGetPutUnload) {
    EventLog log;
    registry.subscribe(log, ObserveGetPut::Yes);
    load(ImageBuilder("p").exports("f").build());
    User* ui = registry.holder("ui");
    ASSERT_TRUE(registry.symbol_get("f", ui));
    ASSERT_TRUE(registry.symbol_get("f", ui));  // fast path
    ASSERT_TRUE(registry.symbol_put("f", ui));
    ASSERT_TRUE(registry.symbol_put("f", ui));
    ASSERT_TRUE(registry.unload("p"));
    registry.unsubscribe(log);
    std::vector<EventKind> expected = {EventKind::Loaded, EventKind::Get, EventKind::Get,
                                       EventKind::Put, EventKind::Put, EventKind::Unloaded};
    EXPECT_EQ(log.kinds, expected);
}

TEST(RegistryTeardown, ReportsLeaksOfHoldersAndModules) {
    EventLog log;
    {
        Registry r;
        r.subscribe(log);
        ASSERT_TRUE(r.load(ImageBuilder("crc").exports("crc32").build()));
        ASSERT_TRUE(r.symbol_get("crc32", r.holder("ui")));
    }
    EXPECT_NE(std::find(log.lines.begin(), log.lines.end(),
                        "leak: leak: ui still held 1 reference(s) to crc (crc32 x1), released"),
              log.lines.end());
}

}  // namespace
}  // namespace umod

namespace umod {
namespace {

TEST_F(RegistryTest, SymbolRequestLoadsTheProviderThroughTheHandler) {
    User* ui = registry.holder("ui");
    // Without a handler, a request is a get.
    auto none = registry.symbol_request("crc32", ui);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code(), ENOENT);

    std::vector<std::string> requested;
    registry.set_request_handler([&](std::string_view symbol) -> Status {
        requested.emplace_back(symbol);
        if (symbol != "crc32") return Error(ENOENT, "no module provides " + std::string(symbol));
        auto loaded = registry.load(ImageBuilder("crc").exports("crc32").build());
        if (!loaded) return loaded.error();
        return {};
    });
    auto got = registry.symbol_request("crc32", ui);
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(holder_of("crc", "ui").dynamic, 1u);
    // Exported now: no second request.
    ASSERT_TRUE(registry.symbol_request("crc32", ui));
    EXPECT_EQ(requested, std::vector<std::string>{"crc32"});

    auto missing = registry.symbol_request("crc64", ui);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), ENOENT);
    EXPECT_EQ(missing.error().message(),
              "no module exports crc64; requesting symbol:crc64 failed: no module provides crc64");
    registry.set_request_handler({});
    EXPECT_TRUE(registry.symbol_put("crc32", ui));
    EXPECT_TRUE(registry.symbol_put("crc32", ui));
}

}  // namespace
}  // namespace umod
