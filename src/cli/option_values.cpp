#include "cli/option_values.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "wisp/error.h"

namespace wisp::cli {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_bool_literal(const std::string& value) {
  static const std::vector<std::string> literals = {"true", "false", "1", "0", "yes", "no"};
  return std::find(literals.begin(), literals.end(), lower(value)) != literals.end();
}

}  // namespace

bool parse_bool(const std::string& value, const std::string& option) {
  const std::string v = lower(value);
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  throw Error(option + " expects True or False, got '" + value + "'");
}

std::optional<double> parse_optional_double(const std::string& value, const std::string& option) {
  if (value.empty() || lower(value) == "none") return std::nullopt;
  try {
    size_t used = 0;
    const double v = std::stod(value, &used);
    if (used == value.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw Error(option + " expects a number or None, got '" + value + "'");
}

std::optional<int> parse_optional_int(const std::string& value, const std::string& option) {
  if (value.empty() || lower(value) == "none") return std::nullopt;
  try {
    size_t used = 0;
    const int v = std::stoi(value, &used);
    if (used == value.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error(option + " expects a whole number or None, got '" + value + "'");
}

void complete_bool_flags(std::vector<std::string>& args, const std::vector<std::string>& names) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    if (std::find(names.begin(), names.end(), args[i]) == names.end()) continue;
    // A bare flag is followed by nothing, another option or an input file; anything else is
    // its value (and a wrong one gets a clear error).
    const bool bare = i + 1 == args.size() || args[i + 1][0] == '-' ||
                      (!is_bool_literal(args[i + 1]) && std::filesystem::exists(args[i + 1]));
    if (!bare) {
      ++i;
    } else {
      args.insert(args.begin() + static_cast<long>(i) + 1, "True");
      ++i;
    }
  }
}

}  // namespace wisp::cli
