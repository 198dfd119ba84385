// kmod's hash table order, which several of depmod's outputs follow: Paul
// Hsieh's SuperFastHash over the key, buckets iterated in index order and each
// bucket kept in strcmp order.
#pragma once

#include <cstdint>
#include <string_view>

namespace umod::index {

std::uint32_t superfast_hash(std::string_view key);

// True if `a` comes before `b` when iterating a kmod hash of `buckets` buckets.
inline bool hash_order_less(std::string_view a, std::string_view b, std::uint32_t buckets) {
    std::uint32_t ba = superfast_hash(a) & (buckets - 1), bb = superfast_hash(b) & (buckets - 1);
    return ba != bb ? ba < bb : a < b;
}

}  // namespace umod::index
