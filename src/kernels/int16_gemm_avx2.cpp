// The AVX2 integer product: a 6 x 16 register tile of 32-bit sums (12 accumulators) takes, per
// pair of depth steps, two panel vectors of 8 columns x 2 int16 and six broadcast activation
// pairs, multiplied with vpmaddwd. Each depth pass (at most kInt16DepthBlock steps, so the sums
// cannot overflow) ends by scaling the sums into the f32 output. Blocking as the f32 panel
// product's: a row block's tiles stay in L2 while each panel slice passes through L1.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/int16_gemm_internal.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
// GCC 12's intrinsic headers build "undefined" vectors from themselves, which -Wuninitialized
// reports once inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/int16_tile_avx2.h"
#include "kernels/transpose_avx2.h"

namespace wisp {

namespace {

// int16_max_abs, eight values at a time.
float max_abs(const float* x, int n) {
  const __m256 sign = _mm256_set1_ps(-0.0f), largest = _mm256_set1_ps(FLT_MAX);
  __m256 m = _mm256_setzero_ps(), non_finite = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i));
    m = _mm256_max_ps(m, v);
    non_finite = _mm256_or_ps(non_finite, _mm256_cmp_ps(v, largest, _CMP_NLE_UQ));  // inf or NaN
  }
  if (_mm256_movemask_ps(non_finite) != 0) return NAN;
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  float best = 0.0f;
  for (float v : lanes) best = std::max(best, v);
  const float tail = int16_max_abs(x + i, n - i);
  return std::isnan(tail) ? tail : std::max(best, tail);
}

}  // namespace

void int16_quantize_avx2(int m, int k, const float* a, size_t lda, int group, int32_t* words, float* scales) {
  const int k2 = (k + 1) / 2;
  float inv[kPanelWidth];  // group <= kPanelWidth
  for (int i0 = 0; i0 < m; i0 += group) {
    const int n = std::min(group, m - i0);
    for (int r = 0; r < group; ++r) {
      if (r >= n) {
        inv[r] = 0.0f;
        continue;
      }
      const Int16RowScale s = int16_row_scale(max_abs(a + static_cast<size_t>(i0 + r) * lda, k));
      scales[i0 + r] = s.scale;
      inv[r] = s.inverse;
    }
    int32_t* dst = words + static_cast<size_t>(i0) * k2;
    // Sixteen steps of depth (eight pairs) of eight rows at a time: rounded, narrowed to pairs,
    // and transposed to pair-major (zero rows fill a group of six).
    int p = 0;
    for (; 2 * p + 16 <= k; p += 8) {
      for (int r0 = 0; r0 < group; r0 += 8) {
        const int width = std::min(8, group - r0);
        __m256i pairs[8];
        for (int r = 0; r < 8; ++r) {
          if (r >= width || r0 + r >= n) {
            pairs[r] = _mm256_setzero_si256();
            continue;
          }
          const float* x = a + static_cast<size_t>(i0 + r0 + r) * lda + 2 * p;
          const __m256 scale = _mm256_set1_ps(inv[r0 + r]);
          const __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), scale));
          const __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), scale));
          // packs works per 128-bit half: pairs come out as 0 1 4 5 | 2 3 6 7.
          pairs[r] = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), _MM_SHUFFLE(3, 1, 2, 0));
        }
        transpose8x8(pairs);  // pairs[j]: pair p + j of rows r0 .. r0 + 7
        for (int j = 0; j < 8; ++j) {
          // Exactly `width` words: blocks of groups are packed by parallel tasks, side by side.
          int32_t* out = dst + static_cast<size_t>(p + j) * group + r0;
          if (width == 8) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), pairs[j]);
          } else {
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(pairs[j]));
            _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 4), _mm256_extracti128_si256(pairs[j], 1));
          }
        }
      }
    }
    for (; p < k2; ++p) {
      for (int r = 0; r < group; ++r) {
        dst[static_cast<size_t>(p) * group + r] =
            r < n ? int16_pair(a + static_cast<size_t>(i0 + r) * lda, k, 2 * p, inv[r]) : 0;
      }
    }
  }
}

