// Loader goals, measured side by side in one process:
//   so.load_vs_dlopen                insmod+rmmod of a minimal module ÷ raw
//                                    dlopen + dlsym(init) + dlclose of the file   ≤ 1.3
//   so.get_put_from_module_vs_dlsym  symbol_get+symbol_put called inside a module
//                                    through <umod/module.h> ÷ one dlsym          ≤ 0.75
//   so.first_load_cxx_ms             the first load_module_file of a process, of
//                                    the C++ example thrower.so (ms; recorded,
//                                    the aim is ≤ 1): each in a fresh
//                                    process (this program run again)
#include <dlfcn.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

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

// This program, run with kFirstLoadChild PATH: the time of the first load of
// PATH in a process that has started and joined a thread, in ns on stdout.
constexpr const char* kFirstLoadChild = "--umod-first-load-child";

int first_load_child(const char* path) {
    std::thread([] {}).join();
    Registry registry;
    auto start = std::chrono::steady_clock::now();
    auto m = load_module_file(registry, path);
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    if (!m) {
        std::fprintf(stderr, "%s\n", m.error().message().c_str());
        return 1;
    }
    std::printf("%lld\n", static_cast<long long>(ns));
    return 0;
}

// One first load in a fresh process; its time in ns, or the child's failure.
Expected<double> first_load_in_child(const char* path) {
    int out[2];
    if (pipe(out) != 0) return Error(errno, "pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    char self[] = "/proc/self/exe";
    std::string flag = kFirstLoadChild, module = path;
    char* argv[] = {self, flag.data(), module.data(), nullptr};
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, self, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    std::string text;
    char buffer[64];
    for (ssize_t n; spawned == 0 && (n = read(out[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
    close(out[0]);
    if (spawned != 0) return Error(spawned, "cannot run /proc/self/exe");
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.empty())
        return Error(ECHILD, std::string("the first load of ") + path + " failed in its process (see stderr)");
    return std::strtod(text.c_str(), nullptr);
}

void BM_FirstLoadCxx(benchmark::State& state) {
    auto first = first_load_in_child(THROWER_SO);
    if (!verify(state, first.has_value(), first ? "" : first.error().message())) return;
    for (auto _ : state) {
        auto ns = first_load_in_child(THROWER_SO);
        if (!ns) {
            state.SkipWithError(ns.error().message().c_str());
            return;
        }
        state.SetIterationTime(*ns / 1e9);
    }
}
BENCHMARK(BM_FirstLoadCxx)->UseManualTime()->Iterations(8);

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
    if (argc == 3 && std::strcmp(argv[1], kFirstLoadChild) == 0) return first_load_child(argv[2]);
    return run_goals(argc, argv, [](const Results& r) {
        Measure per_get_put = at(r, "BM_GetPutFromModule") / kLoop;
        return std::vector<Goal>{
            {"so.load_vs_dlopen", at(r, "BM_InsmodRmmod") / at(r, "BM_RawDlopen"), 1.3},
            {"so.get_put_from_module_vs_dlsym", per_get_put / at(r, "BM_Dlsym"), 0.75},
            {"so.first_load_cxx_ms", at(r, "BM_FirstLoadCxx/iterations:8/manual_time") / 1e6, 0, Better::Record},
        };
    });
}
