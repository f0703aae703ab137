// wisp/error.h - the one exception type the library throws.
#pragma once

#include <stdexcept>
#include <string>

namespace wisp {

// Every failure the user can cause (missing file, corrupt model, bad option) is reported as a
// wisp::Error whose what() is one line that says what went wrong and, where possible, what to do.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace wisp
