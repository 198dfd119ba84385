// libFuzzer target for `umod run`'s script-line parser (quotes, escapes,
// comments, `!`), followed, as umod run does, by the request parser for a
// line whose command is a live-host request.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <umod/control.h>

#include "script_line.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto line = umod::tool::parse_script_line(text);
    if (!line || line->words.empty()) return 0;
    if (umod::control::find_verb(line->words[0]) != nullptr) (void)umod::control::parse_request(line->words);
    return 0;
}
