// GPT-2's pre-tokenizer regex via PCRE2 (UTF + Unicode properties, JIT when available).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include <memory>
#include <string>

#include "wisp/error.h"

namespace wisp::tokenizer {
namespace {

constexpr char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};
using CodePtr = std::unique_ptr<pcre2_code, CodeDeleter>;
using MatchDataPtr = std::unique_ptr<pcre2_match_data, MatchDataDeleter>;

const pcre2_code* gpt2_regex() {
  static const CodePtr code = [] {
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    // MATCH_INVALID_UTF: never fail on invalid UTF-8 (such bytes just do not match) and skip
    // the per-call validity scan that would make repeated matching quadratic.
    pcre2_code* compiled = pcre2_compile(
        reinterpret_cast<PCRE2_SPTR>(kGpt2Pattern), PCRE2_ZERO_TERMINATED,
        PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code, &error_offset, nullptr);
    if (compiled == nullptr) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error_code, message, sizeof message);
      throw Error("cannot compile the GPT-2 pre-tokenizer regex: " +
                  std::string(reinterpret_cast<char*>(message)));
    }
    pcre2_jit_compile(compiled, PCRE2_JIT_COMPLETE);  // optional speed-up; falls back silently
    return CodePtr(compiled);
  }();
  return code.get();
}

}  // namespace

std::vector<std::string_view> pretokenize(std::string_view text) {
  std::vector<std::string_view> pieces;
  if (text.empty()) return pieces;
  const pcre2_code* code = gpt2_regex();
  MatchDataPtr match(pcre2_match_data_create_from_pattern(code, nullptr));
  if (!match) throw Error("out of memory creating PCRE2 match data");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t offset = 0;
  while (offset < text.size()) {
    const int rc = pcre2_match(code, subject, text.size(), offset, 0, match.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) {
      pieces.push_back(text.substr(offset));  // trailing bytes the regex cannot match
      break;
    }
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof message);
      throw Error("pre-tokenizer regex failed: " + std::string(reinterpret_cast<char*>(message)));
    }
    const PCRE2_SIZE* range = pcre2_get_ovector_pointer(match.get());
    size_t start = range[0], end = range[1];
    if (start > offset) pieces.push_back(text.substr(offset, start - offset));
    if (end <= start) end = start + 1;  // no branch matches empty; guard against looping anyway
    pieces.push_back(text.substr(start, end - start));
    offset = end;
  }
  return pieces;
}

}  // namespace wisp::tokenizer
