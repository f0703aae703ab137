#include "decoding/logit_filters.h"

#include <limits>

namespace wisp {

static constexpr float kNegInf = -std::numeric_limits<float>::infinity();

SuppressBlank::SuppressBlank(std::vector<int> blank_tokens, int sample_begin)
    : blank_tokens_(std::move(blank_tokens)), sample_begin_(sample_begin) {}

void SuppressBlank::apply(float* logits, int n_vocab, const std::vector<int>& tokens) const {
  if (static_cast<int>(tokens.size()) != sample_begin_) return;
  for (int t : blank_tokens_) {
    if (t >= 0 && t < n_vocab) logits[t] = kNegInf;
  }
}

SuppressTokens::SuppressTokens(std::vector<int> tokens) : suppressed_(std::move(tokens)) {}

void SuppressTokens::apply(float* logits, int n_vocab, const std::vector<int>&) const {
  for (int t : suppressed_) {
    if (t >= 0 && t < n_vocab) logits[t] = kNegInf;
  }
}

}  // namespace wisp
