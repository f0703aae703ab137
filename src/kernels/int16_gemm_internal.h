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

void int16_quantize_scalar(int m, int k, const float* a, size_t lda, int32_t* tiles, float* scales);
void int16_quantize_avx2(int m, int k, const float* a, size_t lda, int32_t* tiles, float* scales);

// c[m][n] = a B scaled (stored, not accumulated); a_tiles/a_scales start at row 0 of this
// block (a whole tile), panels/b_scales at its first column.
void int16_block_scalar(int m, int n, int k, const int32_t* a_tiles, const float* a_scales, const int32_t* panels,
                        const float* b_scales, float* c, size_t ldc);
void int16_block_avx2(int m, int n, int k, const int32_t* a_tiles, const float* a_scales, const int32_t* panels,
                      const float* b_scales, float* c, size_t ldc);  // scalar on non-x86 builds

}  // namespace wisp
