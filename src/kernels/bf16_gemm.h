// bfloat16 matrix products for the compute-bound parts (encoder, cross-attention K/V): oneDNN's
// brgemm kernels, which on AVX512_BF16 CPUs multiply bf16 pairs at twice the f32 FMA rate.
// Weights are packed once into oneDNN's blocked layout; activations are rounded to bf16 per
// call; accumulation and outputs stay f32. Work is split over wisp's thread pool (oneDNN runs
// single-threaded inside each task), so there is one pool, sized by --threads.
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/ops.h"
#include "kernels/weight_matrix.h"

namespace wisp {

// Whether this CPU multiplies bf16 natively (AVX512_BF16). Elsewhere oneDNN would emulate it,
// slower than f32, so callers pick f32 there.
bool cpu_has_bf16();

// Round to nearest even, as the hardware conversion does.
void f32_to_bf16(const float* src, uint16_t* dst, size_t n);

// A weight matrix [out][in] packed for y = x W^T in bf16.
class Bf16Matrix {
 public:
  explicit Bf16Matrix(const WeightMatrix& w);
  ~Bf16Matrix();
  Bf16Matrix(Bf16Matrix&&) noexcept;
  Bf16Matrix& operator=(Bf16Matrix&&) noexcept;

  int out() const { return out_; }
  int in() const { return in_; }
  size_t bytes() const;

  struct Impl;  // oneDNN objects, kept out of this header
  const Impl& impl() const { return *impl_; }

 private:
  int out_ = 0, in_ = 0;
  std::unique_ptr<Impl> impl_;
};

// y[rows][out] = epilogue(x[rows][in] W^T + bias), like linear() but with bf16 products.
void linear_bf16(const float* x, int rows, const Bf16Matrix& w, const float* bias, float* y,
                 Epilogue epilogue = Epilogue::Store);

// Non-causal multi-head attention (the encoder's) with bf16 products: the same contract as
// attention() in attention.h. Scores never leave a [64][n_kv] tile.
void attention_bf16(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out, int ldo,
                    int n_q, int n_kv, int n_head, int d_head);

}  // namespace wisp
