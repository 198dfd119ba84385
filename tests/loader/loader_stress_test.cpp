// Modules taking and dropping references from many threads through their
// call-site caches while the provider is unloaded and reloaded: every count
// balances at the end. Run under TSan in CI.
#include <umod/loader.h>
#include <umod/umod.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace umod {
namespace {

std::string example(const std::string& name) { return std::string(EXAMPLE_MODULES) + "/" + name + ".so"; }

TEST(LoaderStress, CachedGetPutRacingProviderReload) {
    Registry registry;
    ASSERT_TRUE(load_module_file(registry, example("crc")));
    ASSERT_TRUE(load_module_file(registry, example("ext4")));
    User* host = registry.holder("host");
    auto grab = registry.symbol_get("ext4_grab", host);
    auto release = registry.symbol_get("ext4_release", host);
    ASSERT_TRUE(grab);
    ASSERT_TRUE(release);
    auto* grab_fn = reinterpret_cast<int (*)()>(*grab);
    auto* release_fn = reinterpret_cast<int (*)()>(*release);

    std::atomic<bool> stop{false};
    std::atomic<long> grabbed{0};
    // Gets that succeeded, by the reload generation they started in: a get
    // counts as racing a reload when crc was reloaded since the last one.
    std::atomic<int> reloads{0};
    std::atomic<long> grabbed_across_reloads{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&] {
            int seen = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                if (grab_fn() == 16) {  // crc may be away: then nothing was taken
                    grabbed.fetch_add(1, std::memory_order_relaxed);
                    int now = reloads.load(std::memory_order_relaxed);
                    if (now != seen) grabbed_across_reloads.fetch_add(1, std::memory_order_relaxed);
                    seen = now;
                    release_fn();
                }
            }
        });
    }
    // At least 100 rounds, and on until the race happened: several reloads
    // with successful gets between them (bounded; the test fails if not).
    for (int round = 0; round < 100 || ((reloads < 3 || grabbed_across_reloads < 3) && round < 200000); ++round) {
        auto unloaded = registry.unload("crc");
        if (unloaded) {
            ++reloads;
            ASSERT_TRUE(load_module_file(registry, example("crc")));
        } else {
            ASSERT_EQ(unloaded.error().code(), EWOULDBLOCK) << unloaded.error().message();
        }
        std::this_thread::yield();
    }
    stop.store(true);
    for (auto& t : threads) t.join();
    EXPECT_GT(grabbed.load(), 0);
    // The race happened: crc was unloaded and loaded again while gets ran,
    // and gets succeeded on the reloaded copies.
    EXPECT_GE(reloads.load(), 3);
    EXPECT_GE(grabbed_across_reloads.load(), 3);
    auto holders = registry.holders("crc");
    ASSERT_TRUE(holders);
    EXPECT_TRUE(holders->empty()) << describe_holder(holders->front());
    EXPECT_TRUE(registry.symbol_put("ext4_grab", host));
    EXPECT_TRUE(registry.symbol_put("ext4_release", host));
    EXPECT_TRUE(registry.unload("ext4"));
    auto crc = registry.unload("crc");
    ASSERT_TRUE(crc);
    EXPECT_TRUE(crc->unmap.unmapped);
}

}  // namespace
}  // namespace umod
