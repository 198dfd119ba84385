// Gets and puts from many threads while other threads load and unload: every
// count balances at the end and nothing stays pinned. Run under TSan in CI.
#include <umod/ref.h>
#include <umod/umod.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include <gtest/gtest.h>

#include "fixtures.h"

namespace umod {
namespace {

using testing::ImageBuilder;

TEST(RegistryStress, GetPutRacingLoadUnloadBalances) {
    Registry registry;
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(registry.load(ImageBuilder("p" + std::to_string(i)).exports("f" + std::to_string(i))
                                      .exports("g" + std::to_string(i)).build()));

    std::atomic<bool> stop{false};
    std::atomic<long> churn_gets{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < 3; ++t) {
        workers.emplace_back([&, t] {
            User* me = registry.holder("worker" + std::to_string(t));
            const char* symbols[] = {"f0", "g1", "f2", "churn_fn", "g0"};
            for (unsigned n = 0; !stop.load(std::memory_order_relaxed); ++n) {
                const char* symbol = symbols[(n + static_cast<unsigned>(t)) % 5];
                auto got = registry.symbol_get(symbol, me);
                if (!got) {
                    int code = got.error().code();
                    EXPECT_TRUE(code == ENOENT || code == EBUSY) << got.error().message();
                    continue;
                }
                if (symbol == std::string_view("churn_fn")) churn_gets.fetch_add(1);
                Status put = (n % 2) ? registry.symbol_put(symbol, me)
                                     : registry.symbol_put_addr(*got, me);
                EXPECT_TRUE(put) << put.error().message();
            }
        });
    }
    // Loads and unloads a provider, and a module that links to p0, meanwhile.
    std::thread churner([&] {
        // At least 200 rounds, and until the workers have raced with some.
        for (int round = 0; round < 200 || (churn_gets.load() == 0 && round < 200000); ++round) {
            auto loaded = registry.load(ImageBuilder("churn").exports("churn_fn").build());
            ASSERT_TRUE(loaded);
            auto linker = registry.load(ImageBuilder("linker").imports("f0").build());
            ASSERT_TRUE(linker);
            ASSERT_TRUE(registry.unload("linker"));
            for (;;) {
                auto r = registry.unload("churn");
                if (r) break;
                ASSERT_EQ(r.error().code(), EWOULDBLOCK) << r.error().message();
                std::this_thread::yield();
            }
        }
    });
    churner.join();
    stop.store(true);
    for (auto& w : workers) w.join();

    RegistrySnapshot snap = registry.snapshot();
    ASSERT_EQ(snap.modules.size(), 3u);
    for (const auto& m : snap.modules) {
        EXPECT_EQ(m.refcount, 0) << m.name;
        EXPECT_TRUE(m.holders.empty()) << m.name;
    }
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(registry.unload("p" + std::to_string(i)));
    EXPECT_GT(churn_gets.load(), 0);
}

// Every tracking level at once: threads take and drop references (plain and
// RAII) while another switches the level back and forth; counts, stacks and
// quarantines stay consistent and every count balances.
TEST(RegistryStress, LevelSwitchingRacingGetsAndPutsBalances) {
    Registry registry;
    ASSERT_TRUE(registry.load(ImageBuilder("p").exports("f").exports("g").build()));
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < 3; ++t) {
        workers.emplace_back([&, t] {
            User* me = registry.holder("worker" + std::to_string(t));
            for (unsigned n = 0; !stop.load(std::memory_order_relaxed); ++n) {
                const char* symbol = (n % 2) ? "f" : "g";
                auto got = registry.symbol_get(symbol, me);
                ASSERT_TRUE(got) << got.error().message();
                {
                    auto ref = SymbolRef<char>::acquire_unchecked(registry, symbol, me);
                    ASSERT_TRUE(ref);
                    SymbolRef<char> copy = *ref;
                }
                ASSERT_TRUE(registry.symbol_put(symbol, me));
            }
        });
    }
    const TrackLevel levels[] = {TrackLevel::Stacks, TrackLevel::Off, TrackLevel::Counts, TrackLevel::Stacks};
    for (int round = 0; round < 200; ++round) {
        registry.set_tracking(levels[round % 4]);
        auto holders = registry.holders("p");  // reads ledgers while they change
        ASSERT_TRUE(holders);
        for (const auto& h : *holders)  // a counter lowered below zero would show here
            ASSERT_LE(h.dynamic, 9u) << describe_holder(h);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    stop = true;
    for (auto& w : workers) w.join();
    auto holders = registry.holders("p");
    ASSERT_TRUE(holders);
    for (const auto& h : *holders) EXPECT_EQ(h.dynamic, 0u) << describe_holder(h);
    EXPECT_TRUE(registry.unload("p"));
}

}  // namespace
}  // namespace umod
