// Loader goals, measured side by side in one process:
//   so.load_vs_dlopen                insmod+rmmod of a minimal module ÷ raw
//                                    dlopen + dlsym(init) + dlclose of the file   ≤ 1.3
//   so.get_put_from_module_vs_dlsym  symbol_get+symbol_put called inside a module
//                                    through <umod/module.h> ÷ one dlsym          ≤ 0.75
#include <dlfcn.h>

#include <umod/loader.h>
#include <umod/umod.h>

#include "common/goals.h"

namespace umod::bench {
namespace {

void BM_RawDlopen(benchmark::State& state) {
    void* first = dlopen(MINIMAL_SO, RTLD_NOW | RTLD_GLOBAL);
    if (!verify(state, first != nullptr, std::string("dlopen: ") + (first ? "" : dlerror()))) return;
    bool found = dlsym(first, "minimal_ready") != nullptr;
    dlclose(first);
    if (!verify(state, found, "dlsym found no minimal_ready")) return;
    for (auto _ : state) {
        void* handle = dlopen(MINIMAL_SO, RTLD_NOW | RTLD_GLOBAL);
        if (handle == nullptr) {
            state.SkipWithError(dlerror());
            return;
        }
        benchmark::DoNotOptimize(dlsym(handle, "minimal_ready"));
        dlclose(handle);
    }
}
BENCHMARK(BM_RawDlopen);

void BM_InsmodRmmod(benchmark::State& state) {
    Registry registry;
    for (auto _ : state) {
        auto m = load_module_file(registry, MINIMAL_SO);
        if (!m) {
            state.SkipWithError(m.error().message().c_str());
            return;
        }
        auto r = registry.unload("minimal");
        if (!r) {
            state.SkipWithError(r.error().message().c_str());
            return;
        }
    }
}
BENCHMARK(BM_InsmodRmmod);

void BM_Dlsym(benchmark::State& state) {
    void* handle = dlopen(MINIMAL_SO, RTLD_NOW | RTLD_LOCAL);
    if (!verify(state, handle != nullptr, std::string("dlopen: ") + (handle ? "" : dlerror()))) return;
    if (verify(state, dlsym(handle, "minimal_ready") != nullptr, "dlsym found no minimal_ready"))
        for (auto _ : state) benchmark::DoNotOptimize(dlsym(handle, "minimal_ready"));
    dlclose(handle);
}
BENCHMARK(BM_Dlsym);

constexpr int kLoop = 1000;

void BM_GetPutFromModule(benchmark::State& state) {
    Registry registry;
    auto provider = load_module_file(registry, MINIMAL_SO);
    auto user = load_module_file(registry, GETPUT_SO);
    if (!verify(state, provider.has_value(), "load minimal: " + (provider ? "" : provider.error().message())) ||
        !verify(state, user.has_value(), "load getput: " + (user ? "" : user.error().message())))
        return;
    auto loop = registry.symbol_get("getput_loop", registry.holder("bench"));
    if (!verify(state, loop.has_value(), "symbol_get getput_loop: " + (loop ? "" : loop.error().message()))) return;
    auto f = reinterpret_cast<int (*)(int)>(*loop);
    // Every get inside the module found minimal_ready.
    if (!verify(state, f(kLoop) == kLoop, "getput_loop: a symbol_get inside the module failed")) return;
    for (auto _ : state) benchmark::DoNotOptimize(f(kLoop));
    state.SetItemsProcessed(state.iterations() * kLoop);
    (void)registry.symbol_put("getput_loop", registry.holder("bench"));
}
BENCHMARK(BM_GetPutFromModule);

}  // namespace
}  // namespace umod::bench

int main(int argc, char** argv) {
    using namespace umod::bench;
    return run_goals(argc, argv, [](const Results& r) {
        Measure per_get_put = at(r, "BM_GetPutFromModule") / kLoop;
        return std::vector<Goal>{
            {"so.load_vs_dlopen", at(r, "BM_InsmodRmmod") / at(r, "BM_RawDlopen"), 1.3},
            {"so.get_put_from_module_vs_dlsym", per_get_put / at(r, "BM_Dlsym"), 0.75},
        };
    });
}
