// Small text helpers shared across the library.
#pragma once

#include <string>

namespace wisp {

// `s` without leading and trailing ASCII whitespace (as Python's str.strip() on Whisper text).
inline std::string strip(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\n\r");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\n\r") - begin + 1);
}

}  // namespace wisp
