// Tracking goals, measured side by side in one process:
//   track.counts_vs_off        get+put at `counts` ÷ at `off`              ≤ 1.10
//   track.stacks_get_put_ns    get+put at `stacks`, 16-frame stack (ns)    recorded
//   track.stacks_vs_counts     get+put at `stacks` ÷ at `counts`           ≤ 30
//   track.symbolref_vs_atomic  copy + destroy of a SymbolRef<T> ÷ an
//                              uncontended atomic increment + decrement    ≤ 2.0
// Every get+put runs below a call chain of exactly 16 frames (what a stack
// capture at `stacks` records), whatever the benchmark runner adds above.
#include <umod/ref.h>
#include <umod/umod.h>

#include <atomic>
#include <functional>

#include "common/goals.h"
#include "core/fixtures.h"
#include "core/stacks.h"

namespace umod::bench {
namespace {

using umod::testing::ImageBuilder;

constexpr std::size_t kStackDepth = 16;

// Runs `body` with the call stack `depth` frames deep, counting the frame
// that calls `body` (each level is a real frame: not inlined, no tail call).
__attribute__((noinline)) void nest(std::size_t depth, const std::function<void()>& body) {
    if (depth <= 1) {
        body();
    } else {
        nest(depth - 1, body);
    }
    asm volatile("" ::: "memory");
}

// How many frames a capture made here would record.
__attribute__((noinline)) std::size_t depth_here() {
    std::uintptr_t frames[core::kMaxStackFrames];
    return core::capture_stack(__builtin_frame_address(0), frames);
}

// Runs `body` so that a stack captured inside it records kStackDepth frames.
void at_depth(const std::function<void()>& body) {
    std::size_t runner = depth_here();  // the runner's frames, and this function's
    nest(kStackDepth > runner ? kStackDepth - runner : 1, body);
}

struct World {
    Registry registry;
    User* user = nullptr;
    std::string error;
    World() {
        if (auto p = registry.load(ImageBuilder("p").exports("p_fn").exports("p_other").build()); !p)
            error = p.error().message();
        user = registry.holder("bench");
    }

    // Before timing: get returns p_fn's address and the put succeeds.
    bool verify_get_put(benchmark::State& state) {
        if (!verify(state, error.empty(), "setup: " + error)) return false;
        auto p = registry.symbol_get("p_fn", user);
        if (!verify(state, p.has_value(), "symbol_get p_fn: " + (p ? "" : p.error().message()))) return false;
        if (!verify(state, *p == umod::testing::address_of("p:p_fn"), "symbol_get p_fn returned the wrong address"))
            return false;
        auto put = registry.symbol_put("p_fn", user);
        return verify(state, put.has_value(), "symbol_put p_fn: " + (put ? "" : put.error().message()));
    }
};

void BM_GetPut(benchmark::State& state) {
    World world;
    world.registry.set_tracking(static_cast<TrackLevel>(state.range(0)));
    if (!world.verify_get_put(state)) return;
    at_depth([&] {
        for (auto _ : state) {
            auto p = world.registry.symbol_get("p_fn", world.user);
            benchmark::DoNotOptimize(p);
            (void)world.registry.symbol_put("p_fn", world.user);
        }
    });
}
BENCHMARK(BM_GetPut)
    ->Arg(static_cast<int>(TrackLevel::Off))
    ->Arg(static_cast<int>(TrackLevel::Counts))
    ->Arg(static_cast<int>(TrackLevel::Stacks));

void BM_AtomicIncDec(benchmark::State& state) {
    std::atomic<std::uint64_t> counter{1};
    for (auto _ : state) {
        counter.fetch_add(1, std::memory_order_relaxed);
        benchmark::ClobberMemory();
        counter.fetch_sub(1, std::memory_order_release);
        benchmark::ClobberMemory();
    }
    benchmark::DoNotOptimize(counter);
}
BENCHMARK(BM_AtomicIncDec);

void BM_SymbolRefCopy(benchmark::State& state) {
    World world;
    if (!world.verify_get_put(state)) return;
    auto ref = SymbolRef<char>::acquire_unchecked(world.registry, "p_fn", world.user);
    if (!verify(state, ref.has_value(), "SymbolRef p_fn: " + (ref ? "" : ref.error().message()))) return;
    for (auto _ : state) {
        SymbolRef<char> copy = *ref;
        benchmark::DoNotOptimize(copy);
    }
}
BENCHMARK(BM_SymbolRefCopy);

}  // namespace
}  // namespace umod::bench

int main(int argc, char** argv) {
    using namespace umod::bench;
    return run_goals(argc, argv, [](const Results& r) {
        Measure off = at(r, "BM_GetPut/0");
        Measure counts = at(r, "BM_GetPut/1");
        Measure stacks = at(r, "BM_GetPut/2");
        Measure atomic = at(r, "BM_AtomicIncDec");
        Measure symbolref = at(r, "BM_SymbolRefCopy");
        return std::vector<Goal>{
            {"track.counts_vs_off", counts / off, 1.10},
            {"track.stacks_get_put_ns", stacks, 0, Better::Record},
            {"track.stacks_vs_counts", stacks / counts, 30},
            {"track.symbolref_vs_atomic", symbolref / atomic, 2.0},
        };
    });
}
