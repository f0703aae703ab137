#include "output/python_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "output/python_text.h"

namespace wisp::output {

std::string json_float(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  // Shortest round-trip digits (as Python's repr), taken apart and laid out by repr's rules.
  char buffer[64];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific).ptr;
  const std::string text(buffer, end);
  const size_t e = text.find('e');
  std::string sign, digits;
  for (size_t i = 0; i < e; ++i) {
    if (text[i] == '-') sign = "-";
    else if (text[i] != '.') digits += text[i];
  }
  const int exponent = std::atoi(text.c_str() + e + 1);
  const int point = exponent + 1;  // value = 0.DIGITS * 10^point
  const int n = static_cast<int>(digits.size());
  if (point <= -4 || point > 16) {
    std::string out = sign + digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    char exp_text[16];
    std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp_text;
  }
  if (point <= 0) return sign + "0." + std::string(static_cast<size_t>(-point), '0') + digits;
  if (point >= n) return sign + digits + std::string(static_cast<size_t>(point - n), '0') + ".0";
  return sign + digits.substr(0, static_cast<size_t>(point)) + "." + digits.substr(static_cast<size_t>(point));
}

std::string json_string(std::string_view utf8) {
  std::string out = "\"";
  char escape[16];
  const auto append_u = [&](unsigned unit) {
    std::snprintf(escape, sizeof escape, "\\u%04x", unit);
    out += escape;
  };
  for (const char32_t c : utf8_to_code_points(utf8)) {
    switch (c) {
      case U'"': out += "\\\""; break;
      case U'\\': out += "\\\\"; break;
      case U'\n': out += "\\n"; break;
      case U'\r': out += "\\r"; break;
      case U'\t': out += "\\t"; break;
      case U'\b': out += "\\b"; break;
      case U'\f': out += "\\f"; break;
      default:
        if (c >= 0x20 && c <= 0x7E) {
          out.push_back(static_cast<char>(c));
        } else if (c < 0x10000) {
          append_u(c);
        } else {
          const char32_t v = c - 0x10000;
          append_u(0xD800 + (v >> 10));
          append_u(0xDC00 + (v & 0x3FF));
        }
    }
  }
  return out + "\"";
}

}  // namespace wisp::output
