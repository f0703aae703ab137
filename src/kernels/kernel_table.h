// The per-instruction-set kernels behind the public ops: one table each for scalar (the
// reference and fallback), AVX2+FMA+F16C and AVX-512. ops.cpp and attention.cpp pick the
// active table at run time (see cpu_features.h) and split work across the thread pool.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu_features.h"
#include "kernels/panel_gemm.h"
#include "kernels/weight_matrix.h"

namespace wisp {

struct KernelTable {
  // y[r*ldy + j] = dot(x[r*ldx ...], w row j) (+ bias[j] when bias is non-null), added to the
  // old y with `accumulate`, for r < n_rows and j in [col_begin, col_end): the matrix-vector
  // product of decode steps.
  void (*gemv)(const float* x, int n_rows, int ldx, const WeightMatrix& w, int col_begin, int col_end,
               const float* bias, bool accumulate, float* y, int ldy);
  // Weight rows [row_begin, row_end) widened to f32 into dst.
  void (*rows_to_f32)(const WeightMatrix& w, int row_begin, int row_end, float* dst);
  // x[i] = gelu(x[i] + bias[i]) (exact erf GELU; bias may be null), one row of n values.
  void (*bias_gelu)(float* x, int n, const float* bias);
  // x[i] += bias[i]
  void (*add_bias)(float* x, int n, const float* bias);
  // One row: y = (x - mean) / sqrt(var + eps) * gamma + beta.
  void (*layer_norm)(const float* x, int dim, const float* gamma, const float* beta, float eps, float* y);
  // row[0, n_visible) = softmax(row[0, n_visible)); row[n_visible, n_total) = 0.
  void (*softmax)(float* row, int n_visible, int n_total);
  // One query of attention over keys/values [n_visible][d_head] (row strides ldk/ldv), stored
  // as `type` (F32, or F16 for the decoder's reduced-precision self-attention cache):
  // out = softmax(scale * K q) V. `scores` is scratch of n_visible floats.
  void (*attend_query)(MatrixType type, const float* q, const void* k, int ldk, const void* v, int ldv, int n_visible,
                       int d_head, float scale, float* scores, float* out);
  // n_q queries of one head (rows of q, stride ldq) over a cache that stores the head's keys as
  // panels of 16 keys ([ceil(n_kv/16)][d_head][16], zero-padded; kernels/panel_gemm.h) and the
  // values [n_kv][d_head] with row stride ldv, both as `type` (F32, or F16 for the
  // reduced-precision cache): out row i (stride ldo) = softmax(scale * K q_i) V. Panels stream
  // contiguously, each loaded once for a group of queries. `scores`: n_q*n_kv floats.
  void (*attend_queries_panels)(MatrixType type, const float* q, int ldq, int n_q, const void* key_panels,
                                const void* v, int ldv, int n_kv, int d_head, float scale, float* scores, float* out,
                                int ldo);
  // The largest of x[0, n), n >= 1 (the decoding filters' scans over the vocabulary).
  float (*max_value)(const float* x, int n);
  // Sum of exp(x[i] - shift) over x[0, n), for x[i] <= shift; terms under e^-87 count as 0
  // (-inf logits contribute nothing). Partial sums in f32 blocks, the total in double.
  double (*sum_exp)(const float* x, int n, float shift);
};

extern const KernelTable kScalarKernels;
extern const KernelTable kAvx2Kernels;    // scalar table on builds for other architectures
extern const KernelTable kAvx512Kernels;  // likewise

inline const KernelTable& kernel_table(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return kAvx512Kernels;
    case Isa::Avx2: return kAvx2Kernels;
    case Isa::Scalar: break;
  }
  return kScalarKernels;
}

// The active instruction set's kernels.
inline const KernelTable& kernels() { return kernel_table(active_isa()); }

}  // namespace wisp
