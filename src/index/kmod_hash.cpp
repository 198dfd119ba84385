#include "index/kmod_hash.h"

#include <cstring>

namespace umod::index {

namespace {

std::uint32_t le16(const char* p) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(p[0])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(p[1])) << 8;
}

}  // namespace

std::uint32_t superfast_hash(std::string_view key) {
    const char* p = key.data();
    std::uint32_t len = static_cast<std::uint32_t>(key.size());
    std::uint32_t h = len;
    std::uint32_t rem = len & 3;
    for (len >>= 2; len > 0; --len, p += 4) {
        h += le16(p);
        std::uint32_t tmp = (le16(p + 2) << 11) ^ h;
        h = (h << 16) ^ tmp;
        h += h >> 11;
    }
    // The tails take single bytes as signed chars, as kmod 30 does on x86.
    switch (rem) {
        case 3:
            h += le16(p);
            h ^= h << 16;
            h ^= static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<signed char>(p[2])) << 18);
            h += h >> 11;
            break;
        case 2:
            h += le16(p);
            h ^= h << 11;
            h += h >> 17;
            break;
        case 1:
            h += static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<signed char>(p[0])));
            h ^= h << 10;
            h += h >> 1;
            break;
        default:
            break;
    }
    h ^= h << 3;
    h += h >> 5;
    h ^= h << 4;
    h += h >> 17;
    h ^= h << 25;
    h += h >> 6;
    return h;
}

}  // namespace umod::index
