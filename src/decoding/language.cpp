#include "decoding/language.h"

#include <algorithm>
#include <cmath>

namespace wisp {

std::vector<std::pair<std::string, double>> detect_language(Decoder& decoder, const Tokenizer& tokenizer) {
  const SpecialTokens& special = tokenizer.special();
  const int sot = special.sot;
  const float* logits = decoder.forward(&sot, 1, 1, 0);
  const int first = special.first_language;
  const int n = special.n_languages;
  const float max_logit = *std::max_element(logits + first, logits + first + n);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[first + i] - max_logit));
  std::vector<std::pair<std::string, double>> probs;
  probs.reserve(n);
  for (int i = 0; i < n; ++i) {
    probs.emplace_back(tokenizer.language_code(first + i),
                       std::exp(static_cast<double>(logits[first + i] - max_logit)) / sum);
  }
  // Stable: ties keep token order, as argmax picks the first maximum.
  std::stable_sort(probs.begin(), probs.end(), [](auto& a, auto& b) { return a.second > b.second; });
  return probs;
}

}  // namespace wisp
