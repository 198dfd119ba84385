// Link-only module images for tests: data only, no code loaded.
#pragma once

#include <umod/umod.h>
#include <umod/views.h>

#include <string>
#include <vector>

namespace umod::testing {

// Distinct addresses for exports, one per name.
inline const void* address_of(const std::string& name) {
    static std::vector<std::unique_ptr<std::string>> storage;
    for (const auto& s : storage)
        if (*s == name) return s.get();
    storage.push_back(std::make_unique<std::string>(name));
    return storage.back().get();
}

struct ImageBuilder {
    ModuleImage image;

    explicit ImageBuilder(std::string name, std::string license = "GPL") {
        image.name = std::move(name);
        image.size = 16384;
        image.modinfo.push_back({"license", std::move(license)});
        image.exit = [] {};
    }
    ImageBuilder& exports(std::string symbol, ExportLicense license = ExportLicense::Any,
                          std::string ns = {}) {
        ExportSpec spec;
        spec.address = address_of(image.name + ":" + symbol);
        spec.name = std::move(symbol);
        spec.license = license;
        spec.ns = std::move(ns);
        image.exports.push_back(std::move(spec));
        return *this;
    }
    ImageBuilder& typed(std::string symbol, std::string type) {
        exports(std::move(symbol));
        image.exports.back().type = std::move(type);
        return *this;
    }
    ImageBuilder& imports(std::string symbol) {
        image.imports.push_back(std::move(symbol));
        return *this;
    }
    ImageBuilder& import_ns(std::string ns) {
        image.modinfo.push_back({"import_ns", std::move(ns)});
        return *this;
    }
    ImageBuilder& init(std::function<int()> f) {
        image.init = std::move(f);
        return *this;
    }
    ImageBuilder& exit(std::function<void()> f) {
        image.exit = std::move(f);
        return *this;
    }
    ImageBuilder& no_exit() {
        image.exit = nullptr;
        return *this;
    }
    ModuleImage build() { return std::move(image); }
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
