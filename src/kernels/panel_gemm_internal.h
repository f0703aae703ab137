// The per-instruction-set block routines behind panel_gemm (see panel_gemm.h).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/panel_gemm.h"
#include "kernels/thread_pool.h"

namespace wisp {

using PanelBlockFn = void (*)(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* panels,
                              float* c, size_t ldc);

// Rows of a (and c) per block: a [96][256] slice of the activations (96 KB) stays in L2 while
// every panel of the block passes through L1.
inline constexpr int kPanelRowBlock = 96;
// Depth per pass: a panel slice of 256 x 16 (16 KB f32, 8 KB f16) stays in L1 across the
// row block's tiles.
inline constexpr int kPanelDepthBlock = 256;
// Rows per register tile: 6 rows x 16 columns = 12 accumulators of the 16 AVX2 registers.
inline constexpr int kPanelTileRows = 6;

void panel_block_scalar(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* panels, float* c,
                        size_t ldc);
// The same product with B = W^T read from weight rows W[n][k] (row stride ldw, f32 or f16) as a
// model file stores them: each panel slice is widened and transposed when its turn comes.
using RowsBlockFn = void (*)(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* w,
                             size_t ldw, float* c, size_t ldc);
void panel_block_rows_scalar(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* w, size_t ldw,
                             float* c, size_t ldc);
void panel_block_rows_avx2(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* w, size_t ldw,
                           float* c, size_t ldc);  // scalar on non-x86 builds
void panel_block_avx2(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* panels, float* c,
                      size_t ldc);  // scalar on non-x86 builds
// The rows product on block-quantized weights w [n][k] (k a multiple of 32): each slice is
// dequantized (bit-equal to the reference dequantizer) and then gathered as f32 rows.
void panel_block_quant_rows_scalar(int m, int n, int k, const float* a, size_t lda, const WeightMatrix& w, float* c,
                                   size_t ldc);
void panel_block_quant_rows_avx2(int m, int n, int k, const float* a, size_t lda, const WeightMatrix& w, float* c,
                                 size_t ldc);  // scalar on non-x86 builds

// Columns per task of the pool-parallel products when rows alone give too few tasks.
inline constexpr int kMinColumnBlock = 64;

// c = a B (+ the old c with `accumulate`) by `product` (c = a B alone).
template <class Product>
inline void accumulate_or_store(int m, int n, float* c, size_t ldc, bool accumulate, Product&& product) {
  if (!accumulate) {
    product();
    return;
  }
  // The product is summed from zero and the old c added last, as sgemm's beta = 1 does: summing
  // k small products onto a large residual would round each of them against its magnitude
  // (measured: 1.5x the encoder's error against the float64 reference).
  thread_local std::vector<float> saved;
  const size_t width = static_cast<size_t>(n);
  if (saved.size() < static_cast<size_t>(m) * width) saved.resize(static_cast<size_t>(m) * width);
  for (int i = 0; i < m; ++i) std::copy_n(c + i * ldc, width, saved.data() + i * width);
  product();
  for (int i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    const float* old = saved.data() + i * width;
    for (size_t j = 0; j < width; ++j) row[j] += old[j];
  }
}

// y[rows][out] = epilogue(x W^T + bias) in 2-D tasks: block(m0, m1, j0, j1, y_block, accumulate)
// computes rows [m0, m1) x columns [j0, j1) into y_block (stride out). Row blocks are whole
// tiles, at least min_row_block rows where there are that many, at most max_row_block.
template <class Block>
inline void linear_tasks(int rows, int out, const float* bias, float* y, Epilogue epilogue, Block&& block,
                         int min_row_block = 0, int max_row_block = kPanelRowBlock) {
  const KernelTable& kt = kernels();
  // Row blocks of whole register tiles; then columns split until every thread has ~4 tasks.
  const int row_block = std::min(max_row_block, std::max(min_row_block, split_size(rows, kPanelTileRows, 4)));
  const int n_row_tasks = (rows + row_block - 1) / row_block;
  const int wanted_column_tasks = std::max(1, (4 * compute_threads() + n_row_tasks - 1) / n_row_tasks);
  const int col_block =
      std::max(kMinColumnBlock, (out / wanted_column_tasks + kPanelWidth - 1) / kPanelWidth * kPanelWidth);
  const int n_col_tasks = (out + col_block - 1) / col_block;
  parallel_for(n_row_tasks * n_col_tasks, [&](int task) {
    const int m0 = (task / n_col_tasks) * row_block, m1 = std::min(rows, m0 + row_block);
    const int j0 = (task % n_col_tasks) * col_block, j1 = std::min(out, j0 + col_block);
    float* y_block = y + static_cast<size_t>(m0) * out + j0;
    block(m0, m1, j0, j1, y_block, epilogue == Epilogue::Accumulate);
    const float* b = bias ? bias + j0 : nullptr;
    for (int r = 0; r < m1 - m0; ++r) {
      float* row = y_block + static_cast<size_t>(r) * out;
      if (epilogue == Epilogue::Gelu) {
        kt.bias_gelu(row, j1 - j0, b);
      } else if (b) {
        kt.add_bias(row, j1 - j0, b);
      }
    }
  });
}

}  // namespace wisp
