#include "transcribe/language_option.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "wisp/error.h"

namespace wisp {

std::string resolve_language(const std::string& value, const Tokenizer& tokenizer) {
  static const std::map<std::string, std::string> kAliases = {
      {"burmese", "my"},   {"valencian", "ca"}, {"flemish", "nl"},  {"haitian", "ht"},
      {"letzeburgesch", "lb"}, {"pushto", "ps"}, {"panjabi", "pa"}, {"moldavian", "ro"},
      {"moldovan", "ro"},  {"sinhalese", "si"}, {"castilian", "es"}, {"mandarin", "zh"}};
  std::string lower = value;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string code;
  const auto& codes = whisper_language_codes();
  if (std::find(codes.begin(), codes.end(), lower) != codes.end()) {
    code = lower;
  } else if (auto it = kAliases.find(lower); it != kAliases.end()) {
    code = it->second;
  } else {
    for (const auto& c : codes) {
      if (whisper_language_name(c) == lower) code = c;
    }
  }
  if (code.empty()) {
    throw Error("unknown language '" + value + "'; give a code such as en, de, zh or a name such as german");
  }
  if (!tokenizer.language_token(code)) {
    throw Error("language '" + code + "' is not in this model's vocabulary");
  }
  return code;
}

}  // namespace wisp
