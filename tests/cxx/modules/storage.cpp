// C++ names as people write them: a namespace, std::string in and out (ABI-
// tagged link names), a std::string variable, EXPORT_SYMBOL after each
// function's definition (the documented style, which Clang used to drop).
#include <umod/module.h>

#include <string>
#include <string_view>

namespace storage {

std::string describe(std::string_view key) { return "stored:" + std::string(key); }
EXPORT_SYMBOL(describe);

int add(int a, int b) { return a + b; }
EXPORT_SYMBOL(add);

// A variable: exported from a declaration before its definition (Clang
// writes variables after all functions, so a later EXPORT_SYMBOL cannot
// reach it there).
extern std::string banner;
EXPORT_SYMBOL(banner);
std::string banner = "storage v1";

}  // namespace storage

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("C++ names: namespaces, std::string, ABI tags");
