// Value syntax of openai-whisper's CLI: booleans as True/False (also bare, as flags), optional
// numbers as a number or None.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace wisp::cli {

// Parses True/False/true/false/1/0/yes/no; throws wisp::Error naming `option` otherwise.
bool parse_bool(const std::string& value, const std::string& option);
// A number, or nullopt for "None"/"none"/"" ; throws wisp::Error naming `option` otherwise.
std::optional<double> parse_optional_double(const std::string& value, const std::string& option);
std::optional<int> parse_optional_int(const std::string& value, const std::string& option);

// Gives each boolean option in `names` (dash-spelled, e.g. "--word-timestamps") an explicit
// value when it is used as a bare flag, so "--word_timestamps" and "--word_timestamps True"
// both parse. `args` are the normalised arguments in order.
void complete_bool_flags(std::vector<std::string>& args, const std::vector<std::string>& names);

}  // namespace wisp::cli
