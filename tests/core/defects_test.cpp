// Regression tests for the defects a review of the registry found (issue 9,
// §1): each failed on the code before its fix.
#include <umod/ref.h>
#include <umod/umod.h>
#include <umod/views.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "fixtures.h"

namespace umod {
namespace {

using testing::EventLog;
using testing::FakeBackend;
using testing::ImageBuilder;
using namespace std::chrono_literals;

std::size_t count_named(const RegistrySnapshot& snap, std::string_view name) {
    return static_cast<std::size_t>(std::count_if(snap.modules.begin(), snap.modules.end(),
                                                  [&](const ModuleSnapshot& m) { return m.name == name; }));
}

// §1.1: two loads of one name, both waiting for a provider still coming.
TEST(RegistryDefects, NameIsReservedAcrossTheProviderWait) {
    Registry registry;
    std::promise<void> release_init;
    std::shared_future<void> released = release_init.get_future().share();
    std::promise<void> init_started;
    std::thread provider([&] {
        EXPECT_TRUE(registry.load(ImageBuilder("p").exports("p_fn").init([&] {
                                      init_started.set_value();
                                      released.wait();
                                      return 0;
                                  }).build()));
    });
    init_started.get_future().wait();
    auto load_x = [&] { return registry.load(ImageBuilder("x").imports("p_fn").exports("x_fn").build()); };
    auto first = std::async(std::launch::async, load_x);
    std::this_thread::sleep_for(50ms);  // the first load is waiting for p
    auto second = std::async(std::launch::async, load_x);
    std::this_thread::sleep_for(50ms);
    release_init.set_value();
    auto a = first.get();
    auto b = second.get();
    provider.join();

    ASSERT_NE(bool(a), bool(b)) << "exactly one load of x may succeed";
    const Error& refused = a ? b.error() : a.error();
    EXPECT_EQ(refused.code(), EEXIST);
    EXPECT_EQ(refused.message(), "module x is already loaded");
    EXPECT_EQ(count_named(registry.snapshot(), "x"), 1u);
    // x's exports are its own, and stay until x goes.
    ASSERT_TRUE(registry.unload("x"));
    EXPECT_FALSE(registry.exports("x_fn"));
    EXPECT_TRUE(registry.load(ImageBuilder("x").imports("p_fn").exports("x_fn").build()));
}

// §1.1: while a load waits, its exports are reserved too.
TEST(RegistryDefects, ExportsAreReservedAcrossTheProviderWait) {
    Registry registry(RegistryOptions{.provider_wait = 10s});
    std::promise<void> release_init;
    std::shared_future<void> released = release_init.get_future().share();
    std::promise<void> init_started;
    std::thread provider([&] {
        EXPECT_TRUE(registry.load(ImageBuilder("p").exports("p_fn").init([&] {
                                      init_started.set_value();
                                      released.wait();
                                      return 0;
                                  }).build()));
    });
    init_started.get_future().wait();
    auto waiting = std::async(std::launch::async, [&] {
        return registry.load(ImageBuilder("x").imports("p_fn").exports("shared_fn").build());
    });
    std::this_thread::sleep_for(50ms);
    auto rival = registry.load(ImageBuilder("y").exports("shared_fn").build());
    release_init.set_value();
    auto x = waiting.get();
    provider.join();
    ASSERT_TRUE(x) << x.error().message();
    ASSERT_FALSE(rival);
    EXPECT_EQ(rival.error().code(), ENOEXEC);
    EXPECT_EQ(rival.error().message(), "y: exports shared_fn, already exported by x");
}

// §1.2: an observer may call into the registry.
TEST(RegistryDefects, ObserversRunWithoutTheRegistryLock) {
    Registry registry;
    struct Reentrant final : Observer {
        Registry* registry = nullptr;
        std::vector<std::future<ModuleHandle>> finds;  // kept: their destructors wait
        std::vector<bool> answered;
        std::vector<std::string> lines;
        void on_event(const Event& e) override {
            lines.push_back(std::string(to_string(e.kind)) + ": " + std::string(e.text));
            finds.push_back(std::async(std::launch::async, [r = registry] { return r->find("x"); }));
            answered.push_back(finds.back().wait_for(5s) == std::future_status::ready);
        }
    } observer;
    observer.registry = &registry;
    registry.subscribe(observer);
    ModuleImage image = ImageBuilder("x").build();
    auto backend = std::make_unique<FakeBackend>();
    backend->warnings = {"x: a hazard"};
    image.backend = std::move(backend);
    ASSERT_TRUE(registry.load(std::move(image)));
    ASSERT_EQ(observer.lines.size(), 2u);
    EXPECT_EQ(observer.lines[0], "warning: x: a hazard");
    EXPECT_EQ(observer.lines[1], "loaded: loaded x");
    for (std::size_t i = 0; i < observer.answered.size(); ++i)
        EXPECT_TRUE(observer.answered[i]) << "find() from the observer of " << observer.lines[i] << " blocked";
    registry.unsubscribe(observer);
}

// §1.2: an observer may subscribe another one (the observers' lock is not held either).
TEST(RegistryDefects, ObserverMaySubscribeFromItsCallback) {
    Registry registry;
    EventLog late;
    struct Subscriber final : Observer {
        Registry* registry = nullptr;
        Observer* other = nullptr;
        std::vector<bool> answered;
        std::vector<std::future<void>> calls;  // kept: their destructors wait
        void on_event(const Event&) override {
            calls.push_back(std::async(std::launch::async, [this, o = other] { registry->subscribe(*o); }));
            answered.push_back(calls.back().wait_for(5s) == std::future_status::ready);
            other = &ignored;  // only once
        }
        EventLog ignored;
    } subscriber;
    subscriber.registry = &registry;
    subscriber.other = &late;
    registry.subscribe(subscriber);
    ASSERT_TRUE(registry.load(ImageBuilder("a").build()));
    ASSERT_TRUE(registry.load(ImageBuilder("b").build()));
    ASSERT_FALSE(subscriber.answered.empty());
    EXPECT_TRUE(subscriber.answered[0]);
    ASSERT_EQ(late.lines.size(), 1u);
    EXPECT_EQ(late.lines[0], "loaded: loaded b");
    registry.unsubscribe(subscriber);
    registry.unsubscribe(late);
    registry.unsubscribe(subscriber.ignored);
}

// §1.3: a failed init's leaks are reported while its code is still mapped.
TEST(RegistryDefects, FailedInitReportsLeaksBeforeUnmapping) {
    Registry registry;
    ASSERT_TRUE(registry.load(ImageBuilder("crc").exports("crc32").build()));
    std::atomic<bool> unmapped{false};
    struct Watch final : Observer {
        std::atomic<bool>* unmapped = nullptr;
        std::vector<std::string> leaks;
        std::vector<bool> mapped_at_report;
        void on_event(const Event& e) override {
            if (e.kind != EventKind::Leak) return;
            leaks.push_back(std::string(e.text));
            mapped_at_report.push_back(!unmapped->load());
        }
    } watch;
    watch.unmapped = &unmapped;
    registry.subscribe(watch);
    ModuleImage image = ImageBuilder("failinit").build();
    auto backend = std::make_unique<FakeBackend>();
    backend->unmapped = &unmapped;
    backend->init = [&](User* self) {
        EXPECT_TRUE(registry.symbol_get("crc32", self));
        return -ENODEV;
    };
    image.backend = std::move(backend);
    auto r = registry.load(std::move(image));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "failinit: init failed with error 19");
    EXPECT_TRUE(unmapped.load());
    ASSERT_EQ(watch.leaks.size(), 1u);
    EXPECT_EQ(watch.leaks[0], "leak: failinit still held 1 reference(s) to crc (crc32 x1), released");
    EXPECT_TRUE(watch.mapped_at_report[0]) << "the leak was reported after the code was unmapped";
    registry.unsubscribe(watch);
}

// §1.4: a Going provider is EBUSY at load, as at get.
TEST(RegistryDefects, GoingProviderIsEbusyAtLoadAsAtGet) {
    Registry registry;
    std::optional<Error> at_load;
    std::optional<Error> at_get;
    ASSERT_TRUE(registry.load(ImageBuilder("p").exports("p_fn").exit([&] {
                                   auto r = registry.load(ImageBuilder("late").imports("p_fn").build());
                                   if (!r) at_load = r.error();
                                   auto g = registry.symbol_get("p_fn", registry.holder("h"));
                                   if (!g) at_get = g.error();
                               }).build()));
    ASSERT_TRUE(registry.unload("p"));
    ASSERT_TRUE(at_load);
    ASSERT_TRUE(at_get);
    EXPECT_EQ(at_get->code(), EBUSY);
    EXPECT_EQ(at_load->code(), EBUSY);
    EXPECT_EQ(at_load->message(), "late: p_fn of p is not available: p is going");
    EXPECT_FALSE(registry.find("late"));
}

// §1.4: a missing licence is worded the same at load and at get.
TEST(RegistryDefects, MissingLicenceIsWordedTheSameAtLoadAndGet) {
    Registry registry;
    ASSERT_TRUE(registry.load(ImageBuilder("core").exports("gpl_fn", ExportLicense::GplOnly).build()));
    auto at_load = registry.load(ImageBuilder("blob", "").imports("gpl_fn").build());
    ASSERT_FALSE(at_load);
    EXPECT_EQ(at_load.error().message(),
              "blob: GPL-only symbol gpl_fn of core refused to a user with license '(none)'");
    auto blob = registry.load(ImageBuilder("blob", "").build());
    ASSERT_TRUE(blob);
    auto at_get = registry.symbol_get("gpl_fn", blob->user());
    ASSERT_FALSE(at_get);
    EXPECT_EQ(at_get.error().code(), EPERM);
    EXPECT_EQ(at_get.error().message(), at_load.error().message());
}

// §1.5: handles destroyed after their registry.
TEST(RegistryDefects, HandlesMayOutliveTheirRegistry) {
    std::optional<SymbolRef<int>> symbol;
    std::optional<SymbolRef<int>> copy_after;
    std::optional<ModuleRef> module_ref;
    ModuleHandle handle;
    {
        Registry registry;
        ASSERT_TRUE(registry.load(ImageBuilder("p").typed("value", type_name<int>()).build()));
        auto ref = SymbolRef<int>::acquire(registry, "value", registry.holder("ui"));
        ASSERT_TRUE(ref) << ref.error().message();
        symbol = *ref;
        handle = registry.find("p");
        auto m = ModuleRef::acquire(registry, handle, registry.holder("ui"));
        ASSERT_TRUE(m) << m.error().message();
        module_ref = std::move(*m);
    }
    EXPECT_EQ(handle.state(), ModuleState::Gone);
    EXPECT_EQ(handle.name(), "p");
    copy_after = *symbol;  // a copy after the registry is gone changes nothing anyone reads
    symbol.reset();
    copy_after.reset();
    module_ref.reset();
    handle = ModuleHandle();
}

// §1.5: the same at the stacks level, where handles take the recorded path.
TEST(RegistryDefects, RecordedHandlesMayOutliveTheirRegistry) {
    std::optional<SymbolRef<int>> symbol;
    {
        Registry registry(RegistryOptions{.track = TrackLevel::Stacks});
        ASSERT_TRUE(registry.load(ImageBuilder("p").typed("value", type_name<int>()).build()));
        auto ref = SymbolRef<int>::acquire(registry, "value", registry.holder("ui"));
        ASSERT_TRUE(ref) << ref.error().message();
        symbol = *ref;
    }
    auto copy = *symbol;
    symbol.reset();
}

// §1.6: an observer destroyed before its registry.
TEST(RegistryDefects, ObserverDestroyedBeforeItsRegistry) {
    std::vector<std::string> seen;
    struct Recorder final : Observer {
        std::vector<std::string>* seen = nullptr;
        void on_event(const Event& e) override { seen->push_back(std::string(e.text)); }
    };
    auto registry = std::make_unique<Registry>();
    {
        Recorder recorder;
        recorder.seen = &seen;
        registry->subscribe(recorder);
        ASSERT_TRUE(registry->load(ImageBuilder("p").exports("f").build()));
        ASSERT_TRUE(registry->symbol_get("f", registry->holder("ui")));  // a leak at teardown
    }  // the recorder ends its own subscription
    ASSERT_EQ(seen.size(), 1u);
    registry.reset();  // teardown reports the leak to nobody
    EXPECT_EQ(seen.size(), 1u);
}

// §1.6: and an observer that outlives its registry may still be destroyed.
TEST(RegistryDefects, ObserverDestroyedAfterItsRegistry) {
    EventLog log;
    {
        Registry registry;
        registry.subscribe(log);
        ASSERT_TRUE(registry.load(ImageBuilder("p").build()));
    }
    ASSERT_EQ(log.lines.size(), 2u);
    EXPECT_EQ(log.lines[1], "unloaded: unloaded p");
}

// §1.7: a positive init return loads the module, with a warning.
TEST(RegistryDefects, PositiveInitReturnLoadsWithAWarning) {
    Registry registry;
    EventLog log;
    registry.subscribe(log);
    auto r = registry.load(ImageBuilder("odd").exports("odd_fn").init([] { return 5; }).build());
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->state(), ModuleState::Live);
    EXPECT_TRUE(registry.symbol_get("odd_fn", nullptr));
    ASSERT_EQ(log.lines.size(), 2u);
    EXPECT_EQ(log.kinds[0], EventKind::Warning);
    EXPECT_EQ(log.lines[0],
              "warning: odd: init suspiciously returned 5, it should follow 0/-E convention; loading it anyway");
    EXPECT_EQ(log.lines[1], "loaded: loaded odd");
    registry.unsubscribe(log);
}

}  // namespace
}  // namespace umod
