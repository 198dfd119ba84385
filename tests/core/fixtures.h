// Link-only module images for tests: data only, no code loaded.
#pragma once

#include <umod/link_only.h>
#include <umod/umod.h>
#include <umod/views.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace umod::testing {

// Distinct addresses for exports, one per name. Safe to call from several
// threads (tests build images concurrently).
inline const void* address_of(const std::string& name) {
    static std::mutex mutex;
    static std::vector<std::unique_ptr<std::string>> storage;
    std::lock_guard lock(mutex);
    for (const auto& s : storage)
        if (*s == name) return s.get();
    storage.push_back(std::make_unique<std::string>(name));
    return storage.back().get();
}

// The public link-only builder, with a distinct made-up address per export.
struct ImageBuilder {
    LinkOnlyImage image;
    std::string name;

    explicit ImageBuilder(std::string module, std::string license = "GPL") : image(module, std::move(license)), name(module) {}
    ImageBuilder& exports(std::string symbol, ExportLicense license = ExportLicense::Any, std::string ns = {}) {
        image.exports(symbol, address_of(name + ":" + symbol), license, std::move(ns));
        return *this;
    }
    ImageBuilder& typed(std::string symbol, std::string type) {
        image.exports(symbol, address_of(name + ":" + symbol), ExportLicense::Any, {}, std::move(type));
        return *this;
    }
    ImageBuilder& imports(std::string symbol) {
        image.imports(std::move(symbol));
        return *this;
    }
    ImageBuilder& import_ns(std::string ns) {
        image.import_ns(std::move(ns));
        return *this;
    }
    ImageBuilder& init(std::function<int()> f) {
        image.init(std::move(f));
        return *this;
    }
    ImageBuilder& exit(std::function<void()> f) {
        image.exit(std::move(f));
        return *this;
    }
    ImageBuilder& no_exit() {
        image.exit(nullptr);
        return *this;
    }
    ModuleImage build() { return image.build(); }
};

// A backend that maps nothing: it hands the registry the callbacks and
// warnings it was given, and records when it was unmapped.
struct FakeBackend final : ModuleBackend {
    std::function<int(User*)> init;
    std::vector<std::string> warnings;
    std::size_t exports = 0;
    std::atomic<bool>* unmapped = nullptr;

    std::function<void()> on_unmap;  // called by unmap()
    std::optional<Error> map_error;  // map() fails with it

    Expected<MappedModule> map(std::span<const ResolvedImport>, User* self) override {
        if (map_error) return *map_error;
        MappedModule m;
        m.export_addresses.assign(exports, &exports);
        if (init) m.init = [f = init, self] { return f(self); };
        m.exit = [] {};
        m.size = 4096;
        m.warnings = warnings;
        return m;
    }
    UnmapReport unmap() override {
        if (unmapped) unmapped->store(true);
        if (on_unmap) on_unmap();
        return {};
    }
};

// Collects events as their one-line text, "kind: text".
struct EventLog final : Observer {
    std::vector<EventKind> kinds;
    std::vector<std::string> lines;
    void on_event(const Event& e) override {
        kinds.push_back(e.kind);
        lines.push_back(std::string(to_string(e.kind)) + ": " + std::string(e.text));
    }
};

}  // namespace umod::testing
