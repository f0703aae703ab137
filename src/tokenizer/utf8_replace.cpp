// UTF-8 validation per the Unicode well-formed byte table (no overlongs, surrogates or > U+10FFFF).
#include "tokenizer/utf8_replace.h"

namespace wisp::tokenizer {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

struct LeadInfo {
  int length;              // total bytes in the sequence, 0 if the byte cannot start one
  unsigned char lo, hi;    // allowed range of the first continuation byte
};

LeadInfo lead_info(unsigned char c) {
  if (c >= 0xC2 && c <= 0xDF) return {2, 0x80, 0xBF};
  if (c == 0xE0) return {3, 0xA0, 0xBF};  // no overlongs
  if (c == 0xED) return {3, 0x80, 0x9F};  // no surrogates
  if (c >= 0xE1 && c <= 0xEF) return {3, 0x80, 0xBF};
  if (c == 0xF0) return {4, 0x90, 0xBF};  // no overlongs
  if (c >= 0xF1 && c <= 0xF3) return {4, 0x80, 0xBF};
  if (c == 0xF4) return {4, 0x80, 0x8F};  // nothing above U+10FFFF
  return {0, 0, 0};
}

}  // namespace

std::string replace_invalid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    const LeadInfo info = lead_info(c);
    if (info.length == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    // Count how many bytes of the sequence are well-formed.
    int valid = 1;
    while (valid < info.length && i + valid < bytes.size()) {
      const auto b = static_cast<unsigned char>(bytes[i + valid]);
      const unsigned char lo = valid == 1 ? info.lo : 0x80;
      const unsigned char hi = valid == 1 ? info.hi : 0xBF;
      if (b < lo || b > hi) break;
      ++valid;
    }
    if (valid == info.length) {
      out.append(bytes.substr(i, valid));
    } else {
      out += kReplacement;  // one U+FFFD for the maximal valid prefix; resume at the bad byte
    }
    i += valid;
  }
  return out;
}

}  // namespace wisp::tokenizer
