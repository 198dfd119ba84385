// storage: the factory. open() creates a store that outlives the call; its
// code (the virtual functions, the destructor) stays in this plugin, so the
// plugin must stay loaded while any store lives.
#include <umod/module.h>

#include <app/store.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace storage {

// How many keys a store holds (`storage.so capacity=3`).
static int capacity = 8;
module_param(capacity, int, 0444);
MODULE_PARM_DESC(capacity, "keys per store");

namespace {

int live_stores = 0;

class MemoryStore final : public app::Store {
public:
    explicit MemoryStore(std::string name) : name_(std::move(name)) { ++live_stores; }
    ~MemoryStore() override { --live_stores; }
    MemoryStore(const MemoryStore&) = delete;
    MemoryStore& operator=(const MemoryStore&) = delete;

    bool put(std::string_view key, std::string value) override {
        auto it = values_.find(key);
        if (it != values_.end()) {
            it->second = std::move(value);
            return true;
        }
        if (values_.size() >= static_cast<std::size_t>(capacity)) return false;
        values_.emplace(std::string(key), std::move(value));
        return true;
    }
    std::optional<std::string> get(std::string_view key) const override {
        auto it = values_.find(key);
        if (it == values_.end()) return std::nullopt;
        return it->second;
    }
    std::size_t size() const override { return values_.size(); }
    std::string name() const override { return name_; }

private:
    std::string name_;
    std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace

std::unique_ptr<app::Store> open(std::string_view name) { return std::make_unique<MemoryStore>(std::string(name)); }
EXPORT_SYMBOL(open);

// How many stores this plugin created that are still alive.
int stores_alive() { return live_stores; }
EXPORT_SYMBOL(stores_alive);

}  // namespace storage

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("the store factory");
MODULE_VERSION("1.0");
