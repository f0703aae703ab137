// Random draws for sampling at temperature > 0. The generator and the way a token is drawn are
// fixed (and mirrored by tests/reference/decoding_ref.py) so that sampled transcripts are
// reproducible from a seed and comparable with the reference.
#pragma once

#include <cstdint>
#include <random>

namespace wisp {

class SamplingRng {
 public:
  // Seeded as MT19937 with the low 32 bits of `seed` (numpy's RandomState(seed) state).
  explicit SamplingRng(uint64_t seed = 0) : generator_(static_cast<uint32_t>(seed)) {}
  // A double in [0, 1) from 53 random bits, as numpy's RandomState.random_sample().
  double uniform();

 private:
  std::mt19937 generator_;
};

// Draws from softmax(logits / temperature): the first token whose cumulative probability exceeds
// one uniform draw. -inf logits are never drawn.
int sample_token(const float* logits, int n, double temperature, SamplingRng& rng);

// log(sum(exp(logits))), computed stably: the log-softmax normaliser. Vectorised (a polynomial
// exp, relative error ~1e-7), as it runs over the whole vocabulary for every sequence and step.
double log_sum_exp(const float* logits, int n);

// log(softmax(logits))[index].
double log_softmax_at(const float* logits, int n, int index);

// Index of the largest logit (the first on ties, as torch.argmax).
int argmax(const float* logits, int n);

}  // namespace wisp
