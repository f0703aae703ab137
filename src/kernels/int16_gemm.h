// Integer products for the compute-bound matrices on CPUs without bf16 arithmetic (AVX2): both
// operands are rounded to 12-bit integers, activations with one scale per row (per call),
// weights with one scale per output column (once, at load), and multiplied in pairs with
// vpmaddwd into exact 32-bit sums. AVX2 issues those at ~1.6x the rate of f32 FMAs
// (bench/README.md), which the f32 product cannot pass: it already runs at the FMA peak.
// The rounding is what bf16 compute costs: ~3e-3 relative error per product.
//
// Layouts (int32 words each holding a pair of int16 values, depth 2p in the low half):
//   weights: panels of 16 columns, [ceil(n/16)][ceil(k/2)][16] words, zero padded;
//   activations: tiles of 6 rows, [ceil(m/6)][ceil(k/2)][6] words, zero padded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/ops.h"
#include "kernels/panel_gemm.h"
#include "kernels/weight_matrix.h"

namespace wisp {

// Largest integer magnitude of either operand. Sums of 512 products stay below 2^31
// (512 * 2047^2 < 2^31 - 1), so each depth pass of kInt16DepthBlock accumulates exactly.
inline constexpr int kInt16Levels = 2047;
inline constexpr int kInt16DepthBlock = 512;
inline constexpr int kInt16TileRows = 6;

// Words of `rows` x depth `k` activations as tiles.
size_t int16_tile_words(int rows, int k);

// Rounds rows a[m][k] (row stride lda) to tiles (int16_tile_words(m, k) words) and their
// scales (m floats): a[i][j] ~= scale[i] * q, |q| <= kInt16Levels, round to nearest even.
// Identical results from both kernels.
void int16_quantize_tiles(PanelKernel kernel, int m, int k, const float* a, size_t lda, int32_t* tiles,
                          float* scales);

// A weight matrix W [out][in] (any stored type) rounded per output column and packed as
// panels of B = W^T, with the column scales (zero for padding columns).
class Int16Matrix {
 public:
  explicit Int16Matrix(const WeightMatrix& w);
  int out() const { return out_; }
  int in() const { return in_; }
  const int32_t* panels() const { return panels_.get(); }
  const float* scales() const { return scales_.get(); }
  size_t bytes() const;

 private:
  struct Free {
    void operator()(void* p) const;
  };
  int out_, in_;
  std::unique_ptr<int32_t, Free> panels_;
  std::unique_ptr<float, Free> scales_;
};

// One thread: c[m][n] = (a B) * a_scale[i] * b_scale[j] (+ the old c, added after the sum, with
// `accumulate`), a the tiles of int16_quantize_tiles (m rows of depth k), B panels of depth k
// with their column scales. Bit-identical between kernels: each depth pass's exact integer sum
// is scaled and added to c with a fused multiply-add.
void int16_gemm(PanelKernel kernel, int m, int n, int k, const int32_t* a_tiles, const float* a_scales,
                const int32_t* panels, const float* b_scales, float* c, size_t ldc, bool accumulate);

// y[rows][out] = epilogue(x[rows][in] W^T + bias) with 12-bit products, on the pool.
void linear_int16(const float* x, int rows, const Int16Matrix& w, const float* bias, float* y,
                  Epilogue epilogue = Epilogue::Store);

}  // namespace wisp
