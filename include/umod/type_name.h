// The name of a C++ type as a constant string, the same in a module and in
// its host (both built by the same compiler family): what typed exports record
// and typed lookups compare, e.g. "int(int, int)".
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace umod::detail {

template <class T>
constexpr auto type_name_array() {
    constexpr std::string_view pretty = __PRETTY_FUNCTION__;  // "... [with T = int(int, int)]"
    constexpr std::size_t start = pretty.find("T = ") + 4;
    constexpr std::size_t end = pretty.find_first_of(";]", start);
    std::array<char, end - start + 1> name{};
    for (std::size_t i = 0; i < end - start; ++i) name[i] = pretty[start + i];
    return name;
}

// Hidden: in a module, the string must stay the module's own (a default-
// visibility inline variable would become an STB_GNU_UNIQUE symbol, which keeps
// a module mapped after unload).
template <class T>
inline constexpr auto type_name_storage __attribute__((visibility("hidden"))) = type_name_array<T>();

}  // namespace umod::detail

namespace umod {

template <class T>
constexpr const char* type_name() {
    return detail::type_name_storage<T>.data();
}

}  // namespace umod
