#include "transcribe/word_split.h"

#include <array>
#include <cstdint>
#include <vector>

#include "tokenizer/utf8_replace.h"

namespace wisp {
namespace {

constexpr char32_t kReplacement = 0xFFFD;
// Python's string.punctuation; openai tests membership with `in`, i.e. as a substring.
constexpr std::string_view kAsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

// Code points of valid UTF-8 (the decoder's output always is), so indices match Python's str.
std::u32string code_points(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const int len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += len;
  }
  return out;
}

bool python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// openai's decode_with_timestamps: timestamps as "<|1.23|>", invalid UTF-8 as U+FFFD.
std::string decode_with_timestamps(const Tokenizer& tokenizer, const std::vector<int>& tokens) {
  return tokenizer::replace_invalid_utf8(tokenizer.decode_bytes(tokens));
}

}  // namespace

std::string python_strip(std::string_view text) {
  // Byte offset where each code point starts, plus the end.
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  starts.push_back(text.size());
  const std::u32string points = code_points(text);
  size_t first = 0, last = points.size();
  while (first < last && python_space(points[first])) ++first;
  while (last > first && python_space(points[last - 1])) --last;
  return std::string(text.substr(starts[first], starts[last] - starts[first]));
}

WordTokens split_tokens_on_unicode(const Tokenizer& tokenizer, const std::vector<int>& tokens) {
  const std::u32string full = code_points(decode_with_timestamps(tokenizer, tokens));
  WordTokens result;
  std::vector<int> current;
  size_t unicode_offset = 0;
  for (int token : tokens) {
    current.push_back(token);
    const std::string decoded = decode_with_timestamps(tokenizer, current);
    const std::u32string points = code_points(decoded);
    const size_t replacement = points.find(kReplacement);
    // A replacement char that the full text has at the same place is genuine, not a cut sequence.
    const bool complete = replacement == std::u32string::npos ||
                          (unicode_offset + replacement < full.size() &&
                           full[unicode_offset + replacement] == kReplacement);
    if (complete) {
      result.words.push_back(decoded);
      result.tokens.push_back(std::move(current));
      current.clear();
      unicode_offset += points.size();
    }
  }
  return result;
}

WordTokens split_tokens_on_spaces(const Tokenizer& tokenizer, const std::vector<int>& tokens) {
  WordTokens pieces = split_tokens_on_unicode(tokenizer, tokens);
  WordTokens result;
  const int eot = tokenizer.special().eot;
  for (size_t i = 0; i < pieces.words.size(); ++i) {
    const std::string& piece = pieces.words[i];
    const bool special = pieces.tokens[i][0] >= eot;
    const bool with_space = !piece.empty() && piece[0] == ' ';
    const bool punctuation = kAsciiPunctuation.find(python_strip(piece)) != std::string_view::npos;
    if (special || result.words.empty() || with_space || punctuation) {
      result.words.push_back(piece);
      result.tokens.push_back(std::move(pieces.tokens[i]));
    } else {
      result.words.back() += piece;
      result.tokens.back().insert(result.tokens.back().end(), pieces.tokens[i].begin(), pieces.tokens[i].end());
    }
  }
  return result;
}

WordTokens split_to_word_tokens(const Tokenizer& tokenizer, const std::vector<int>& tokens,
                                std::string_view language) {
  static constexpr std::array<std::string_view, 6> kNoSpaceLanguages = {"zh", "ja", "th", "lo", "my", "yue"};
  for (std::string_view code : kNoSpaceLanguages) {
    if (language == code) return split_tokens_on_unicode(tokenizer, tokens);
  }
  return split_tokens_on_spaces(tokenizer, tokens);
}

}  // namespace wisp
