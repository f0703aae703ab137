#include "decoding/logit_filters.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/kernel_table.h"

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

ApplyTimestampRules::ApplyTimestampRules(int timestamp_begin, int eot, int no_timestamps, int sample_begin,
                                         std::optional<int> max_initial_timestamp_index)
    : timestamp_begin_(timestamp_begin),
      eot_(eot),
      no_timestamps_(no_timestamps),
      sample_begin_(sample_begin),
      max_initial_timestamp_index_(max_initial_timestamp_index) {}

void ApplyTimestampRules::apply(float* logits, int n_vocab, const std::vector<int>& tokens) const {
  const int ts = timestamp_begin_;
  auto forbid = [&](int begin, int end) {
    std::fill(logits + std::clamp(begin, 0, n_vocab), logits + std::clamp(end, 0, n_vocab), kNegInf);
  };
  if (no_timestamps_ >= 0 && no_timestamps_ < n_vocab) logits[no_timestamps_] = kNegInf;

  const int n_sampled = static_cast<int>(tokens.size()) - sample_begin_;
  const int* sampled = tokens.data() + sample_begin_;
  const bool last_was_timestamp = n_sampled >= 1 && sampled[n_sampled - 1] >= ts;
  const bool penultimate_was_timestamp = n_sampled < 2 || sampled[n_sampled - 2] >= ts;
  if (last_was_timestamp) {
    if (penultimate_was_timestamp) {
      forbid(ts, n_vocab);  // a pair just closed (or the first one): text must follow
    } else {
      forbid(0, eot_);  // an open timestamp: its partner or <|endoftext|> must follow
    }
  }

  // Timestamps never decrease; a closed pair is followed by a strictly later one.
  for (int i = n_sampled - 1; i >= 0; --i) {
    if (sampled[i] < ts) continue;
    const int timestamp_last = (last_was_timestamp && !penultimate_was_timestamp) ? sampled[i] : sampled[i] + 1;
    forbid(ts, timestamp_last);
    break;
  }

  if (n_sampled == 0) {
    forbid(0, ts);  // the first sampled token is a timestamp
    if (max_initial_timestamp_index_) forbid(ts + *max_initial_timestamp_index_ + 1, n_vocab);
  }

  // Sample a timestamp when the timestamps together are likelier than every text token. (The
  // scans are vectorised: a beam step runs them once per beam over the whole vocabulary.)
  const KernelTable& kt = kernels();
  const float max_logit = kt.max_value(logits, n_vocab);
  if (std::isinf(max_logit)) return;
  const double timestamp_sum = ts < n_vocab ? kt.sum_exp(logits + ts, n_vocab - ts, max_logit) : 0.0;
  const float max_text = kt.max_value(logits, std::clamp(ts, 1, n_vocab));
  if (timestamp_sum > 0.0 && std::log(timestamp_sum) > static_cast<double>(max_text) - max_logit) forbid(0, ts);
}

}  // namespace wisp
