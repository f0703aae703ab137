#include "decoding/decoding_task.h"

#include <algorithm>

#include "common/text.h"
#include "decoding/decode_loop.h"
#include "decoding/token_decoders.h"
#include "transcribe/compression.h"
#include "wisp/error.h"

namespace wisp {

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
  const int sample_len = options.sample_len > 0 ? options.sample_len : decoder.n_ctx() / 2;
  DecodeLoop loop(decoder, model, options, rng);
  for (int step = 0; step < sample_len; ++step) {
    if (loop.step()) break;
  }

  const Tokenizer& tokenizer = model.tokenizer();
  const int eot = tokenizer.special().eot;
  const int sample_begin = loop.sample_begin();
  DecodingResult result;
  result.temperature = options.temperature;
  result.steps = loop.steps();
  result.no_speech_prob = loop.no_speech_prob();
  const Candidates candidates = loop.finalize();
  std::vector<std::vector<int>> sampled;
  std::vector<int> lengths;
  for (const Sequence& s : candidates.sequences) {
    const auto begin = s.begin() + sample_begin;
    sampled.emplace_back(begin, std::find(begin, s.end(), eot));
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
