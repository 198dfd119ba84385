// A benchmark program built on bench/common/goals.h whose benchmarks cannot
// all do their work: the goal machinery must say FAIL, with the reason, for
// every goal resting on them, and exit 1 (tests/bench/goals_test.sh).
#include "common/goals.h"

namespace {

void BM_Works(benchmark::State& state) {
    int x = 0;
    for (auto _ : state) benchmark::DoNotOptimize(++x);
}
BENCHMARK(BM_Works);

// As a benchmark whose module failed to load: it stops before timing.
void BM_Broken(benchmark::State& state) {
    if (!umod::bench::verify(state, false, "the load failed on purpose")) return;
    for (auto _ : state) {
    }
}
BENCHMARK(BM_Broken);

}  // namespace

int main(int argc, char** argv) {
    using namespace umod::bench;
    return run_goals(argc, argv, [](const Results& r) {
        return std::vector<Goal>{
            {"broken.works", at(r, "BM_Works") / at(r, "BM_Works"), 2.0},
            {"broken.rests_on_error", at(r, "BM_Broken") / at(r, "BM_Works"), 1000},
            {"broken.higher_rests_on_error", at(r, "BM_Works") / at(r, "BM_Broken"), 0, Better::Higher},
            {"broken.rests_on_missing", at(r, "BM_NoSuchBenchmark"), 1e12},
            {"broken.record_of_error", at(r, "BM_Broken"), 0, Better::Record},
        };
    });
}
