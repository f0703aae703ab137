// openai-whisper's format_timestamp() and the Python round() it is built on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wisp::output {

// Python's round(x) to an int: nearest integer, exact halves to even. Throws wisp::Error for
// NaN or infinity (Python raises there too).
int64_t python_round(double x);

// "[HH:]MM:SS<marker>mmm" of `seconds`, the milliseconds being round(seconds * 1000.0); hours
// appear when `always_include_hours` or when nonzero. Throws wisp::Error for negative input.
std::string format_timestamp(double seconds, bool always_include_hours = false,
                             std::string_view decimal_marker = ".");

}  // namespace wisp::output
