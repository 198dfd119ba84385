// Links to storage's C++ exports by their link names, and exports its own.
#include <umod/module.h>

#include <string>
#include <string_view>

namespace storage {
std::string describe(std::string_view key);
extern std::string banner;
}  // namespace storage

namespace cache {

std::string lookup(std::string_view key) { return storage::describe(key) + " (" + storage::banner + ")"; }
EXPORT_SYMBOL(lookup);

}  // namespace cache

MODULE_LICENSE("GPL");
