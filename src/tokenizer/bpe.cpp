// Byte-level BPE merge loop. Equivalent to tiktoken's "merge the lowest-ranked adjacent pair,
// leftmost first" scan, but with a min-heap so long pieces (e.g. unbroken CJK runs) stay fast.
#include "tokenizer/bpe.h"

#include <climits>
#include <cstdio>
#include <queue>
#include <utility>

#include "wisp/error.h"

namespace wisp::tokenizer {

BytePairEncoder::BytePairEncoder(const std::vector<std::string>& tokens,
                                 const std::string& source) {
  ranks_.reserve(tokens.size());
  for (size_t rank = 0; rank < tokens.size(); ++rank) {
    ranks_.try_emplace(tokens[rank], static_cast<int>(rank));  // first (lowest) rank wins
  }
  for (int byte = 0; byte < 256; ++byte) {
    if (!ranks_.count(std::string(1, static_cast<char>(byte)))) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", byte);
      throw Error(source + ": the vocabulary has no token for byte " + hex +
                  ", so it cannot encode arbitrary text; use a complete byte-level BPE vocabulary");
    }
  }
}

std::optional<int> BytePairEncoder::rank(std::string_view bytes) const {
  auto it = ranks_.find(bytes);
  if (it == ranks_.end()) return std::nullopt;
  return it->second;
}

void BytePairEncoder::encode_piece(std::string_view piece, std::vector<int>& out) const {
  if (piece.empty()) return;
  if (auto whole = rank(piece)) {
    out.push_back(*whole);
    return;
  }
  const size_t n = piece.size();
  // Parts form a linked list over byte positions; part i spans [i, next[i]).
  std::vector<size_t> next(n), prev(n);
  std::vector<int> pair_rank(n, INT_MAX);  // rank of part i joined with its right neighbour
  std::vector<char> alive(n, 1);
  for (size_t i = 0; i < n; ++i) {
    next[i] = i + 1;
    prev[i] = i == 0 ? SIZE_MAX : i - 1;
  }
  auto compute_pair_rank = [&](size_t i) {
    if (next[i] >= n) return INT_MAX;
    const size_t end = next[next[i]] < n ? next[next[i]] : n;
    auto r = rank(piece.substr(i, end - i));
    return r ? *r : INT_MAX;
  };
  // Min-heap on (rank, position): position order makes ties resolve leftmost, like tiktoken.
  using Entry = std::pair<int, size_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  for (size_t i = 0; i + 1 < n; ++i) {
    pair_rank[i] = compute_pair_rank(i);
    if (pair_rank[i] != INT_MAX) heap.emplace(pair_rank[i], i);
  }
  while (!heap.empty()) {
    auto [r, i] = heap.top();
    heap.pop();
    // Stale entry: the part was absorbed or its pair changed since it was pushed.
    if (!alive[i] || pair_rank[i] != r) continue;
    const size_t j = next[i];
    alive[j] = 0;
    next[i] = next[j];
    if (next[j] < n) prev[next[j]] = i;
    pair_rank[i] = compute_pair_rank(i);
    if (pair_rank[i] != INT_MAX) heap.emplace(pair_rank[i], i);
    if (prev[i] != SIZE_MAX) {
      const size_t p = prev[i];
      pair_rank[p] = compute_pair_rank(p);
      if (pair_rank[p] != INT_MAX) heap.emplace(pair_rank[p], p);
    }
  }
  for (size_t i = 0; i < n; i = next[i]) {
    out.push_back(*rank(piece.substr(i, next[i] - i)));  // merged parts are tokens by construction
  }
}

}  // namespace wisp::tokenizer
