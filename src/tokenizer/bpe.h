// Byte-level BPE with ranks (tiktoken's algorithm): encodes one pre-tokenized piece.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace wisp::tokenizer {

class BytePairEncoder {
 public:
  // `tokens[rank]` is the byte string of each rank. Every single byte must be a token (throws
  // wisp::Error naming `source` otherwise); duplicates keep their lowest rank for encoding.
  BytePairEncoder(const std::vector<std::string>& tokens, const std::string& source);

  // Appends the ranks of `piece`: the piece itself if it is a token, else the result of
  // repeatedly merging the adjacent pair whose concatenation has the lowest rank (leftmost on
  // ties). O(n log n) in the piece length.
  void encode_piece(std::string_view piece, std::vector<int>& out) const;

  std::optional<int> rank(std::string_view bytes) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int, Hash, std::equal_to<>> ranks_;
};

}  // namespace wisp::tokenizer
