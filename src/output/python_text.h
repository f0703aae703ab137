// Python str semantics the writers rely on: len() in code points, str.strip(), str.replace().
#pragma once

#include <string>
#include <string_view>

namespace wisp::output {

// `bytes` as valid UTF-8: each invalid subpart becomes U+FFFD, as Python's
// bytes.decode("utf-8", errors="replace") does when openai-whisper decodes tokens.
std::string valid_utf8(std::string_view bytes);

// Python's str.isspace() for one code point (Unicode White_Space as CPython defines it).
bool python_isspace(char32_t c);

// Decodes valid UTF-8 (see valid_utf8) into code points, and back.
std::u32string utf8_to_code_points(std::string_view utf8);
std::string code_points_to_utf8(std::u32string_view code_points);

// len(s) of the Python string `utf8` decodes to.
size_t python_len(std::string_view utf8);

// s.strip(): without leading and trailing Unicode whitespace (not only ASCII).
std::string python_strip(std::string_view utf8);

// s.replace(from, to): every non-overlapping occurrence, left to right.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);

}  // namespace wisp::output
