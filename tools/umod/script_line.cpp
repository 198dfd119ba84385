#include "script_line.h"

#include <cerrno>

namespace umod::tool {

namespace {

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

// Where the unquoted `#` that starts a word is (npos: none), for echo's text.
std::size_t raw_comment(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i] == '#' && (i == 0 || blank(s[i - 1]))) return i;
    return std::string_view::npos;
}

}  // namespace

Expected<ScriptLine> parse_script_line(std::string_view line) {
    if (line.find('\0') != std::string_view::npos) return Error(EINVAL, "a NUL byte in the line");
    ScriptLine out;
    std::string_view rest = trim(line);
    if (rest.empty() || rest.front() == '#') return out;
    if (rest.front() == '!') {
        out.expect_failure = true;
        rest = trim(rest.substr(1));
        if (rest.empty() || rest.front() == '#') return Error(EINVAL, "'!' with no command after it");
    }

    // echo: its own text, as written.
    std::string_view verb = rest.substr(0, std::min(rest.size(), rest.find_first_of(" \t")));
    if (verb == "echo") {
        std::string_view text = rest.substr(verb.size());
        out.echo = std::string(trim(text.substr(0, raw_comment(text))));
        out.words = {"echo"};
        out.text = std::string(trim(rest.substr(0, raw_comment(rest))));
        return out;
    }
    // The words, and where the comment (if any) starts.
    std::size_t end = rest.size();
    std::string word;
    bool in_word = false;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        char c = rest[i];
        if (blank(c)) {
            if (in_word) out.words.push_back(std::move(word));
            word.clear();
            in_word = false;
            continue;
        }
        if (c == '#' && !in_word) {
            end = i;
            break;
        }
        in_word = true;
        if (c == '\\') {
            if (++i == rest.size()) return Error(EINVAL, "a backslash at the end of the line");
            word += rest[i];
        } else if (c == '\'') {
            std::size_t close = rest.find('\'', i + 1);
            if (close == std::string_view::npos)
                return Error(EINVAL, "a single quote (column " + std::to_string(i + 1) + ") is not closed");
            word.append(rest.substr(i + 1, close - i - 1));
            i = close;
        } else if (c == '"') {
            std::size_t j = i + 1;
            for (; j < rest.size() && rest[j] != '"'; ++j) {
                if (rest[j] == '\\' && j + 1 < rest.size() &&
                    (rest[j + 1] == '"' || rest[j + 1] == '\\'))
                    ++j;
                word += rest[j];
            }
            if (j == rest.size())
                return Error(EINVAL, "a double quote (column " + std::to_string(i + 1) + ") is not closed");
            i = j;
        } else {
            word += c;
        }
    }
    if (in_word) out.words.push_back(std::move(word));

    out.text = std::string(trim(rest.substr(0, end)));
    if (out.words.empty()) return Error(EINVAL, "'!' with no command after it");
    return out;
}

}  // namespace umod::tool
