// Live-host goals, measured side by side in one process:
//   control.getput_while_polled  get+put throughput while a client asks for the
//                                full JSON graph 1,000 times a second ÷ the same
//                                with the endpoint idle                    ≥ 0.95
//   control.lsmod_latency_us     one `lsmod` request and its answer, host with
//                                1,000 modules (µs)                        recorded
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <umod/control.h>
#include <umod/umod.h>

#include "common/goals.h"
#include "core/fixtures.h"

namespace umod::bench {
namespace {

using namespace std::chrono_literals;
using umod::testing::ImageBuilder;

struct Host {
    std::string dir;
    std::unique_ptr<Registry> registry;
    User* user = nullptr;
    explicit Host(int modules) {
        char templ[] = "/tmp/umod-bench-control-XXXXXX";
        dir = mkdtemp(templ);
        RegistryOptions options;
        options.control.access = ControlAccess::Read;
        options.control.directory = dir;
        registry = std::make_unique<Registry>(options);
        for (int i = 0; i < modules; ++i)
            (void)registry->load(ImageBuilder("m" + std::to_string(i)).exports("f" + std::to_string(i)).build());
        user = registry->holder("bench");
    }
    ~Host() {
        registry.reset();
        std::filesystem::remove_all(dir);
    }
    std::string socket() const { return dir + "/" + std::to_string(getpid()) + ".sock"; }
};

// arg 0: endpoint idle; 1: a client asks for `graph --json` every millisecond.
void BM_GetPutWhilePolled(benchmark::State& state) {
    Host host(100);
    if (!verify(state, host.registry->exports("f1"), "the host has no f1")) return;
    std::atomic<bool> stop{false};
    std::atomic<long> polls{0};
    std::thread poller;
    if (state.range(0) == 1)
        poller = std::thread([&] {
            auto client = control::Client::connect(host.socket());
            if (!client) return;
            std::vector<std::string> words{"graph", "--json"};
            auto next = std::chrono::steady_clock::now();
            while (!stop.load(std::memory_order_relaxed)) {
                if (client->request(words)) polls.fetch_add(1, std::memory_order_relaxed);
                next += 1ms;
                std::this_thread::sleep_until(next);
            }
        });
    for (auto _ : state) {
        auto got = host.registry->symbol_get("f1", host.user);
        benchmark::DoNotOptimize(got);
        (void)host.registry->symbol_put("f1", host.user);
    }
    stop.store(true);
    if (poller.joinable()) poller.join();
    if (state.range(0) == 1 && polls.load() == 0) state.SkipWithError("the poller got no answer");
}
BENCHMARK(BM_GetPutWhilePolled)->Arg(0)->Arg(1)->MinTime(0.5);

void BM_LsmodLatency(benchmark::State& state) {
    Host host(1000);
    if (!verify(state, host.registry->modules().size() == 1000, "the host has not 1,000 modules")) return;
    auto client = control::Client::connect(host.socket());
    if (!verify(state, static_cast<bool>(client), "no endpoint")) return;
    std::vector<std::string> words{"lsmod"};
    for (auto _ : state) {
        auto answer = client->request(words);
        if (!answer || answer->code != 0) {
            state.SkipWithError("lsmod failed");
            break;
        }
        benchmark::DoNotOptimize(answer->body.data());
    }
}
BENCHMARK(BM_LsmodLatency);

}  // namespace
}  // namespace umod::bench

int main(int argc, char** argv) {
    using namespace umod::bench;
    return run_goals(argc, argv, [](const Results& r) {
        Measure idle = at(r, "BM_GetPutWhilePolled/0/min_time:0.500");
        Measure polled = at(r, "BM_GetPutWhilePolled/1/min_time:0.500");
        Measure lsmod = at(r, "BM_LsmodLatency");
        return std::vector<Goal>{
            // Throughput while polled ÷ idle: the idle time per pair ÷ the polled one.
            {"control.getput_while_polled", idle / polled, 0.95, Better::Higher},
            {"control.lsmod_latency_us", lsmod / 1000.0, 0, Better::Record},
        };
    });
}