void int16_quantize_columns_avx2(int k, int n, const float* src, size_t ld, int32_t* panels, float* scales) {
  const int k2 = (k + 1) / 2;
  const int n_panels = (n + kPanelWidth - 1) / kPanelWidth;
  thread_local std::vector<float> inverse;
  inverse.resize(std::max(inverse.size(), static_cast<size_t>(n_panels) * kPanelWidth));
  int16_column_scales(k, n, src, ld, scales, inverse.data());
  const __m256i low = _mm256_set1_epi32(0xffff);
  for (int panel = 0; panel < n_panels; ++panel) {
    const int j0 = panel * kPanelWidth;
    int32_t* dst = panels + static_cast<size_t>(panel) * k2 * kPanelWidth;
    if (j0 + kPanelWidth > n) {  // a partial panel: the shared scalar rounding
      int16_quantize_columns_panel(k, n, src, ld, j0, inverse.data(), dst);
      continue;
    }
    for (int half = 0; half < 2; ++half) {
      const __m256 inv = _mm256_loadu_ps(inverse.data() + j0 + 8 * half);
      for (int p = 0; p < k2; ++p) {
        const float* x = src + static_cast<size_t>(2 * p) * ld + j0 + 8 * half;
        const __m256i lo = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), inv));
        const __m256i hi = 2 * p + 1 < k ? _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + ld), inv))
                                         : _mm256_setzero_si256();
        const __m256i word = _mm256_or_si256(_mm256_and_si256(lo, low), _mm256_slli_epi32(hi, 16));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + static_cast<size_t>(p) * kPanelWidth + 8 * half), word);
      }
    }
  }
}

void int16_block_avx2(int m, int n, int k, const int32_t* a_tiles, const float* a_scales, const int32_t* panels,
                      const float* b_scales, float* c, size_t ldc) {
  const int k2 = (k + 1) / 2;
  const int n_panels = (n + kPanelWidth - 1) / kPanelWidth;
  constexpr int kPassPairs = kInt16DepthBlock / 2;
  const bool vnni = int16_tile_vnni();
  alignas(32) float edge[kInt16TileRows * kPanelWidth];  // a tile of the last, partial panel
  for (int i0 = 0; i0 < m; i0 += kPanelRowBlock) {
    const int i1 = std::min(m, i0 + kPanelRowBlock);
    const int n_tiles = (i1 - i0 + kInt16TileRows - 1) / kInt16TileRows;
    for (int p0 = 0; p0 < k2; p0 += kPassPairs) {
      const int kp = std::min(kPassPairs, k2 - p0);
      const bool add = p0 > 0;
      for (int p = 0; p < n_panels; ++p) {
        const int32_t* panel = panels + (static_cast<size_t>(p) * k2 + p0) * kPanelWidth;
        const int j0 = p * kPanelWidth;
        const int width = std::min(kPanelWidth, n - j0);
        // The next panel's slice comes from L3 or memory: its lines are prefetched a share
        // per tile, so they arrive while this panel's tiles run.
        const char* next = p + 1 < n_panels ? reinterpret_cast<const char*>(panel + static_cast<size_t>(k2) * kPanelWidth)
                                            : nullptr;
        const size_t slice_lines = (static_cast<size_t>(kp) * kPanelWidth * sizeof(int32_t) + 63) / 64;
        const size_t lines_per_tile = (slice_lines + n_tiles - 1) / n_tiles;
        for (int i = i0; i < i1; i += kInt16TileRows) {
          const int rows = std::min(kInt16TileRows, i1 - i);
          if (next != nullptr) {
            const size_t line0 = static_cast<size_t>((i - i0) / kInt16TileRows) * lines_per_tile;
            for (size_t line = line0; line < std::min(slice_lines, line0 + lines_per_tile); ++line) {
              _mm_prefetch(next + line * 64, _MM_HINT_T0);
            }
          }
          const int32_t* a_tile = a_tiles + static_cast<size_t>(i) * k2 + static_cast<size_t>(p0) * kInt16TileRows;
          float* c_tile = c + static_cast<size_t>(i) * ldc + j0;
          if (width == kPanelWidth) {
            run_tile(vnni, rows, kp, a_tile, panel, a_scales + i, b_scales + j0, c_tile, ldc, add);
            continue;
          }
          for (int r = 0; r < rows && add; ++r) std::copy_n(c_tile + r * ldc, width, edge + r * kPanelWidth);
          run_tile(vnni, rows, kp, a_tile, panel, a_scales + i, b_scales + j0, edge, kPanelWidth, add);
          for (int r = 0; r < rows; ++r) std::copy_n(edge + r * kPanelWidth, width, c_tile + r * ldc);
        }
      }
    }
  }
}

}  // namespace wisp

#pragma GCC diagnostic pop
#pragma GCC pop_options
#else
namespace wisp {
void int16_quantize_avx2(int m, int k, const float* a, size_t lda, int group, int32_t* words, float* scales) {
  int16_quantize_scalar(m, k, a, lda, group, words, scales);
}
void int16_quantize_columns_avx2(int k, int n, const float* src, size_t ld, int32_t* panels, float* scales) {
  int16_quantize_columns_scalar(k, n, src, ld, panels, scales);
}
void int16_block_avx2(int m, int n, int k, const int32_t* a_tiles, const float* a_scales, const int32_t* panels,
                      const float* b_scales, float* c, size_t ldc) {
  int16_block_scalar(m, n, k, a_tiles, a_scales, panels, b_scales, c, ldc);
}
}  // namespace wisp
#endif
