// The name of a C++ type as a constant string, spelled the same by GCC and by
// Clang, in a module and in its host: what typed exports record and typed
// lookups compare, e.g. "int(int, int)" or "std::basic_string<char>(int)".
//
// The canonical spelling (canonical_type below): a space only between two
// words, after a comma, and between ')', '*' or '&' and a word ("char* const",
// "int(int) const"); no inline namespace std::__cxx11; built-in integer types
// as Clang writes them ("unsigned long", "long long", "short").
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace umod::detail {

constexpr bool type_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Replaces the whole words `from` by `to` (not longer) in s[0, n); returns the new length.
constexpr std::size_t replace_type_words(char* s, std::size_t n, std::string_view from, std::string_view to) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < n;) {
        bool match = i + from.size() <= n && (out == 0 || !type_word_char(s[out - 1])) &&
                     (i + from.size() == n || !type_word_char(s[i + from.size()]));
        for (std::size_t k = 0; match && k < from.size(); ++k) match = s[i + k] == from[k];
        if (match) {
            for (char c : to) s[out++] = c;
            i += from.size();
        } else {
            s[out++] = s[i++];
        }
    }
    return out;
}

// Writes the canonical spelling of `in` to `out`, which has room for
// 2 * in.size() characters; returns its length. Idempotent.
constexpr std::size_t canonical_type(std::string_view in, char* out) {
    std::size_t n = 0;
    bool gap = false;  // the input had white space since the last character written
    for (char c : in) {
        if (c == ' ' || c == '\t' || c == '\n') {
            gap = true;
            continue;
        }
        if (n > 0) {
            char last = out[n - 1];
            bool space = (gap && type_word_char(last) && type_word_char(c)) ||
                         ((last == ')' || last == '*' || last == '&') && type_word_char(c));
            if (space) out[n++] = ' ';
        }
        gap = false;
        out[n++] = c;
        if (c == ',') out[n++] = ' ';
    }
    // std::__cxx11::basic_string (GCC) is std::basic_string (Clang).
    constexpr std::string_view inline_ns = "__cxx11::";
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n;) {
        bool match = i + inline_ns.size() <= n;
        for (std::size_t k = 0; match && k < inline_ns.size(); ++k) match = out[i + k] == inline_ns[k];
        if (match) {
            i += inline_ns.size();
        } else {
            out[kept++] = out[i++];
        }
    }
    n = kept;
    // GCC's spelling of the integer types, longest first, as Clang's.
    n = replace_type_words(out, n, "long long unsigned int", "unsigned long long");
    n = replace_type_words(out, n, "long long int", "long long");
    n = replace_type_words(out, n, "long unsigned int", "unsigned long");
    n = replace_type_words(out, n, "short unsigned int", "unsigned short");
    n = replace_type_words(out, n, "long int", "long");
    n = replace_type_words(out, n, "short int", "short");
    return n;
}

template <class T>
constexpr std::string_view raw_type_name() {
    // GCC: "... [with T = int(int, int); std::string_view = ...]";
    // Clang: "... [T = int (int, int)]". A type has no ';'.
    constexpr std::string_view pretty = __PRETTY_FUNCTION__;
    constexpr std::size_t start = pretty.find("T = ") + 4;
    constexpr std::size_t end = pretty.find(';', start) == std::string_view::npos ? pretty.size() - 1
                                                                                   : pretty.find(';', start);
    return pretty.substr(start, end - start);
}

template <class T>
struct CanonicalTypeBuffer {
    std::array<char, 2 * raw_type_name<T>().size() + 1> text{};
    std::size_t size = 0;
};

template <class T>
constexpr CanonicalTypeBuffer<T> canonical_type_buffer() {
    CanonicalTypeBuffer<T> b;
    b.size = canonical_type(raw_type_name<T>(), b.text.data());
    return b;
}

template <class T>
constexpr auto type_name_array() {
    constexpr CanonicalTypeBuffer<T> b = canonical_type_buffer<T>();
    std::array<char, b.size + 1> name{};
    for (std::size_t i = 0; i < b.size; ++i) name[i] = b.text[i];
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

// The canonical spelling of a type written by hand or recorded by an older
// module ("int (int,int)" → "int(int, int)"), as type_name spells it.
inline std::string canonical_type_name(std::string_view type) {
    std::string out(2 * type.size(), '\0');
    out.resize(detail::canonical_type(type, out.data()));
    return out;
}

}  // namespace umod
