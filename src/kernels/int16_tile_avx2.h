// The AVX2 integer tile (6 rows x 16 columns of 32-bit sums), shared by the product on packed panels
// (int16_gemm_avx2.cpp) and the one on block-quantized weights (int16_blocks_avx2.cpp). Include
// after <immintrin.h>, inside the including file's `#pragma GCC target("avx2")` region.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/int16_gemm.h"

namespace wisp {

// c[R][16] = (add ? c : 0) + (sum over kp pairs of a x panel) * a_scale[r] * b_scale[j].
// kVnni: the full tile's multiply-adds as AVX512-VNNI vpdpwssd (in the assembly text, so the
// including file needs no AVX-512 target): the same integer sums in 18 instructions per depth
// pair instead of 30 (base q8_0 encoder on Zen 4, one thread: 0.8x the time).
template <int R, bool kVnni>
inline __attribute__((always_inline)) void tile(int kp, const int32_t* a, const int32_t* panel, const float* a_scale,
                                                const float* b_scale, float* c, size_t ldc, bool add) {
  // Rolled loops over the rows would keep the accumulators in memory (as in the f32 tile).
  __m256i lo[R], hi[R];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + kPanelWidth - 1), _MM_HINT_T0);
    lo[r] = _mm256_setzero_si256();
    hi[r] = _mm256_setzero_si256();
  }
  // Both full-tile variants: twelve sums in registers, the panel row at b, the activations at x.
#define WISP_INT16_TILE_OPERANDS                                                                      \
  : [l0] "+x"(lo[0]), [h0] "+x"(hi[0]), [l1] "+x"(lo[1]), [h1] "+x"(hi[1]), [l2] "+x"(lo[2]),        \
    [h2] "+x"(hi[2]), [l3] "+x"(lo[3]), [h3] "+x"(hi[3]), [l4] "+x"(lo[4]), [h4] "+x"(hi[4]),         \
    [l5] "+x"(lo[5]), [h5] "+x"(hi[5])                                                                \
  : [b] "r"(b), [x] "r"(x), "m"(*reinterpret_cast<const int32_t(*)[kPanelWidth]>(b)),                \
    "m"(*reinterpret_cast<const int32_t(*)[kInt16TileRows]>(x))                                       \
  : "xmm13", "xmm14", "xmm15"
  if constexpr (R == 6 && kVnni) {
    for (int p = 0; p < kp; ++p) {
      const int32_t* b = panel + p * kPanelWidth;
      const int32_t* x = a + p * kInt16TileRows;
      __asm__(
          "vmovdqu (%[b]), %%ymm13\n\t"
          "vmovdqu 32(%[b]), %%ymm15\n\t"
#define WISP_INT16_ROW(r, L, H)                          \
  "vpbroadcastd " #r "*4(%[x]), %%ymm14\n\t"             \
  "vpdpwssd %%ymm13, %%ymm14, %[" #L "]\n\t"              \
  "vpdpwssd %%ymm15, %%ymm14, %[" #H "]\n\t"
          WISP_INT16_ROW(0, l0, h0) WISP_INT16_ROW(1, l1, h1) WISP_INT16_ROW(2, l2, h2)
          WISP_INT16_ROW(3, l3, h3) WISP_INT16_ROW(4, l4, h4) WISP_INT16_ROW(5, l5, h5)
#undef WISP_INT16_ROW
          WISP_INT16_TILE_OPERANDS);
    }
  } else if constexpr (R == 6) {
    // GCC spills eight of the twelve accumulators on every step if left to itself: vpmaddwd
    // writes a third register, and it keeps both panel vectors in registers besides. Here the
    // second panel vector is read from memory by each multiply instead, which leaves registers
    // for all twelve sums, one broadcast and one product.
    for (int p = 0; p < kp; ++p) {
      const int32_t* b = panel + p * kPanelWidth;
      const int32_t* x = a + p * kInt16TileRows;
      __asm__(
          "vmovdqu (%[b]), %%ymm13\n\t"
#define WISP_INT16_ROW(r, L, H)                          \
  "vpbroadcastd " #r "*4(%[x]), %%ymm14\n\t"             \
  "vpmaddwd %%ymm13, %%ymm14, %%ymm15\n\t"                \
  "vpaddd %%ymm15, %[" #L "], %[" #L "]\n\t"              \
  "vpmaddwd 32(%[b]), %%ymm14, %%ymm14\n\t"               \
  "vpaddd %%ymm14, %[" #H "], %[" #H "]\n\t"
          WISP_INT16_ROW(0, l0, h0) WISP_INT16_ROW(1, l1, h1) WISP_INT16_ROW(2, l2, h2)
          WISP_INT16_ROW(3, l3, h3) WISP_INT16_ROW(4, l4, h4) WISP_INT16_ROW(5, l5, h5)
#undef WISP_INT16_ROW
          WISP_INT16_TILE_OPERANDS);
    }
  } else {
#undef WISP_INT16_TILE_OPERANDS
    for (int p = 0; p < kp; ++p) {
      const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * kPanelWidth));
      const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * kPanelWidth + 8));
      const int32_t* x = a + p * kInt16TileRows;
#pragma GCC unroll 6
      for (int r = 0; r < R; ++r) {
        const __m256i v = _mm256_set1_epi32(x[r]);
        lo[r] = _mm256_add_epi32(lo[r], _mm256_madd_epi16(v, b0));
        hi[r] = _mm256_add_epi32(hi[r], _mm256_madd_epi16(v, b1));
      }
    }
  }
  const __m256 s0 = _mm256_loadu_ps(b_scale), s1 = _mm256_loadu_ps(b_scale + 8);
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    const __m256 sa = _mm256_set1_ps(a_scale[r]);
    const __m256 f0 = _mm256_cvtepi32_ps(lo[r]), f1 = _mm256_cvtepi32_ps(hi[r]);
    const __m256 c0 = _mm256_mul_ps(sa, s0), c1 = _mm256_mul_ps(sa, s1);
    float* out = c + r * ldc;
    if (add) {
      _mm256_storeu_ps(out, _mm256_fmadd_ps(f0, c0, _mm256_loadu_ps(out)));
      _mm256_storeu_ps(out + 8, _mm256_fmadd_ps(f1, c1, _mm256_loadu_ps(out + 8)));
    } else {
      _mm256_storeu_ps(out, _mm256_mul_ps(f0, c0));
      _mm256_storeu_ps(out + 8, _mm256_mul_ps(f1, c1));
    }
  }
}

// vnni: int16_tile_vnni() (kernels/int16_gemm_internal.h), read once per product.
inline void run_tile(bool vnni, int rows, int kp, const int32_t* a, const int32_t* panel, const float* a_scale,
                     const float* b_scale, float* c, size_t ldc, bool add) {
  switch (rows) {
    case 6:
      if (vnni) {
        tile<6, true>(kp, a, panel, a_scale, b_scale, c, ldc, add);
      } else {
        tile<6, false>(kp, a, panel, a_scale, b_scale, c, ldc, add);
      }
      break;
    case 5: tile<5, false>(kp, a, panel, a_scale, b_scale, c, ldc, add); break;
    case 4: tile<4, false>(kp, a, panel, a_scale, b_scale, c, ldc, add); break;
    case 3: tile<3, false>(kp, a, panel, a_scale, b_scale, c, ldc, add); break;
    case 2: tile<2, false>(kp, a, panel, a_scale, b_scale, c, ldc, add); break;
    default: tile<1, false>(kp, a, panel, a_scale, b_scale, c, ldc, add); break;
  }
}

}  // namespace wisp
