#include "decoding/decode_loop.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "wisp/error.h"

namespace wisp {

namespace {

constexpr double kTimePrecision = 0.02;  // seconds per timestamp token

}  // namespace

DecodeLoop::DecodeLoop(Decoder& decoder, const Model& model, const DecodingOptions& options, SamplingRng& rng)
    : decoder_(decoder),
      eot_(model.tokenizer().special().eot),
      no_speech_(model.tokenizer().special().no_speech),
      n_vocab_(decoder.n_vocab()),
      n_ctx_(decoder.n_ctx()),
      n_group_(group_size(options)),
      beam_search_(options.temperature == 0.0 && options.beam_size.has_value()) {
  const Tokenizer& tokenizer = model.tokenizer();
  const SpecialTokens& special = tokenizer.special();
  if (n_group_ < 1 || n_group_ > decoder.max_batch()) throw Error("decoding group size out of range");
  initial_ = initial_tokens(model, options, &sot_index_);
  const int sample_begin = static_cast<int>(initial_.size());
  if (sample_begin >= n_ctx_) throw Error("the prompt and prefix leave no room in the text context");

  if (options.suppress_blank) {
    filters_.push_back(std::make_unique<SuppressBlank>(std::vector<int>{tokenizer.encode(" ").front(), special.eot},
                                                       sample_begin));
  }
  if (!options.suppress_tokens.empty()) filters_.push_back(std::make_unique<SuppressTokens>(options.suppress_tokens));
  if (!options.without_timestamps) {
    std::optional<int> max_initial;
    if (options.max_initial_timestamp && *options.max_initial_timestamp != 0.0) {
      max_initial = static_cast<int>(std::nearbyint(*options.max_initial_timestamp / kTimePrecision));
    }
    filters_.push_back(std::make_unique<ApplyTimestampRules>(special.timestamp_begin, special.eot,
                                                             special.no_timestamps, sample_begin, max_initial));
  }

  // A sequence stops growing once it exceeds the context: n_ctx + 1 tokens at most.
  const int max_length = n_ctx_ + 1;
  if (beam_search_) {
    token_decoder_ = std::make_unique<BeamSearchDecoder>(*options.beam_size, eot_, options.patience.value_or(1.0),
                                                         max_length);
  } else {
    token_decoder_ = std::make_unique<GreedyDecoder>(options.temperature, eot_, rng, n_group_);
  }

  sequences_.resize(n_group_);
  for (Sequence& sequence : sequences_) {
    sequence.reserve(max_length);
    sequence.assign(initial_.begin(), initial_.end());
  }
  sum_logprobs_.assign(n_group_, 0.0);
  logits_.resize(static_cast<size_t>(n_group_) * n_vocab_);
  last_tokens_.resize(n_group_);
  copy_first_.assign(n_group_, 0);
}

bool DecodeLoop::step() {
  const int sample_begin = static_cast<int>(initial_.size());
  if (steps_ == 0) {
    // The candidates share their initial tokens: run them once and copy the cache.
    const float* out = decoder_.forward(initial_.data(), 1, sample_begin, 0);
    for (int k = 0; k < n_group_; ++k) std::copy(out, out + n_vocab_, logits_.begin() + static_cast<long>(k) * n_vocab_);
    if (no_speech_ >= 0) {
      // Read off the <|startoftranscript|> position, before any filter.
      const float* sot_logits = decoder_.position_logits(0, sot_index_);
      no_speech_prob_ = std::exp(log_softmax_at(sot_logits, n_vocab_, no_speech_));
    }
    if (n_group_ > 1) decoder_.reorder_cache(copy_first_, sample_begin);
  } else {
    const int n_group_now = static_cast<int>(sequences_.size());
    for (int k = 0; k < n_group_now; ++k) last_tokens_[k] = sequences_[k].back();
    const int offset = static_cast<int>(sequences_[0].size()) - 1;
    const float* out = decoder_.forward(last_tokens_.data(), n_group_now, 1, offset);
    std::copy(out, out + static_cast<size_t>(n_group_now) * n_vocab_, logits_.begin());
  }
  ++steps_;
  for (size_t k = 0; k < sequences_.size(); ++k) {
    for (const auto& filter : filters_) filter->apply(logits_.data() + k * n_vocab_, n_vocab_, sequences_[k]);
  }
  const bool completed = token_decoder_->update(sequences_, logits_.data(), n_vocab_, sum_logprobs_);
  if (beam_search_) decoder_.reorder_cache(token_decoder_->source(), static_cast<int>(sequences_[0].size()) - 1);
  return completed || static_cast<int>(sequences_[0].size()) > n_ctx_;
}

}  // namespace wisp
