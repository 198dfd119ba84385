// The host: loads the plugins from a directory (providers first), uses them
// through typed references, keeps a store that the storage plugin created
// after the factory call returned, shows who holds what, and unloads
// everything, checking that each plugin's code is really gone.
//
//   app-host PLUGIN_DIR [--no-tracer]
#include <umod/loader.h>
#include <umod/ref.h>
#include <umod/umod.h>
#include <umod/views.h>

#include <app/store.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Prints the registry's reports as they happen: leaks on stdout, load-time
// warnings (what may keep a plugin mapped) on stderr.
struct Reports final : umod::Observer {
    void on_event(const umod::Event& e) override {
        if (e.kind == umod::EventKind::Leak)
            std::printf("[leak] %.*s\n", static_cast<int>(e.text.size()), e.text.data());
        else if (e.kind == umod::EventKind::Warning)
            std::fprintf(stderr, "[warning] %.*s\n", static_cast<int>(e.text.size()), e.text.data());
    }
};

void print_error(const char* what, const umod::Error& error) {
    // EWOULDBLOCK is EAGAIN's value; unload refusals are EWOULDBLOCK.
    const char* code = error.code() == EWOULDBLOCK ? "EWOULDBLOCK" : strerrorname_np(error.code());
    std::printf("%s: error %s: %s\n", what, code, error.message().c_str());
}

void section(const char* title, const std::string& text) {
    std::printf("--- %s\n%s", title, text.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PLUGIN_DIR [--no-tracer]\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    const bool with_tracer = !(argc > 2 && std::strcmp(argv[2], "--no-tracer") == 0);

    umod::Registry registry;
    Reports reports;
    registry.subscribe(reports);
    umod::User* host = registry.holder("host");  // the host's own references, by name

    // Providers before the plugins that use them; metrics finds the tracer
    // only if it is loaded first.
    struct Plugin {
        const char* name;
        std::vector<std::string> params;
    };
    std::vector<Plugin> plugins;
    if (with_tracer) plugins.push_back({"tracer", {}});
    plugins.push_back({"storage", {"capacity=3"}});
    plugins.push_back({"cache", {}});
    plugins.push_back({"metrics", {"label=shop"}});
    for (const Plugin& p : plugins) {
        auto loaded = umod::load_module_file(registry, dir + "/" + p.name + ".so", p.params);
        if (!loaded) {
            print_error(p.name, loaded.error());
            return 1;
        }
        std::printf("loaded %s", p.name);
        for (const auto& param : p.params) std::printf(" %s", param.c_str());
        std::printf("\n");
    }

    // Typed references: an overload is picked by its type; a wrong type is
    // refused (EINVAL) instead of called.
    using PutText = bool(std::string_view, std::string_view);
    using PutNumber = bool(std::string_view, long);
    using Lookup = std::string(std::string_view);
    using Count = void(std::string_view);
    {
        auto put_text = umod::SymbolRef<PutText>::acquire(registry, "cache::put", host);
        auto put_number = umod::SymbolRef<PutNumber>::acquire(registry, "cache::put", host);
        auto lookup = umod::SymbolRef<Lookup>::acquire(registry, "cache::lookup", host);
        auto count = umod::SymbolRef<Count>::acquire(registry, "metrics::count", host);
        if (!put_text || !put_number || !lookup || !count) {
            std::printf("a cache or metrics export is missing\n");
            return 1;
        }
        std::printf("put colour=blue: %d\n", (*put_text)("colour", "blue"));
        std::printf("put size=42: %d\n", (*put_number)("size", 42L));
        for (const char* key : {"colour", "size", "shape"}) {
            std::printf("lookup %s: %s\n", key, (*lookup)(key).c_str());
            (*count)("lookup");
        }
        auto wrong = umod::SymbolRef<int(int)>::acquire(registry, "cache::lookup", host);
        if (!wrong) print_error("cache::lookup as int(int)", wrong.error());
    }  // every reference above is released here

    // An object that outlives its factory call: the store's code is
    // storage's, so module_shared has the host hold storage while the store
    // (or any copy of it) lives.
    using Open = std::unique_ptr<app::Store>(std::string_view);
    std::shared_ptr<app::Store> sessions;
    {
        auto open = umod::SymbolRef<Open>::acquire(registry, "storage::open", host);
        if (!open) {
            print_error("storage::open", open.error());
            return 1;
        }
        auto shared = umod::module_shared(registry, (*open)("sessions"), host);
        if (!shared) {
            print_error("module_shared", shared.error());
            return 1;
        }
        sessions = std::move(*shared);
    }  // the factory reference is released; the store lives on
    sessions->put("alice", "cart=3");
    sessions->put("bob", "cart=1");
    auto stores_alive = [&] {
        auto alive = umod::SymbolRef<int()>::acquire(registry, "storage::stores_alive", host);
        return alive ? (*alive)() : -1;
    };
    std::printf("store %s: %zu keys; live stores: %d\n", sessions->name().c_str(), sessions->size(),
                stores_alive());

    section("lsmod", umod::views::lsmod(registry.snapshot()));
    section("holders storage", umod::views::holders(registry.snapshot(), "storage"));
    if (with_tracer) section("holders tracer", umod::views::holders(registry.snapshot(), "tracer"));

    // Unloads refused while something holds the plugin, naming the holders.
    for (const char* name : {"storage", "tracer"}) {
        if (!with_tracer && std::strcmp(name, "tracer") == 0) continue;
        auto refused = registry.unload(name);
        if (refused) {
            std::printf("rmmod %s: unexpectedly unloaded\n", name);
            return 1;
        }
        print_error((std::string("rmmod ") + name).c_str(), refused.error());
    }

    {
        auto report = umod::SymbolRef<std::string()>::acquire(registry, "metrics::report", host);
        if (report) std::printf("metrics: %s\n", (*report)().c_str());
    }

    sessions.reset();
    std::printf("dropped the store; live stores: %d\n", stores_alive());

    // Users before providers; each plugin's code must be gone afterwards.
    std::vector<const char*> order{"metrics", "cache", "storage"};
    if (with_tracer) order.push_back("tracer");
    for (const char* name : order) {
        auto unloaded = registry.unload(name);
        if (!unloaded) {
            print_error((std::string("rmmod ") + name).c_str(), unloaded.error());
            return 1;
        }
        std::printf("rmmod %s: %s\n", name, unloaded->unmap.unmapped ? "unloaded, unmapped" : "still mapped");
    }
    section("lsmod", umod::views::lsmod(registry.snapshot()));
    return 0;
}
