// The pieces of Python's json.dumps() defaults (ensure_ascii, allow_nan) that wisp writes.
#pragma once

#include <string>
#include <string_view>

namespace wisp::output {

// A float as json.dumps writes it: repr() (shortest round-trip, "1.0", "1e-05", "1e+16", "-0.0"),
// or NaN / Infinity / -Infinity.
std::string json_float(double value);

// A quoted JSON string with ensure_ascii=True: \" \\ \n \r \t \b \f, other characters outside
// ' '..'~' as \uXXXX (lowercase hex, surrogate pairs above U+FFFF). Invalid UTF-8 becomes U+FFFD.
std::string json_string(std::string_view utf8);

}  // namespace wisp::output
