// The compute-bound matrices of a model repacked once at load for the product that runs them:
// every encoder projection and convolution, and the decoder's cross-attention key/value
// projections, which run over all 1500 audio positions once per window. Three packings:
// Bf16Weights (oneDNN bf16 products, ComputeType::BFloat16), Int16Weights (12-bit integer
// panels, ComputeType::Int16, see kernels/int16_gemm.h) and PanelWeights (16-column f32/f16
// panels for the AVX2 product, see kernels/panel_gemm.h). The stored copies are handed back to
// the page cache after packing, so the resident size does not double; Int16Weights keeps q8_0,
// q5_0 and q4_0 matrices as stored instead (its product reads them in place).
#pragma once

#include <vector>

#include "kernels/bf16_gemm.h"
#include "kernels/int16_gemm.h"
#include "kernels/panel_gemm.h"

namespace wisp {

class ModelWeights;

template <class Matrix>
struct PackedLinear {
  Matrix weight;
  const float* bias = nullptr;  // f32, shared with ModelWeights
};

enum class EncoderLinear { Query, Key, Value, Out, Fc1, Fc2 };

template <class Matrix>
struct PackedEncoderBlock {
  PackedLinear<Matrix> query, key, value, out, fc1, fc2;

  const PackedLinear<Matrix>& operator[](EncoderLinear which) const {
    switch (which) {
      case EncoderLinear::Query: return query;
      case EncoderLinear::Key: return key;
      case EncoderLinear::Value: return value;
      case EncoderLinear::Out: return out;
      case EncoderLinear::Fc1: return fc1;
      case EncoderLinear::Fc2: break;
    }
    return fc2;
  }
};

template <class Matrix>
class PackedWeights {
 public:
  // Packs with Matrix(const WeightMatrix&), matrices in parallel on the pool.
  explicit PackedWeights(const ModelWeights& weights);

  std::vector<PackedLinear<Matrix>> conv;  // conv1, conv2 as [out][in * 3] matrices over im2col rows
  std::vector<PackedEncoderBlock<Matrix>> encoder_blocks;
  std::vector<PackedLinear<Matrix>> cross_key, cross_value;  // per decoder layer
  size_t bytes() const;
};

class Bf16Weights : public PackedWeights<Bf16Matrix> {
 public:
  using PackedWeights::PackedWeights;
};

class PanelWeights : public PackedWeights<PanelMatrix> {
 public:
  using PackedWeights::PackedWeights;
  // Whether the matrices of `weights` can be packed as panels (f32 or f16 ones).
  static bool supports(const ModelWeights& weights);
};

class Int16Weights : public PackedWeights<Int16Matrix> {
 public:
  using PackedWeights::PackedWeights;
  // Whether every matrix but the convolutions' is read in place (q8_0, q5_0 or q4_0): packing
  // then copies nothing but the two small f32 convolutions.
  static bool reads_in_place(const ModelWeights& weights);
};

using Bf16Linear = PackedLinear<Bf16Matrix>;
using PanelLinear = PackedLinear<PanelMatrix>;
using Int16Linear = PackedLinear<Int16Matrix>;
using Bf16EncoderBlock = PackedEncoderBlock<Bf16Matrix>;
using PanelEncoderBlock = PackedEncoderBlock<PanelMatrix>;
using Int16EncoderBlock = PackedEncoderBlock<Int16Matrix>;

}  // namespace wisp
