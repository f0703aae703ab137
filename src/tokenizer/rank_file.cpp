// tiktoken rank file parsing with strict validation (a corrupt file must not yield a silently
// wrong vocabulary).
#include "tokenizer/rank_file.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

#include "wisp/error.h"

namespace wisp::tokenizer {
namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string_view trim(std::string_view s) {
  const char* space = " \t\r\n";
  const size_t begin = s.find_first_not_of(space);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(space) - begin + 1);
}

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  size_t padding = 0;
  while (!text.empty() && text.back() == '=' && padding < 2) {
    text.remove_suffix(1);
    ++padding;
  }
  if (text.size() % 4 == 1) return std::nullopt;  // cannot end a base64 quantum
  if (padding > 0 && (text.size() + padding) % 4 != 0 && !text.empty()) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int value = base64_value(c);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::vector<std::string> read_tiktoken_ranks(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error("cannot open tokenizer rank file " + path + " (" + std::strerror(errno) +
                "); pass a tiktoken rank file such as gpt2.tiktoken or multilingual.tiktoken");
  }
  std::vector<std::string> tokens;
  std::vector<char> seen;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string_view text = trim(line);
    if (text.empty()) continue;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    const size_t space = text.find_first_of(" \t");
    if (space == std::string_view::npos) {
      throw Error(where + "expected 'base64-token rank'; the rank file is corrupt, replace it");
    }
    const std::string_view token_text = text.substr(0, space);
    const std::string_view rank_text = trim(text.substr(space));
    auto token = decode_base64(token_text);
    if (!token) {
      throw Error(where + "invalid base64 token '" + std::string(token_text) +
                  "'; the rank file is corrupt, replace it");
    }
    long rank = -1;
    auto [end, ec] = std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    if (ec != std::errc() || end != rank_text.data() + rank_text.size() || rank < 0 ||
        rank > 10'000'000) {
      throw Error(where + "invalid rank '" + std::string(rank_text) +
                  "'; the rank file is corrupt, replace it");
    }
    if (static_cast<size_t>(rank) >= tokens.size()) {
      tokens.resize(rank + 1);
      seen.resize(rank + 1, 0);
    }
    if (seen[rank]) {
      throw Error(where + "rank " + std::to_string(rank) + " appears twice; the rank file is corrupt");
    }
    seen[rank] = 1;
    tokens[rank] = std::move(*token);
  }
  if (in.bad()) throw Error("error reading tokenizer rank file " + path);
  if (tokens.empty()) throw Error(path + ": no ranks found; not a tiktoken rank file");
  for (size_t rank = 0; rank < seen.size(); ++rank) {
    if (!seen[rank]) {
      throw Error(path + ": rank " + std::to_string(rank) +
                  " is missing (ranks must be 0..n-1); the rank file is corrupt");
    }
  }
  return tokens;
}

}  // namespace wisp::tokenizer
