// libFuzzer target for the control protocol's request parser: a request
// frame's payload (decode_request) and the words it carries (parse_request),
// exactly as the endpoint runs them on what a client sent. Any crash, hang,
// sanitizer report or leak is a bug: hostile bytes only ever give an error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <umod/control.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view payload(reinterpret_cast<const char*>(data), size);
    auto words = umod::control::decode_request(payload);
    if (!words) return 0;
    auto request = umod::control::parse_request(*words);
    if (request) (void)umod::control::encode_request(*words);
    return 0;
}
