// metrics: counts events, and forwards each to the tracer when one was loaded
// before it: a reference taken at run time (symbol_ref, attributed to
// metrics) instead of a link, so metrics loads without the tracer.
#include <umod/module.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace metrics {

// Put before every event (`metrics.so label=web`).
static const char* label = "app";
module_param_named(label, label, charp, 0444);
MODULE_PARM_DESC(label, "the name events are counted under");

namespace {
using Trace = void(std::string_view);
std::optional<umod::SymbolRef<Trace>> tracer;  // held from init to exit
std::map<std::string, int, std::less<>> counts;
}  // namespace

void count(std::string_view event) {
    std::string line = std::string(label) + "." + std::string(event);
    int n = ++counts[line];
    if (tracer) (**tracer)(line + " #" + std::to_string(n));
}
EXPORT_SYMBOL(count);

std::string report() {
    std::string out;
    for (const auto& [event, n] : counts) out += event + "=" + std::to_string(n) + " ";
    out += tracer ? "(traced)" : "(no tracer)";
    return out;
}
EXPORT_SYMBOL(report);

}  // namespace metrics

static int metrics_init() {
    if (auto ref = umod::symbol_ref<metrics::Trace>("tracer::trace")) metrics::tracer = std::move(*ref);
    return 0;
}
// A reference still held when exit returns would be reported as a leak.
static void metrics_exit() { metrics::tracer.reset(); }
module_init(metrics_init);
module_exit(metrics_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("event counts, traced when a tracer is loaded");
