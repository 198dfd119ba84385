// cache: links to storage's factory at load time (a static use: storage
// cannot be unloaded before cache) and keeps one store for its whole life.
// put() is overloaded; each overload is exported under its type.
#include <umod/module.h>

#include <app/store.h>

#include <memory>
#include <string>
#include <string_view>

namespace storage {
std::unique_ptr<app::Store> open(std::string_view name);
}

namespace cache {

namespace {
std::unique_ptr<app::Store> store;
}

bool put(std::string_view key, std::string_view value) { return store->put(key, std::string(value)); }
bool put(std::string_view key, long value) { return store->put(key, std::to_string(value)); }
EXPORT_SYMBOL_TYPED(put, bool(std::string_view, std::string_view));
EXPORT_SYMBOL_TYPED(put, bool(std::string_view, long));

std::string lookup(std::string_view key) {
    auto value = store->get(key);
    return value ? "hit " + *value : "miss " + std::string(key);
}
EXPORT_SYMBOL(lookup);

}  // namespace cache

static int cache_init() {
    cache::store = storage::open("cache");
    return 0;
}
// The store's code is storage's: it goes before storage can.
static void cache_exit() { cache::store.reset(); }
module_init(cache_init);
module_exit(cache_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("a cache over one store");
