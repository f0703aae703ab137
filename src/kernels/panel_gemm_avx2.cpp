// The AVX2 panel product: a 6 x 16 register tile (12 accumulators) per step of depth takes
// two panel vectors (f32 loads, or f16 widened with vcvtph2ps) and six broadcasts of the
// activations, packed per depth pass into 6-row tiles. In L1 it runs at the FMA units' peak; the
// blocking (panel_gemm_internal.h) keeps it fed from L1 and L2.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/panel_gemm_internal.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
// GCC 12's intrinsic headers build "undefined" vectors from themselves, which -Wuninitialized
// reports once inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/transpose_avx2.h"

namespace wisp {

namespace {

// c[R][16] = (add ? c : 0) + a[kc][R] * panel[kc][16], the product summed from zero (each depth
// pass is a partial sum of its own, as in sgemm, which bounds the rounding of long sums): `a` is
// a packed tile (depth-major, 6 values per step, see pack_tiles), rows of c at stride ldc.
template <int R, bool kHalf>
inline __attribute__((always_inline)) void tile(int kc, const float* a, const void* panel, float* c, size_t ldc,
                                                bool add) {
  // Every loop over the rows is unrolled: a rolled one makes GCC keep the accumulator arrays in
  // memory and store all twelve on each step of depth (measured: half the speed).
  __m256 lo[R], hi[R];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    // c is touched only after the depth loop; its lines (which wide outputs evict from L2
    // between depth passes) are fetched meanwhile.
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + kPanelWidth - 1), _MM_HINT_T0);
    lo[r] = _mm256_setzero_ps();
    hi[r] = _mm256_setzero_ps();
  }
  for (int k = 0; k < kc; ++k) {
    __m256 b0, b1;
    if constexpr (kHalf) {
      const uint16_t* p = static_cast<const uint16_t*>(panel) + static_cast<size_t>(k) * kPanelWidth;
      b0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
      b1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8)));
    } else {
      const float* p = static_cast<const float*>(panel) + static_cast<size_t>(k) * kPanelWidth;
      b0 = _mm256_loadu_ps(p);
      b1 = _mm256_loadu_ps(p + 8);
    }
    const float* x = a + static_cast<size_t>(k) * kPanelTileRows;
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 v = _mm256_broadcast_ss(x + r);
      lo[r] = _mm256_fmadd_ps(v, b0, lo[r]);
      hi[r] = _mm256_fmadd_ps(v, b1, hi[r]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    if (add) {
      lo[r] = _mm256_add_ps(_mm256_loadu_ps(c + r * ldc), lo[r]);
      hi[r] = _mm256_add_ps(_mm256_loadu_ps(c + r * ldc + 8), hi[r]);
    }
    _mm256_storeu_ps(c + r * ldc, lo[r]);
    _mm256_storeu_ps(c + r * ldc + 8, hi[r]);
  }
}

// Rows [0, rows) x depth [0, kc) of a (stride lda) as tiles of 6 rows, each depth-major
// ([kc][6], missing rows zero): the six values a step broadcasts share one cache line. Read
// in place from six rows, the broadcasts run ~35 % slower (six streams, L1 bank conflicts).
// Eight steps of depth at a time are transposed in registers (an 8 x 8 transpose with two
// zero rows); each step's 8-float store spills 2 floats into the next step's slots, which
// that step then overwrites, so `dst` needs kPackSlack floats past the last tile.
inline constexpr int kPackSlack = 8;

void pack_tiles(int rows, int kc, const float* a, size_t lda, float* dst) {
  for (int i = 0; i < rows; i += kPanelTileRows) {
    float* tile_dst = dst + static_cast<size_t>(i) * kc;
    const int n = std::min(kPanelTileRows, rows - i);
    const float* src[kPanelTileRows];
    for (int r = 0; r < kPanelTileRows; ++r) src[r] = r < n ? a + static_cast<size_t>(i + r) * lda : nullptr;
    int k = 0;
    for (; k + 8 <= kc; k += 8) {
      __m256 row[8];
      for (int r = 0; r < kPanelTileRows; ++r) row[r] = r < n ? _mm256_loadu_ps(src[r] + k) : _mm256_setzero_ps();
      row[6] = row[7] = _mm256_setzero_ps();
      transpose8x8(row);  // row[j]: step k + j of rows 0..7
      float* out = tile_dst + static_cast<size_t>(k) * kPanelTileRows;
      for (int j = 0; j < 8; ++j) _mm256_storeu_ps(out + j * kPanelTileRows, row[j]);
    }
    for (; k < kc; ++k) {
      for (int r = 0; r < kPanelTileRows; ++r) tile_dst[k * kPanelTileRows + r] = r < n ? src[r][k] : 0.0f;
    }
  }
}

// kc x 16 halves of a panel slice as floats.
void widen_panel(int kc, const uint16_t* panel, float* dst) {
  for (size_t i = 0; i < static_cast<size_t>(kc) * kPanelWidth; i += 8) {
    _mm256_store_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(panel + i))));
  }
}

