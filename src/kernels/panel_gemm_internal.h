// The per-instruction-set block routines behind panel_gemm (see panel_gemm.h).
#pragma once

#include <cstddef>

#include "kernels/panel_gemm.h"

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

}  // namespace wisp
