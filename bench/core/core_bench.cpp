// Core goals, measured side by side in one process:
//   core.get_put_vs_dlsym   attributed symbol_get+symbol_put by name on an
//                           existing pair ÷ one dlsym(handle, name)      ≤ 0.55
//   core.seed_1user         ours ÷ the seed's algorithm, 1 user          ≤ 1.0
//   core.seed_1000users     ours ÷ the seed's algorithm, 1,000 users     ≤ 0.05
//   core.threads2           2 threads on distinct providers, throughput
//                           ÷ 1 thread                                   ≥ 1.7
#include <dlfcn.h>

#include <memory>
#include <string>
#include <vector>

#include "common/goals.h"
#include "core/fixtures.h"
#include "seed_model.h"

namespace umod::bench {
namespace {

using umod::testing::ImageBuilder;

constexpr int kProviderExports = 64;
const char* const kSymbol = "provider_symbol_42";

std::string symbol_name(int i) { return "provider_symbol_" + std::to_string(i); }

void BM_Dlsym(benchmark::State& state) {
    void* handle = dlopen(TINY_SO, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        state.SkipWithError(dlerror());
        return;
    }
    if (verify(state, dlsym(handle, "tiny_function_for_lookup") != nullptr, "dlsym found no tiny_function_for_lookup"))
        for (auto _ : state) benchmark::DoNotOptimize(dlsym(handle, "tiny_function_for_lookup"));
    dlclose(handle);
}
BENCHMARK(BM_Dlsym);

// A registry with one provider of 64 exports and `users` modules that link to
// it (so every pair exists). `error` says what could not be set up.
struct World {
    Registry registry;
    std::vector<User*> users;
    std::string prefix;
    std::string error;

    explicit World(int n_users, std::string prefix_ = "p") : prefix(std::move(prefix_)) {
        ImageBuilder provider(prefix);
        for (int i = 0; i < kProviderExports; ++i) provider.exports(prefix + "_" + symbol_name(i));
        if (auto p = registry.load(provider.build()); !p) {
            error = p.error().message();
            return;
        }
        for (int u = 0; u < n_users; ++u) {
            auto m = registry.load(ImageBuilder(prefix + "_user" + std::to_string(u))
                                       .imports(prefix + "_" + symbol_name(0)).build());
            if (!m) {
                error = m.error().message();
                return;
            }
            users.push_back(m->user());
        }
    }

    // Before timing: a get of `symbol` by every user returns the provider's
    // export and its put succeeds; otherwise the benchmark stops with why.
    bool verify_get_put(benchmark::State& state, const std::string& symbol) {
        if (!verify(state, error.empty(), "setup: " + error)) return false;
        const void* expected = umod::testing::address_of(prefix + ":" + symbol);
        for (User* user : users) {
            auto p = registry.symbol_get(symbol, user);
            if (!verify(state, p.has_value(), "symbol_get " + symbol + ": " + (p ? "" : p.error().message())))
                return false;
            if (!verify(state, *p == expected, "symbol_get " + symbol + " returned the wrong address")) return false;
            auto put = registry.symbol_put(symbol, user);
            if (!verify(state, put.has_value(), "symbol_put " + symbol + ": " + (put ? "" : put.error().message())))
                return false;
        }
        return true;
    }
};

void BM_UmodGetPut(benchmark::State& state) {
    World world(static_cast<int>(state.range(0)));
    const std::string symbol = "p_" + std::string(kSymbol);
    if (!world.verify_get_put(state, symbol)) return;
    std::size_t next = 0;
    for (auto _ : state) {
        User* user = world.users[next];
        next = next + 1 == world.users.size() ? 0 : next + 1;
        auto p = world.registry.symbol_get(symbol, user);
        benchmark::DoNotOptimize(p);
        (void)world.registry.symbol_put(symbol, user);
    }
}
BENCHMARK(BM_UmodGetPut)->Arg(1)->Arg(1000);

void BM_SeedGetPut(benchmark::State& state) {
    SeedRegistry seed;
    SeedModule provider{"p"};
    static int values[kProviderExports];
    for (int i = 0; i < kProviderExports; ++i) seed.add_export("p_" + symbol_name(i), &provider, &values[i]);
    std::vector<std::unique_ptr<SeedModule>> users;
    for (int u = 0; u < state.range(0); ++u) {
        users.push_back(std::make_unique<SeedModule>(SeedModule{"user" + std::to_string(u)}));
        seed.link(users.back().get(), &provider);
    }
    const std::string symbol = "p_" + std::string(kSymbol);
    if (!verify(state, seed.symbol_get(symbol.c_str(), users[0].get()) == &values[42], "the seed's get returned the wrong address"))
        return;
    seed.symbol_put(symbol.c_str(), users[0].get());
    std::size_t next = 0;
    for (auto _ : state) {
        SeedModule* user = users[next].get();
        next = next + 1 == users.size() ? 0 : next + 1;
        benchmark::DoNotOptimize(seed.symbol_get(symbol.c_str(), user));
        seed.symbol_put(symbol.c_str(), user);
    }
}
BENCHMARK(BM_SeedGetPut)->Arg(1)->Arg(1000);

// Each thread has its own registry, provider and user (made in main()).
std::unique_ptr<World> thread_worlds[2];

void BM_DistinctProviders(benchmark::State& state) {
    World& world = *thread_worlds[state.thread_index()];
    const std::string symbol = "t" + std::to_string(state.thread_index()) + "_" + kSymbol;
    if (!world.verify_get_put(state, symbol)) return;
    User* user = world.users[0];
    for (auto _ : state) {
        auto p = world.registry.symbol_get(symbol, user);
        benchmark::DoNotOptimize(p);
        (void)world.registry.symbol_put(symbol, user);
    }
}
BENCHMARK(BM_DistinctProviders)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace umod::bench

int main(int argc, char** argv) {
    using namespace umod::bench;
    for (int t = 0; t < 2; ++t) thread_worlds[t] = std::make_unique<World>(1, "t" + std::to_string(t));
    return run_goals(argc, argv, [](const Results& r) {
        Measure dlsym = at(r, "BM_Dlsym");
        Measure ours1 = at(r, "BM_UmodGetPut/1");
        Measure ours1000 = at(r, "BM_UmodGetPut/1000");
        Measure seed1 = at(r, "BM_SeedGetPut/1");
        Measure seed1000 = at(r, "BM_SeedGetPut/1000");
        Measure t1 = at(r, "BM_DistinctProviders/real_time/threads:1");
        Measure t2 = at(r, "BM_DistinctProviders/real_time/threads:2");
        // With UseRealTime and 2 threads, the reported time is wall time per
        // iteration of both threads together: throughput ratio = t1 / t2.
        return std::vector<Goal>{
            {"core.get_put_vs_dlsym", ours1 / dlsym, 0.55},  // issue 9 (0.75 until 2026-12-02)
            {"core.seed_1user", ours1 / seed1, 1.0},
            {"core.seed_1000users", ours1000 / seed1000, 0.05},
            {"core.threads2", t1 / t2, 1.7, Better::Higher},
        };
    });
}
