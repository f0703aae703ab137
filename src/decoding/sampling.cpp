#include "decoding/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/kernel_table.h"

namespace wisp {

double SamplingRng::uniform() {
  const uint32_t a = generator_() >> 5;
  const uint32_t b = generator_() >> 6;
  return (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) / 9007199254740992.0;
}

int sample_token(const float* logits, int n, double temperature, SamplingRng& rng) {
  const float max_logit = *std::max_element(logits, logits + n);
  double total = 0.0;
  for (int i = 0; i < n; ++i) total += std::exp((static_cast<double>(logits[i]) - max_logit) / temperature);
  const double target = rng.uniform() * total;
  double cumulative = 0.0;
  int last_possible = 0;
  for (int i = 0; i < n; ++i) {
    const double p = std::exp((static_cast<double>(logits[i]) - max_logit) / temperature);
    if (p <= 0.0) continue;
    cumulative += p;
    last_possible = i;
    if (cumulative > target) return i;
  }
  return last_possible;  // rounding left the draw just past the end
}

double log_sum_exp(const float* logits, int n) {
  // Vectorised scans of the vocabulary (a beam step runs one per beam).
  const KernelTable& kt = kernels();
  const float max_logit = kt.max_value(logits, n);
  if (max_logit == -std::numeric_limits<float>::infinity()) return max_logit;
  return static_cast<double>(max_logit) + std::log(kt.sum_exp(logits, n, max_logit));
}

double log_softmax_at(const float* logits, int n, int index) {
  return static_cast<double>(logits[index]) - log_sum_exp(logits, n);
}

int argmax(const float* logits, int n) {
  return static_cast<int>(std::max_element(logits, logits + n) - logits);
}

}  // namespace wisp
