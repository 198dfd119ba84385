// libFuzzer target for the .bin index reader: header checks, exact and
// wildcard searches and the dump on arbitrary bytes. Any crash, hang,
// sanitizer report or leak is a bug: a corrupt index must only ever produce
// an error value.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "index/index_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    auto reader = umod::index::IndexReader::parse(bytes, "fuzz");
    if (!reader) return 0;
    // Fixed keys, plus one made of the input's last bytes (7-bit, as kmod's keys).
    std::string tail;
    for (std::size_t i = size > 16 ? size - 16 : 0; i < size; ++i) tail += static_cast<char>(data[i] & 0x7f);
    for (const std::string& key : {std::string(), std::string("a"), std::string("fs_vfat"),
                                   std::string("pci:v00008086d00001234sv*"), std::string("symbol:drm_dev_alloc"), tail}) {
        (void)reader->search(key);
        (void)reader->search_wild(key);
    }
    std::size_t lines = 0;
    (void)reader->dump("alias ", [&](std::string_view) { ++lines; });
    return 0;
}