// A panel slice from weight rows: dst[kk][j] = w[j][kk] for j < width (16 - width zero columns),
// kk < kc; w at row stride ldw, f16 or f32 at any alignment. Eight steps of depth of eight
// rows at a time, widened and transposed in registers.
template <bool kHalf>
void gather_rows(int kc, int width, const void* w, size_t ldw, float* dst) {
  constexpr size_t kElement = kHalf ? 2 : 4;
  const char* base = static_cast<const char*>(w);
  int k = 0;
  for (; k + 8 <= kc; k += 8) {
    for (int half = 0; half < 2; ++half) {
      __m256 v[8];
      for (int r = 0; r < 8; ++r) {
        const int j = 8 * half + r;
        if (j >= width) {
          v[r] = _mm256_setzero_ps();
          continue;
        }
        const char* at = base + (static_cast<size_t>(j) * ldw + k) * kElement;
        v[r] = kHalf ? _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at)))
                     : _mm256_loadu_ps(reinterpret_cast<const float*>(at));
      }
      transpose8x8(v);  // v[i]: step k + i of rows 8*half .. 8*half+7
      for (int i = 0; i < 8; ++i) _mm256_store_ps(dst + static_cast<size_t>(k + i) * kPanelWidth + 8 * half, v[i]);
    }
  }
  for (; k < kc; ++k) {
    for (int j = 0; j < kPanelWidth; ++j) {
      float value = 0.0f;
      if (j < width) {
        const char* at = base + (static_cast<size_t>(j) * ldw + k) * kElement;
        if constexpr (kHalf) {
          uint16_t bits;
          std::memcpy(&bits, at, sizeof bits);
          value = _cvtsh_ss(bits);
        } else {
          std::memcpy(&value, at, sizeof value);
        }
      }
      dst[static_cast<size_t>(k) * kPanelWidth + j] = value;
    }
  }
}

template <bool kHalf>
void run_tile(int rows, int kc, const float* a, const void* panel, float* c, size_t ldc, bool add) {
  switch (rows) {
    case 6: tile<6, kHalf>(kc, a, panel, c, ldc, add); break;
    case 5: tile<5, kHalf>(kc, a, panel, c, ldc, add); break;
    case 4: tile<4, kHalf>(kc, a, panel, c, ldc, add); break;
    case 3: tile<3, kHalf>(kc, a, panel, c, ldc, add); break;
    case 2: tile<2, kHalf>(kc, a, panel, c, ldc, add); break;
    default: tile<1, kHalf>(kc, a, panel, c, ldc, add); break;
  }
}

