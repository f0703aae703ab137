#include "decoding/greedy.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace wisp {

double log_softmax_at(const float* logits, int n, int index) {
  const float max_logit = *std::max_element(logits, logits + n);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i] - max_logit));
  return static_cast<double>(logits[index] - max_logit) - std::log(sum);
}

WindowDecodeResult decode_greedy(Decoder& decoder, const WindowDecodeRequest& request) {
  const int n_vocab = decoder.n_vocab();
  std::vector<int> tokens = request.initial_tokens;
  tokens.reserve(tokens.size() + request.sample_len + 1);
  std::vector<float> logits(n_vocab);
  WindowDecodeResult result;

  for (int i = 0; i < request.sample_len; ++i) {
    const float* out;
    if (i == 0) {
      out = decoder.forward(tokens.data(), 1, static_cast<int>(tokens.size()), 0);
      if (request.no_speech >= 0) {
        // The no-speech probability is read off the <|startoftranscript|> position, unfiltered.
        const float* sot_logits = decoder.position_logits(0, request.sot_index);
        result.no_speech_prob = std::exp(log_softmax_at(sot_logits, n_vocab, request.no_speech));
      }
    } else {
      out = decoder.forward(&tokens.back(), 1, 1, static_cast<int>(tokens.size()) - 1);
    }
    ++result.steps;
    std::copy(out, out + n_vocab, logits.begin());
    for (const auto& filter : request.filters) filter->apply(logits.data(), n_vocab, tokens);

    const int next = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    result.sum_logprob += log_softmax_at(logits.data(), n_vocab, next);
    tokens.push_back(next);
    if (next == request.eot || static_cast<int>(tokens.size()) > decoder.n_ctx()) break;
  }

  const auto sampled_begin = tokens.begin() + static_cast<long>(request.initial_tokens.size());
  result.tokens.assign(sampled_begin, std::find(sampled_begin, tokens.end(), request.eot));
  result.avg_logprob = result.sum_logprob / static_cast<double>(result.tokens.size() + 1);
  return result;
}

}  // namespace wisp
