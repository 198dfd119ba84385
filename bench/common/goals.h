// Goal lines for bench/ratios.sh: every benchmark binary runs its benchmarks
// in one process, side by side, then prints one line per goal:
//     GOAL <goal-id> <measured> <bar> PASS|FAIL [why]
// ratios.sh keeps those lines (without the GOAL prefix).
//
// A goal is PASS only when every benchmark it rests on ran, without error, and
// its figure meets the bar. A benchmark that cannot do its work (the load
// failed, get returned the wrong address) says so with state.SkipWithError
// before timing anything (see verify()); every goal resting on it then prints
//     GOAL <goal-id> unmeasured <bar> FAIL <benchmark>: <error>
// and run_goals returns 1.
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

// A figure derived from benchmark results: a value, or why there is none.
struct Measure {
    double value = 0;
    std::string missing;  // non-empty: not measured, and why

    bool measured() const { return missing.empty(); }
};

// Ratios and scalings keep the first reason a figure is missing; a zero
// divisor is missing too (a benchmark that took no time did no work).
inline Measure operator/(const Measure& a, const Measure& b) {
    if (!a.measured()) return a;
    if (!b.measured()) return b;
    if (b.value <= 0) return {0, "zero time in the divisor"};
    return {a.value / b.value, {}};
}
inline Measure operator/(const Measure& a, double b) { return a / Measure{b, {}}; }

// Record: a figure to keep (docs/performance.md) with no bar; printed as
// "GOAL <id> <measured> - RECORD".
enum class Better : std::uint8_t { Lower, Higher, Record };

struct Goal {
    std::string id;
    Measure measured;
    double bar;
    Better better = Better::Lower;

    bool pass() const {
        if (!measured.measured()) return false;
        if (better == Better::Record) return true;
        return better == Better::Lower ? measured.value <= bar : measured.value >= bar;
    }
};

// Each benchmark run by name: real time per iteration (ns), the median of the
// repetitions when there are several; or the error it stopped with.
class Results {
public:
    void record_time(const std::string& run, double ns, bool is_median) {
        Figure& f = figures_[run];
        if (!f.error.empty()) return;  // an error in any repetition sticks
        if (is_median || !f.has_time) f.ns = ns;
        f.has_time = true;
    }
    void record_error(const std::string& run, const std::string& error) {
        figures_[run].error = error.empty() ? "errored" : error;
    }
    // The figure of `run`, or why there is none.
    Measure at(const std::string& run) const {
        auto it = figures_.find(run);
        if (it == figures_.end()) return {0, run + ": did not run"};
        if (!it->second.error.empty()) return {0, run + ": " + it->second.error};
        if (!it->second.has_time) return {0, run + ": no figure"};
        return {it->second.ns, {}};
    }

private:
    struct Figure {
        double ns = 0;
        bool has_time = false;
        std::string error;
    };
    std::map<std::string, Figure> figures_;
};

inline Measure at(const Results& results, const std::string& run) { return results.at(run); }

class CollectingReporter : public ::benchmark::ConsoleReporter {
public:
    explicit CollectingReporter(Results& results) : ConsoleReporter(OO_Tabular), results_(results) {}
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            const std::string name = run.run_name.str();
            if (run.error_occurred)
                results_.record_error(name, run.error_message);
            else if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "median")
                results_.record_time(name, run.GetAdjustedRealTime(), true);
            else if (run.run_type == Run::RT_Iteration)
                results_.record_time(name, run.GetAdjustedRealTime(), false);
        }
    }

private:
    Results& results_;
};

// Before timing: stops the benchmark with `what` as its error unless `ok`.
// Returns ok, so a benchmark reads `if (!verify(state, p == expected, "...")) return;`.
inline bool verify(::benchmark::State& state, bool ok, const std::string& what) {
    if (!ok) state.SkipWithError(what.c_str());
    return ok;
}

// Prints one goal line (see the top of this file).
inline void print_goal(const Goal& g) {
    char measured[64] = "unmeasured";
    if (g.measured.measured()) std::snprintf(measured, sizeof measured, "%.3f", g.measured.value);
    char bar[64] = "-";
    if (g.better != Better::Record) std::snprintf(bar, sizeof bar, "%g", g.bar);
    const char* verdict = !g.pass() ? "FAIL" : g.better == Better::Record ? "RECORD" : "PASS";
    std::printf("\nGOAL %s %s %s %s%s%s\n", g.id.c_str(), measured, bar, verdict, g.measured.measured() ? "" : " ",
                g.measured.missing.c_str());
}

// Runs the registered benchmarks, then prints the goals `compute` derives.
// Returns 0 when every goal passes (or is recorded), 1 otherwise.
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
    int status = 0;
    for (const Goal& g : compute(results)) {
        print_goal(g);
        if (!g.pass()) status = 1;
    }
    return status;
}

}  // namespace umod::bench