// kRows: B = W^T from weight rows (`b` = W, row stride ldb), each slice gathered into
// `widened`; else `b` holds panels (ldb unused). `quant` (kRows, f32): the rows are those of a
// block-quantized matrix instead (b and ldb unused), each slice dequantized first.
template <bool kHalf, bool kRows>
void block(int m, int n, int k, const float* a, size_t lda, const void* b, size_t ldb, float* c, size_t ldc,
           const WeightMatrix* quant = nullptr) {
  constexpr size_t kElement = kHalf ? 2 : 4;
  alignas(64) static thread_local float dequantized[kPanelWidth * kPanelDepthBlock];  // a quantized slice as rows
  const int n_panels = (n + kPanelWidth - 1) / kPanelWidth;
  alignas(32) float edge[kPanelTileRows * kPanelWidth];  // a tile of the last, partial panel
  // The row block's slice of a, packed once per depth pass and read by every panel.
  alignas(64) static thread_local float packed[kPanelRowBlock * kPanelDepthBlock + kPackSlack];
  alignas(64) static thread_local float widened[kPanelDepthBlock * kPanelWidth];  // a panel slice as f32
  // Where the slice of panel p at depth p0 starts (weight rows: in the panel's first row).
  auto slice = [&](int p, int p0) {
    if (quant != nullptr) {
      return reinterpret_cast<const char*>(quant->row_data(p * kPanelWidth)) + matrix_row_bytes(quant->type, p0);
    }
    return static_cast<const char*>(b) + (kRows ? (static_cast<size_t>(p) * kPanelWidth * ldb + p0) * kElement
                                                : (static_cast<size_t>(p) * k + p0) * kPanelWidth * kElement);
  };
  for (int i0 = 0; i0 < m; i0 += kPanelRowBlock) {
    const int i1 = std::min(m, i0 + kPanelRowBlock);
    const int n_tiles = (i1 - i0 + kPanelTileRows - 1) / kPanelTileRows;
    for (int p0 = 0; p0 < k; p0 += kPanelDepthBlock) {
      const int kc = std::min(kPanelDepthBlock, k - p0);
      const bool add = p0 > 0;  // later depth passes add to the partial sums
      pack_tiles(i1 - i0, kc, a + static_cast<size_t>(i0) * lda + p0, lda, packed);
      for (int p = 0; p < n_panels; ++p) {
        const void* panel = slice(p, p0);
        const int j0 = p * kPanelWidth;
        const int width = std::min(kPanelWidth, n - j0);
        if constexpr (kRows) {
          if (quant != nullptr) {
            // The slice's blocks of `width` rows as f32 rows of kc, then gathered as those.
            const KernelTable& kt = kernels();
            for (int r = 0; r < width; ++r) {
              const WeightMatrix run(static_cast<const char*>(panel) + r * quant->row_bytes, quant->type, 1, kc);
              kt.rows_to_f32(run, 0, 1, dequantized + static_cast<size_t>(r) * kc);
            }
            gather_rows<false>(kc, width, dequantized, kc, widened);
          } else {
            gather_rows<kHalf>(kc, width, panel, ldb, widened);
          }
          panel = widened;
        } else if constexpr (kHalf) {
          // Widened once for all the row block's tiles: the f32 tile runs ~15 % faster than one
          // converting as it goes (vcvtph2ps competes with the FMAs for the FP pipes).
          if (i1 - i0 > kPanelTileRows) {
            widen_panel(kc, static_cast<const uint16_t*>(panel), widened);
            panel = widened;
          }
        }
        // The next panel's slice comes from L3 or memory (the weights outgrow L2): its lines are
        // prefetched a share per tile, so they arrive while this panel's tiles run. Weight rows
        // give 16 runs of kc values, panels one run of 16 kc.
        const char* next = p + 1 < n_panels ? slice(p + 1, p0) : nullptr;
        const size_t run_bytes = quant != nullptr ? matrix_row_bytes(quant->type, kc)
                                                  : static_cast<size_t>(kc) * kElement * (kRows ? 1 : kPanelWidth);
        const size_t run_stride = quant != nullptr ? quant->row_bytes : kRows ? ldb * kElement : 0;
        const size_t run_lines = (run_bytes + 63) / 64;
        const size_t slice_lines = run_lines * (kRows ? kPanelWidth : 1);
        const size_t lines_per_tile = (slice_lines + n_tiles - 1) / n_tiles;
        for (int i = i0; i < i1; i += kPanelTileRows) {
          const int rows = std::min(kPanelTileRows, i1 - i);
          if (next != nullptr) {
            const size_t line0 = static_cast<size_t>((i - i0) / kPanelTileRows) * lines_per_tile;
            for (size_t line = line0; line < std::min(slice_lines, line0 + lines_per_tile); ++line) {
              _mm_prefetch(next + (line / run_lines) * run_stride + (line % run_lines) * 64, _MM_HINT_T0);
            }
          }
          const float* a_tile = packed + static_cast<size_t>(i - i0) * kc;
          float* c_tile = c + static_cast<size_t>(i) * ldc + j0;
          const bool half = kHalf && panel != widened;
          if (width == kPanelWidth) {
            half ? run_tile<true>(rows, kc, a_tile, panel, c_tile, ldc, add)
                 : run_tile<false>(rows, kc, a_tile, panel, c_tile, ldc, add);
            continue;
          }
          for (int r = 0; r < rows && add; ++r) std::copy_n(c_tile + r * ldc, width, edge + r * kPanelWidth);
          half ? run_tile<true>(rows, kc, a_tile, panel, edge, kPanelWidth, add)
               : run_tile<false>(rows, kc, a_tile, panel, edge, kPanelWidth, add);
          for (int r = 0; r < rows; ++r) std::copy_n(edge + r * kPanelWidth, width, c_tile + r * ldc);
        }
      }
    }
  }
}

}  // namespace

void panel_block_avx2(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* panels, float* c,
                      size_t ldc) {
  if (type == PanelType::F16) {
    block<true, false>(m, n, k, a, lda, panels, 0, c, ldc);
  } else {
    block<false, false>(m, n, k, a, lda, panels, 0, c, ldc);
  }
}

void panel_block_rows_avx2(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* w, size_t ldw,
                           float* c, size_t ldc) {
  if (type == PanelType::F16) {
    block<true, true>(m, n, k, a, lda, w, ldw, c, ldc);
  } else {
    block<false, true>(m, n, k, a, lda, w, ldw, c, ldc);
  }
}

void panel_block_quant_rows_avx2(int m, int n, int k, const float* a, size_t lda, const WeightMatrix& w, float* c,
                                 size_t ldc) {
  block<false, true>(m, n, k, a, lda, nullptr, 0, c, ldc, &w);
}

}  // namespace wisp

#pragma GCC diagnostic pop
#pragma GCC pop_options
#else
namespace wisp {
void panel_block_avx2(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* panels, float* c,
                      size_t ldc) {
  panel_block_scalar(m, n, k, a, lda, type, panels, c, ldc);
}
void panel_block_rows_avx2(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* w, size_t ldw,
                           float* c, size_t ldc) {
  panel_block_rows_scalar(m, n, k, a, lda, type, w, ldw, c, ldc);
}
void panel_block_quant_rows_avx2(int m, int n, int k, const float* a, size_t lda, const WeightMatrix& w, float* c,
                                 size_t ldc) {
  panel_block_quant_rows_scalar(m, n, k, a, lda, w, c, ldc);
}
}  // namespace wisp
#endif
