// Goal lines for bench/ratios.sh: every benchmark binary runs its benchmarks
// in one process, side by side, then prints one line per goal:
//     GOAL <goal-id> <measured> <bar> PASS|FAIL
// ratios.sh keeps those lines (without the GOAL prefix).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace umod::bench {

// Record: a figure to keep (docs/performance.md) with no bar; printed as
// "GOAL <id> <measured> - RECORD".
enum class Better : std::uint8_t { Lower, Higher, Record };

struct Goal {
    std::string id;
    double measured;
    double bar;
    Better better = Better::Lower;
    bool pass() const {
        if (better == Better::Record) return true;
        return better == Better::Lower ? measured <= bar : measured >= bar;
    }
};

// Real time per iteration (ns) of each benchmark, by run name: the median
// of the repetitions when there are several, else the single run.
using Results = std::map<std::string, double>;

class CollectingReporter : public ::benchmark::ConsoleReporter {
public:
    explicit CollectingReporter(Results& results) : ConsoleReporter(OO_Tabular), results_(results) {}
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            if (run.error_occurred) continue;
            if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "median")
                results_[run.run_name.str()] = run.GetAdjustedRealTime();
            else if (run.run_type == Run::RT_Iteration && !results_.count(run.run_name.str()))
                results_[run.run_name.str()] = run.GetAdjustedRealTime();
        }
    }

private:
    Results& results_;
};

// Runs the registered benchmarks, then prints the goals `compute` derives.
inline int run_goals(int argc, char** argv, const std::function<std::vector<Goal>(const Results&)>& compute) {
    // glibc and libstdc++ skip atomic instructions until a thread has started:
    // start (and join) one so every figure includes them.
    std::thread([] {}).join();
    // Shared, noisy machines: five repetitions of each, goals from medians.
    std::vector<char*> args(argv, argv + argc);
    std::string repetitions = "--benchmark_repetitions=5";
    std::string aggregates = "--benchmark_report_aggregates_only=true";
    args.insert(args.begin() + 1, aggregates.data());
    args.insert(args.begin() + 1, repetitions.data());
    int n = static_cast<int>(args.size());
    ::benchmark::Initialize(&n, args.data());
    Results results;
    CollectingReporter reporter(results);
    ::benchmark::RunSpecifiedBenchmarks(&reporter);
    ::benchmark::Shutdown();
    for (const Goal& g : compute(results)) {
        if (g.better == Better::Record)
            std::printf("\nGOAL %s %.3f - RECORD\n", g.id.c_str(), g.measured);
        else
            std::printf("\nGOAL %s %.3f %g %s\n", g.id.c_str(), g.measured, g.bar, g.pass() ? "PASS" : "FAIL");
    }
    return 0;
}

inline double at(const Results& results, const std::string& name) {
    auto it = results.find(name);
    return it == results.end() ? 0.0 : it->second;
}

}  // namespace umod::bench
