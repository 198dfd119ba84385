// One line of a `umod run` script, split into words as a shell would for the
// simple cases: blanks separate words; "double" and 'single' quotes keep
// blanks (`backend="two words"` is one word); a backslash outside single
// quotes takes the next character literally; a `#` that starts a word begins
// a comment that runs to the end of the line. A leading `!` (alone or joined
// to the command: `!rmmod`, `! rmmod`) expects the command to fail.
//
// `echo` is the exception: its text is the rest of the line as written (up to
// a comment), quotes included, so that prose may contain apostrophes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <umod/expected.h>

namespace umod::tool {

struct ScriptLine {
    bool expect_failure = false;
    std::vector<std::string> words;  // empty: a blank or comment-only line
    std::string text;                // the command as written, without `!` and comment
    std::string echo;                // for `echo`: the rest of the line as written
};

// EINVAL naming the fault: an unterminated quote, a backslash at the end of
// the line, a `!` with no command after it, a NUL byte.
Expected<ScriptLine> parse_script_line(std::string_view line);

}  // namespace umod::tool
