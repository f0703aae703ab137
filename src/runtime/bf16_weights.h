// The compute-bound matrices of a model packed for bf16 products (ComputeType::BFloat16): every
// encoder projection and convolution, and the decoder's cross-attention key/value projections,
// which run over all 1500 audio positions once per window. Built once at model load.
#pragma once

#include <vector>

#include "kernels/bf16_gemm.h"

namespace wisp {

class ModelWeights;

struct Bf16Linear {
  Bf16Matrix weight;
  const float* bias = nullptr;  // f32, shared with ModelWeights
};

struct Bf16EncoderBlock {
  Bf16Linear query, key, value, out, fc1, fc2;
};

class Bf16Weights {
 public:
  explicit Bf16Weights(const ModelWeights& weights);

  std::vector<Bf16Linear> conv;  // conv1, conv2 as [out][in * 3] matrices over im2col rows
  std::vector<Bf16EncoderBlock> encoder_blocks;
  std::vector<Bf16Linear> cross_key, cross_value;  // per decoder layer
  size_t bytes() const;
};

}  // namespace wisp
