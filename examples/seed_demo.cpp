// The seed's story, told by a host with link-only modules (data only: no
// code is loaded). Run it with `make demo`.
//
//   crc      exports crc32 and crc16
//   net      links to crc32 at load time              (a static use)
//   ext4     takes crc16 with symbol_get at run time   (an attributed dynamic use)
//   ext4 cannot unload crc: the refusal names the holders and their counts
//   net puts crc32 without a get: caught at the put, the static use survives
//   ext4 is unloaded still holding crc16: a leak, reported and released
#include <umod/umod.h>
#include <umod/views.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

int crc32_impl() { return 32; }
int crc16_impl() { return 16; }

// Prints every report the registry raises, as it happens.
struct Printer final : umod::Observer {
    void on_event(const umod::Event& e) override {
        if (e.kind == umod::EventKind::Leak || e.kind == umod::EventKind::UnmatchedPut)
            std::printf("  [report] %.*s\n", static_cast<int>(e.text.size()), e.text.data());
    }
};

umod::ModuleImage image(std::string name) {
    umod::ModuleImage m;
    m.name = std::move(name);
    m.size = 16384;
    m.modinfo = {{"license", "GPL"}};
    m.exit = [] {};
    return m;
}

void step(const char* text) { std::printf("\n== %s\n", text); }

void show(const umod::Registry& registry) {
    std::string text = umod::views::proc_modules(registry.snapshot());
    std::fputs(text.empty() ? "  (no modules loaded)\n" : text.c_str(), stdout);
}

}  // namespace

int main() {
    umod::Registry registry;
    Printer printer;
    registry.subscribe(printer);

    step("load crc (exports crc32, crc16) and net (imports crc32)");
    umod::ModuleImage crc = image("crc");
    crc.exports.push_back({.name = "crc32", .address = reinterpret_cast<const void*>(&crc32_impl)});
    crc.exports.push_back({.name = "crc16", .address = reinterpret_cast<const void*>(&crc16_impl)});
    if (auto r = registry.load(std::move(crc)); !r) return std::printf("%s\n", r.error().message().c_str()), 1;
    umod::ModuleImage net_image = image("net");
    net_image.imports = {"crc32"};
    auto net = registry.load(std::move(net_image));
    auto ext4 = registry.load(image("ext4"));
    if (!net || !ext4) return 1;
    show(registry);

    step("ext4 takes crc16 twice with symbol_get (attributed to ext4)");
    for (int i = 0; i < 2; ++i) {
        auto f = registry.symbol_get("crc16", ext4->user());
        if (!f) return 1;
        std::printf("  crc16() = %d\n", reinterpret_cast<int (*)()>(*f)());
    }
    std::fputs(umod::views::holders(registry.snapshot(), "crc").c_str(), stdout);

    step("rmmod crc: refused, naming who holds it");
    if (auto r = registry.unload("crc"); !r)
        std::printf("  error %s: %s\n", strerrorname_np(r.error().code()), r.error().message().c_str());

    step("net puts crc32 without a get: caught at the put");
    if (auto r = registry.symbol_put("crc32", net->user()); !r)
        std::printf("  error %s: %s\n", strerrorname_np(r.error().code()), r.error().message().c_str());
    std::printf("  the static use survives:\n");
    std::fputs(umod::views::holders(registry.snapshot(), "crc").c_str(), stdout);

    step("ext4 puts one crc16 and is unloaded holding the other: a leak");
    (void)registry.symbol_put("crc16", ext4->user());
    if (auto r = registry.unload("ext4"); r)
        std::printf("  unloaded ext4 (%zu leak report)\n", r->leaks.size());
    show(registry);

    step("rmmod net, then crc: nothing is pinned");
    (void)registry.unload("net");
    if (auto r = registry.unload("crc"); r) std::printf("  unloaded crc\n");
    show(registry);
    registry.unsubscribe(printer);
    return 0;
}
