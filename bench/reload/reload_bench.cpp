// Reload goal, measured side by side in one process:
//   reload.provider_with_2_dependents_vs_cold   Registry::reload of a provider with two
//       dependents (state handed over, dependents from their kept bytes) ÷ unloading the
//       same three modules by hand and loading them again from their files      ≤ 1.2
#include <umod/loader.h>
#include <umod/umod.h>

#include <string>

#include "common/goals.h"

namespace umod::bench {
namespace {

std::string module_file(const char* name) { return std::string(RELOAD_MODULES) + "/" + name + ".so"; }

const std::string kProvider[2] = {module_file("bench_reload_prov_a"), module_file("bench_reload_prov_b")};

// The three modules loaded, and dep_a answering through the provider's version `version`.
bool set_up(benchmark::State& state, Registry& registry) {
    for (const std::string& file : {kProvider[0], module_file("bench_reload_dep_a"), module_file("bench_reload_dep_b")}) {
        auto loaded = load_module_file(registry, file);
        if (!verify(state, loaded.has_value(), file + ": " + (loaded ? "" : loaded.error().message()))) return false;
    }
    return true;
}

bool answers(benchmark::State& state, Registry& registry, int version) {
    User* me = registry.holder("bench");
    auto f = registry.symbol_get("dep_a_call", me);
    if (!verify(state, f.has_value(), "symbol_get dep_a_call: " + (f ? "" : f.error().message()))) return false;
    int value = reinterpret_cast<int (*)()>(*f)();
    (void)registry.symbol_put("dep_a_call", me);
    return verify(state, value / 1000 == version, "dep_a_call did not reach version " + std::to_string(version));
}

void BM_ReloadWithDependents(benchmark::State& state) {
    Registry registry;
    if (!set_up(state, registry)) return;
    auto first = registry.reload("prov", kProvider[1]);
    if (!verify(state, first.has_value(), "reload: " + (first ? "" : first.error().message()))) return;
    if (!answers(state, registry, 2)) return;
    int next = 0;
    for (auto _ : state) {
        auto r = registry.reload("prov", kProvider[next]);
        if (!r) {
            state.SkipWithError(r.error().message().c_str());
            return;
        }
        next ^= 1;
    }
}
BENCHMARK(BM_ReloadWithDependents);

void BM_ColdUnloadAndLoad(benchmark::State& state) {
    Registry registry;
    if (!set_up(state, registry)) return;
    const std::string dep_a = module_file("bench_reload_dep_a");
    const std::string dep_b = module_file("bench_reload_dep_b");
    int next = 1;
    for (auto _ : state) {
        for (const char* name : {"bench_reload_dep_b", "bench_reload_dep_a", "prov"})
            if (auto r = registry.unload(name); !r) {
                state.SkipWithError(r.error().message().c_str());
                return;
            }
        for (const std::string* file : {&kProvider[next], &dep_a, &dep_b})
            if (auto m = load_module_file(registry, *file); !m) {
                state.SkipWithError(m.error().message().c_str());
                return;
            }
        next ^= 1;
    }
}
BENCHMARK(BM_ColdUnloadAndLoad);

}  // namespace
}  // namespace umod::bench

int main(int argc, char** argv) {
    using namespace umod::bench;
    return run_goals(argc, argv, [](const Results& r) {
        return std::vector<Goal>{
            {"reload.provider_with_2_dependents_vs_cold",
             at(r, "BM_ReloadWithDependents") / at(r, "BM_ColdUnloadAndLoad"), 1.2},
        };
    });
}
