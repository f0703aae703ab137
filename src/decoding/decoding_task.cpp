#include "decoding/decoding_task.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "common/text.h"
#include "decoding/logit_filters.h"
#include "decoding/token_decoders.h"
#include "transcribe/compression.h"
#include "wisp/error.h"

namespace wisp {

namespace {

constexpr double kTimePrecision = 0.02;  // seconds per timestamp token

}  // namespace

std::vector<int> python_tail(const std::vector<int>& tokens, long n) {
  const long size = static_cast<long>(tokens.size());
  const long begin = n > 0 ? std::max(0L, size - n) : std::min(size, -n);
  return {tokens.begin() + begin, tokens.end()};
}

int group_size(const DecodingOptions& options) {
  if (options.temperature == 0.0) return options.beam_size.value_or(1);
  return options.best_of.value_or(1);
}

std::vector<int> sot_sequence(const Model& model, const std::string& language, const std::string& task) {
  const Tokenizer& tokenizer = model.tokenizer();
  const SpecialTokens& special = tokenizer.special();
  std::vector<int> sequence = {special.sot};
  if (model.info().multilingual()) {
    const auto language_token = tokenizer.language_token(language);
    if (!language_token) throw Error("language '" + language + "' is not in this model's vocabulary");
    sequence.push_back(*language_token);
    sequence.push_back(task == "translate" ? special.translate : special.transcribe);
  }
  return sequence;
}

std::vector<int> initial_tokens(const Model& model, const DecodingOptions& options, int* sot_index) {
  const SpecialTokens& special = model.tokenizer().special();
  const int n_ctx = model.dims().n_text_ctx;
  const int sample_len = options.sample_len > 0 ? options.sample_len : n_ctx / 2;
  std::vector<int> tokens;
  if (!options.prompt.empty()) {
    tokens.push_back(special.sot_prev);
    const std::vector<int> prompt = python_tail(options.prompt, n_ctx / 2 - 1);
    tokens.insert(tokens.end(), prompt.begin(), prompt.end());
  }
  if (sot_index) *sot_index = static_cast<int>(tokens.size());
  const std::vector<int> sot = sot_sequence(model, options.language, options.task);
  tokens.insert(tokens.end(), sot.begin(), sot.end());
  if (options.without_timestamps) tokens.push_back(special.no_timestamps);
  if (!options.prefix.empty()) {
    const std::vector<int> prefix = python_tail(options.prefix, n_ctx / 2 - sample_len);
    tokens.insert(tokens.end(), prefix.begin(), prefix.end());
  }
  return tokens;
}

DecodingResult decode_window(Decoder& decoder, const Model& model, const DecodingOptions& options, SamplingRng& rng) {
  const Tokenizer& tokenizer = model.tokenizer();
  const SpecialTokens& special = tokenizer.special();
  const int n_vocab = decoder.n_vocab();
  const int n_ctx = decoder.n_ctx();
  const int sample_len = options.sample_len > 0 ? options.sample_len : n_ctx / 2;
  const int n_group = group_size(options);
  if (n_group < 1 || n_group > decoder.max_batch()) throw Error("decoding group size out of range");

  int sot_index = 0;
  const std::vector<int> initial = initial_tokens(model, options, &sot_index);
  const int sample_begin = static_cast<int>(initial.size());
  if (sample_begin >= n_ctx) throw Error("the prompt and prefix leave no room in the text context");

  // openai-whisper's filter order.
  std::vector<std::unique_ptr<LogitFilter>> filters;
  if (options.suppress_blank) {
    filters.push_back(std::make_unique<SuppressBlank>(std::vector<int>{tokenizer.encode(" ").front(), special.eot},
                                                      sample_begin));
  }
  if (!options.suppress_tokens.empty()) filters.push_back(std::make_unique<SuppressTokens>(options.suppress_tokens));
  if (!options.without_timestamps) {
    std::optional<int> max_initial;
    if (options.max_initial_timestamp && *options.max_initial_timestamp != 0.0) {
      max_initial = static_cast<int>(std::nearbyint(*options.max_initial_timestamp / kTimePrecision));
    }
    filters.push_back(std::make_unique<ApplyTimestampRules>(special.timestamp_begin, special.eot,
                                                            special.no_timestamps, sample_begin, max_initial));
  }

  std::unique_ptr<TokenDecoder> token_decoder;
  if (options.temperature == 0.0 && options.beam_size) {
    token_decoder = std::make_unique<BeamSearchDecoder>(*options.beam_size, special.eot, options.patience.value_or(1.0));
  } else {
    token_decoder = std::make_unique<GreedyDecoder>(options.temperature, special.eot, rng, n_group);
  }

  DecodingResult result;
  result.temperature = options.temperature;
  std::vector<Sequence> sequences(n_group, initial);
  std::vector<double> sum_logprobs(n_group, 0.0);
  std::vector<float> logits(static_cast<size_t>(n_group) * n_vocab);
  std::vector<int> last_tokens(n_group);
  for (int step = 0; step < sample_len; ++step) {
    if (step == 0) {
      // The candidates share their initial tokens: run them once and copy the cache.
      const float* out = decoder.forward(initial.data(), 1, sample_begin, 0);
      for (int k = 0; k < n_group; ++k) std::copy(out, out + n_vocab, logits.begin() + static_cast<long>(k) * n_vocab);
      if (special.no_speech >= 0) {
        // Read off the <|startoftranscript|> position, before any filter.
        const float* sot_logits = decoder.position_logits(0, sot_index);
        result.no_speech_prob = std::exp(log_softmax_at(sot_logits, n_vocab, special.no_speech));
      }
      if (n_group > 1) decoder.reorder_cache(std::vector<int>(n_group, 0), sample_begin);
    } else {
      const int n_group_now = static_cast<int>(sequences.size());
      for (int k = 0; k < n_group_now; ++k) last_tokens[k] = sequences[k].back();
      const int offset = static_cast<int>(sequences[0].size()) - 1;
      const float* out = decoder.forward(last_tokens.data(), n_group_now, 1, offset);
      std::copy(out, out + static_cast<size_t>(n_group_now) * n_vocab, logits.begin());
    }
    ++result.steps;
    for (size_t k = 0; k < sequences.size(); ++k) {
      for (const auto& filter : filters) filter->apply(logits.data() + k * n_vocab, n_vocab, sequences[k]);
    }
    const bool completed = token_decoder->update(sequences, logits.data(), n_vocab, sum_logprobs);
    if (options.temperature == 0.0 && options.beam_size) {
      decoder.reorder_cache(token_decoder->source(), static_cast<int>(sequences[0].size()) - 1);
    }
    if (completed || static_cast<int>(sequences[0].size()) > n_ctx) break;
  }

  const Candidates candidates = token_decoder->finalize(sequences, sum_logprobs);
  std::vector<std::vector<int>> sampled;
  std::vector<int> lengths;
  for (const Sequence& s : candidates.sequences) {
    const auto begin = s.begin() + sample_begin;
    sampled.emplace_back(begin, std::find(begin, s.end(), special.eot));
    lengths.push_back(static_cast<int>(sampled.back().size()));
  }
  const int best = rank_candidates(lengths, candidates.sum_logprobs, options.length_penalty);
  result.tokens = std::move(sampled[best]);
  result.sum_logprob = candidates.sum_logprobs[best];
  result.avg_logprob = result.sum_logprob / static_cast<double>(result.tokens.size() + 1);
  result.text = strip(tokenizer.decode(result.tokens));
  result.compression_ratio = compression_ratio(result.text);
  return result;
}

}  // namespace wisp
