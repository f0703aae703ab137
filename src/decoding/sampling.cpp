#include "decoding/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

namespace {

// e^x for x <= 0 (-inf and underflow give 0): 2^n * p(r) with x = n ln2 + r, |r| <= ln2 / 2.
// Branch-free so the loops below vectorise.
inline float exp_nonpositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  const float n = __builtin_roundf(x * 1.44269504089f);
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int bits = (static_cast<int>(n) + 127) << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, sizeof scale);
  return x <= -87.0f ? 0.0f : p * scale;
}

}  // namespace

double log_sum_exp(const float* logits, int n) {
  float max_logit = logits[0];
  for (int i = 1; i < n; ++i) max_logit = logits[i] > max_logit ? logits[i] : max_logit;
  if (max_logit == -std::numeric_limits<float>::infinity()) return max_logit;
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int i = 0; i < n; ++i) sum += exp_nonpositive(logits[i] - max_logit);
  return static_cast<double>(max_logit) + std::log(sum);
}

double log_softmax_at(const float* logits, int n, int index) {
  return static_cast<double>(logits[index]) - log_sum_exp(logits, n);
}

int argmax(const float* logits, int n) {
  return static_cast<int>(std::max_element(logits, logits + n) - logits);
}

}  // namespace wisp
