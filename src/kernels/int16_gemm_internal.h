// The per-instruction-set routines behind int16_gemm.h, and the rounding both share.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/int16_gemm.h"
#include "kernels/panel_gemm_internal.h"

namespace wisp {

struct Int16RowScale {
  float scale;    // value of one integer step
  float inverse;  // what values are multiplied by before rounding; 0 for rows of zeros or non-finite values
};

// A row whose largest magnitude is max_abs spans +-kInt16Levels. A row holding inf or NaN gets
// integers 0 and a non-finite scale, so the products carry the non-finite value on.
inline Int16RowScale int16_row_scale(float max_abs) {
  const float scale = max_abs / static_cast<float>(kInt16Levels);
  const bool usable = max_abs > 0.0f && std::isfinite(max_abs);
  return {scale, usable ? static_cast<float>(kInt16Levels) / max_abs : 0.0f};
}

// Largest magnitude of x[0, n), NaN if any value is not finite.
inline float int16_max_abs(const float* x, int n) {
  float max_abs = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return NAN;
    max_abs = std::max(max_abs, std::fabs(x[i]));
  }
  return max_abs;
}

// Rounds to nearest even, as the vector conversion does in the default rounding mode.
inline int32_t int16_round(float value, float inverse) { return static_cast<int32_t>(std::nearbyint(value * inverse)); }

// Depth steps j and j + 1 of row x (depth k; a missing j + 1 is zero) as one word.
inline int32_t int16_pair(const float* x, int k, int j, float inverse) {
  const uint32_t lo = static_cast<uint16_t>(int16_round(x[j], inverse));
  const uint32_t hi = j + 1 < k ? static_cast<uint16_t>(int16_round(x[j + 1], inverse)) : 0u;
  return static_cast<int32_t>(lo | (hi << 16));
}

// Column scales of src [k][n] (row stride ld): scales and inverse for n rounded up to whole
// panels (padding columns 0).
inline void int16_column_scales(int k, int n, const float* src, size_t ld, float* scales, float* inverse) {
  const int columns = (n + kPanelWidth - 1) / kPanelWidth * kPanelWidth;
  for (int j = 0; j < columns; ++j) scales[j] = 0.0f;
  for (int kk = 0; kk < k; ++kk) {
    const float* row = src + static_cast<size_t>(kk) * ld;
    for (int j = 0; j < n; ++j) {
      // NaN sticks: a comparison with it is false.
      scales[j] = std::isfinite(row[j]) && !std::isnan(scales[j]) ? std::max(scales[j], std::fabs(row[j])) : NAN;
    }
  }
  for (int j = 0; j < columns; ++j) {
    const Int16RowScale s = int16_row_scale(scales[j]);
    scales[j] = s.scale;
    inverse[j] = s.inverse;
  }
}

// Panel j0 / 16 of src's columns (see int16_quantize_columns) with their inverse scales.
inline void int16_quantize_columns_panel(int k, int n, const float* src, size_t ld, int j0, const float* inverse,
                                         int32_t* dst) {
  const int k2 = (k + 1) / 2;
  for (int p = 0; p < k2; ++p) {
    for (int j = 0; j < kPanelWidth; ++j) {
      const int col = j0 + j;
      uint32_t word = 0;
      if (col < n) {
        const float* x = src + static_cast<size_t>(2 * p) * ld + col;
        word = static_cast<uint16_t>(int16_round(x[0], inverse[col]));
        if (2 * p + 1 < k) word |= static_cast<uint32_t>(static_cast<uint16_t>(int16_round(x[ld], inverse[col]))) << 16;
      }
      dst[static_cast<size_t>(p) * kPanelWidth + j] = static_cast<int32_t>(word);
    }
  }
}

void int16_quantize_scalar(int m, int k, const float* a, size_t lda, int group, int32_t* words, float* scales);
void int16_quantize_avx2(int m, int k, const float* a, size_t lda, int group, int32_t* words, float* scales);
void int16_quantize_columns_scalar(int k, int n, const float* src, size_t ld, int32_t* panels, float* scales);
void int16_quantize_columns_avx2(int k, int n, const float* src, size_t ld, int32_t* panels, float* scales);

// c[m][n] = a B scaled (stored, not accumulated); a_tiles/a_scales start at row 0 of this
// block (a whole tile), panels/b_scales at its first column.
void int16_block_scalar(int m, int n, int k, const int32_t* a_tiles, const float* a_scales, const int32_t* panels,
                        const float* b_scales, float* c, size_t ldc);
void int16_block_avx2(int m, int n, int k, const int32_t* a_tiles, const float* a_scales, const int32_t* panels,
                      const float* b_scales, float* c, size_t ldc);  // scalar on non-x86 builds

}  // namespace wisp
