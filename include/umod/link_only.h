// umod — link-only module images: modules as data, with no code loaded. For
// tests, analysis (what would link, who would use whom) and hosts whose
// "modules" are parts of themselves.
//
//   auto image = umod::LinkOnlyImage("net", "GPL").imports("crc32").exports("net_tx", &net_tx).build();
//   registry.load(std::move(image));
#pragma once

#include <functional>
#include <string>
#include <utility>

#include <umod/umod.h>

namespace umod {

class LinkOnlyImage {
public:
    explicit LinkOnlyImage(std::string name, std::string license = "GPL", std::size_t size = 16384) {
        image_.name = std::move(name);
        image_.size = size;
        image_.modinfo.push_back({"license", std::move(license)});
        image_.exit = [] {};
    }
    LinkOnlyImage& exports(std::string symbol, const void* address, ExportLicense license = ExportLicense::Any,
                           std::string ns = {}, std::string type = {}) {
        ExportSpec spec;
        spec.name = std::move(symbol);
        spec.address = address;
        spec.license = license;
        spec.ns = std::move(ns);
        spec.type = std::move(type);
        image_.exports.push_back(std::move(spec));
        return *this;
    }
    LinkOnlyImage& imports(std::string symbol) {
        image_.imports.push_back(std::move(symbol));
        return *this;
    }
    LinkOnlyImage& modinfo(std::string key, std::string value) {
        image_.modinfo.push_back({std::move(key), std::move(value)});
        return *this;
    }
    LinkOnlyImage& import_ns(std::string ns) { return modinfo("import_ns", std::move(ns)); }
    LinkOnlyImage& init(std::function<int()> f) {
        image_.init = std::move(f);
        return *this;
    }
    // The default exit does nothing. An empty std::function (nullptr) means no
    // exit: with an init, the module is permanent (unloaded only by force),
    // as a kernel module with init but no exit.
    LinkOnlyImage& exit(std::function<void()> f) {
        image_.exit = std::move(f);
        return *this;
    }
    ModuleImage build() { return std::move(image_); }

private:
    ModuleImage image_;
};

}  // namespace umod
