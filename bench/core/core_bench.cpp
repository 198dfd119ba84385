// Core goals, measured side by side in one process:
//   core.get_put_vs_dlsym   attributed symbol_get+symbol_put by name on an
//                           existing pair ÷ one dlsym(handle, name)      ≤ 0.75
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
    for (auto _ : state) benchmark::DoNotOptimize(dlsym(handle, "tiny_function_for_lookup"));
    dlclose(handle);
}
BENCHMARK(BM_Dlsym);

// A registry with one provider of 64 exports and `users` modules that link to
// it (so every pair exists).
struct World {
    Registry registry;
    std::vector<User*> users;

    explicit World(int n_users, const std::string& prefix = "p") {
        ImageBuilder provider(prefix);
        for (int i = 0; i < kProviderExports; ++i) provider.exports(prefix + "_" + symbol_name(i));
        (void)registry.load(provider.build());
        for (int u = 0; u < n_users; ++u) {
            auto m = registry.load(ImageBuilder(prefix + "_user" + std::to_string(u))
                                       .imports(prefix + "_" + symbol_name(0)).build());
            users.push_back(m->user());
        }
    }
};

void BM_UmodGetPut(benchmark::State& state) {
    World world(static_cast<int>(state.range(0)));
    const std::string symbol = "p_" + std::string(kSymbol);
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
        double dlsym = at(r, "BM_Dlsym");
        double ours1 = at(r, "BM_UmodGetPut/1");
        double ours1000 = at(r, "BM_UmodGetPut/1000");
        double seed1 = at(r, "BM_SeedGetPut/1");
        double seed1000 = at(r, "BM_SeedGetPut/1000");
        double t1 = at(r, "BM_DistinctProviders/real_time/threads:1");
        double t2 = at(r, "BM_DistinctProviders/real_time/threads:2");
        // With UseRealTime and 2 threads, the reported time is wall time per
        // iteration of both threads together: throughput ratio = t1 / t2.
        return std::vector<Goal>{
            {"core.get_put_vs_dlsym", ours1 / dlsym, 0.75},
            {"core.seed_1user", ours1 / seed1, 1.0},
            {"core.seed_1000users", ours1000 / seed1000, 0.05},
            {"core.threads2", t1 / t2, 1.7, Better::Higher},
        };
    });
}
