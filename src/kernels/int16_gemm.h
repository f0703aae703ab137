// Integer products for the compute-bound matrices on CPUs without bf16 arithmetic (AVX2): both
// operands are rounded to 12-bit integers, activations with one scale per row (per call),
// weights with one scale per output column (once, at load), and multiplied in pairs with
// vpmaddwd into exact 32-bit sums. AVX2 issues those at ~1.6x the rate of f32 FMAs
// (bench/README.md), which the f32 product cannot pass: it already runs at the FMA peak.
// The rounding costs ~7e-4 relative error per product on Gaussian operands (int16_gemm_test), less
// than bf16 inputs cost; outlier values in a row coarsen the whole row.
//
// q8_0, q5_0 and q4_0 weights need no packed copy: their products unpack and round the stored
// blocks slice by slice (int16_gemm_blocks).
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

// Words of `rows` x depth `k` stored in groups of `group` rows.
size_t int16_group_words(int rows, int k, int group);

// Rounds rows a[m][k] (row stride lda), each with its own scale (m floats): a[i][j] ~=
// scales[i] * q, |q| <= kInt16Levels, round to nearest even. Stored in groups of `group` rows
// (kInt16TileRows: activation tiles; kPanelWidth: panels of B = a^T, as weights [out][in]
// become B), each group [ceil(k/2)][group] words, missing rows zero: int16_group_words(m, k,
// group) words. Identical results from both kernels.
void int16_quantize_rows(PanelKernel kernel, int m, int k, const float* a, size_t lda, int group, int32_t* words,
                         float* scales);

// Rounds src [k][n] (row stride ld) per column into panels of B = src, depth k: how attention
// values become B. scales: n rounded up to whole panels (padding columns 0).
void int16_quantize_columns(PanelKernel kernel, int k, int n, const float* src, size_t ld, int32_t* panels,
                            float* scales);

// Whether int16_gemm_blocks reads weights of this type in place: the block types without a
// minimum (q8_0, q5_0, q4_0), whose values are d * q with small integers q.
bool int16_block_readable(MatrixType type);
// Whether reduced-precision products of such weights run as integer products on the stored
// blocks: wherever the AVX2 integer tile runs (AVX-512 CPUs too), unless WISP_NO_PANELS (as for
// panel_gemm_preferred) switches them off.
bool int16_blocks_preferred();

// A weight matrix W [out][in] for the integer product. Block types int16_gemm_blocks reads are
// kept as stored (read in place on every call: no copy, and no rounding beyond the file's);
// any other type is rounded per output column and packed as panels of B = W^T, with the column
// scales (zero for padding columns).
class Int16Matrix {
 public:
  explicit Int16Matrix(const WeightMatrix& w);
  int out() const { return out_; }
  int in() const { return in_; }
  // The stored matrix when it is read in place, else empty.
  const WeightMatrix& stored() const { return stored_; }
  bool reads_stored() const { return !stored_.empty(); }
  const int32_t* panels() const { return panels_.get(); }
  const float* scales() const { return scales_.get(); }
  size_t bytes() const;  // of the packed copy (0 when read in place)

 private:
  struct Free {
    void operator()(void* p) const;
  };
  int out_, in_;
  WeightMatrix stored_;
  std::unique_ptr<int32_t, Free> panels_;
  std::unique_ptr<float, Free> scales_;
};

// One thread: c[m][n] = (a B) * a_scale[i] * b_scale[j] (+ the old c, added after the sum, with
// `accumulate`), a the tiles of int16_quantize_tiles (m rows of depth k), B panels of depth k
// with their column scales. Bit-identical between kernels: each depth pass's exact integer sum
// is scaled and added to c with a fused multiply-add.
void int16_gemm(PanelKernel kernel, int m, int n, int k, const int32_t* a_tiles, const float* a_scales,
                const int32_t* panels, const float* b_scales, float* c, size_t ldc, bool accumulate);

// One thread: c[m][n] = a W^T (+ the old c with `accumulate`), a as for int16_gemm (depth
// w.cols), W the first n rows of block-quantized w (int16_block_readable) read in place: each
// 16-row slice of each depth pass is unpacked when its turn comes, every row rounded to 12 bits
// against one scale (the pass's largest block scale times the type's largest integer), and
// multiplied as packed panels are. Bit-identical between kernels.
void int16_gemm_blocks(PanelKernel kernel, int m, int n, const int32_t* a_tiles, const float* a_scales,
                       const WeightMatrix& w, float* c, size_t ldc, bool accumulate);

// y[rows][out] = epilogue(x[rows][in] W^T + bias) with 12-bit products, on the pool.
void linear_int16(const float* x, int rows, const Int16Matrix& w, const float* bias, float* y,
                  Epilogue epilogue = Epilogue::Store);

// The same on block-quantized weights as stored (int16_block_readable; in = w.cols): the
// reduced-precision many-row products of quantized matrices that are not packed, such as the
// decoder's during a prompt (small q8_0: 256-token prompt 0.7x the time of the f32 panel product
// on dequantized slices, bench/README.md).
void linear_int16_blocks(const float* x, int rows, const WeightMatrix& w, const float* bias, float* y,
                         Epilogue epilogue = Epilogue::Store);

// Non-causal multi-head attention (the encoder's) with 12-bit products: the same contract as
// attention() in attention.h. Per head, keys are rounded per key and values per column once per
// call; queries and each query's probabilities (after the softmax) per query.
void attention_int16(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out, int ldo,
                     int n_q, int n_kv, int n_head, int d_head);

}  // namespace wisp
