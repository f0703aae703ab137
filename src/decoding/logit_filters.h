// Logit filters applied before each sampling step, as openai-whisper's LogitFilter classes.
#pragma once

#include <memory>
#include <optional>
#include <vector>

namespace wisp {

class LogitFilter {
 public:
  virtual ~LogitFilter() = default;
  // `tokens`: the sequence so far (initial tokens included); `logits`: [n_vocab] for the next.
  virtual void apply(float* logits, int n_vocab, const std::vector<int>& tokens) const = 0;
};

// At the first sampled position, forbids a blank (" ") and end-of-text.
class SuppressBlank : public LogitFilter {
 public:
  SuppressBlank(std::vector<int> blank_tokens, int sample_begin);
  void apply(float* logits, int n_vocab, const std::vector<int>& tokens) const override;

 private:
  std::vector<int> blank_tokens_;
  int sample_begin_;
};

// Forbids a fixed set of tokens at every step.
class SuppressTokens : public LogitFilter {
 public:
  explicit SuppressTokens(std::vector<int> tokens);
  void apply(float* logits, int n_vocab, const std::vector<int>& tokens) const override;

 private:
  std::vector<int> suppressed_;
};

// openai-whisper's ApplyTimestampRules: timestamps come in pairs (except right before
// <|endoftext|>) and never decrease, the first sampled token is a timestamp no later than
// `max_initial_timestamp_index` steps, and a timestamp is forced when the timestamps together are
// likelier than any single text token.
class ApplyTimestampRules : public LogitFilter {
 public:
  ApplyTimestampRules(int timestamp_begin, int eot, int no_timestamps, int sample_begin,
                      std::optional<int> max_initial_timestamp_index);
  void apply(float* logits, int n_vocab, const std::vector<int>& tokens) const override;

 private:
  int timestamp_begin_, eot_, no_timestamps_, sample_begin_;
  std::optional<int> max_initial_timestamp_index_;
};

}  // namespace wisp
