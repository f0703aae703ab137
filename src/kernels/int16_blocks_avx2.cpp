// The AVX2 integer product on block-quantized weights read in place: each 16-row slice of W over
// one depth pass (16 blocks) is unpacked when its turn comes, each row rounded to 12 bits against
// one scale (int16_block_multipliers), into the panel layout the packed product's 6 x 16 tile
// reads; the tile then runs over it as over packed panels.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/int16_gemm_internal.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/int16_tile_avx2.h"
#include "kernels/q5_0r_avx2.h"
#include "kernels/transpose_avx2.h"

namespace wisp {

namespace {

// Values 0..15 (first) and 16..31 (second) of one block as int16 lanes: as words, pairs 0..7
// and 8..15.
template <MatrixType T>
inline __attribute__((always_inline)) void decode_block(const uint8_t* block, __m256i& first, __m256i& second) {
  if constexpr (T == MatrixType::Q8_0 || T == MatrixType::Q8_0R) {  // q8_0r: `block` is its values
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + (T == MatrixType::Q8_0 ? 2 : 0)));
    first = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(bytes));
    second = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(bytes, 1));
  } else {
    constexpr int kNibbles = T == MatrixType::Q4_0 ? 2 : 6;  // offset of qs in the block
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + kNibbles));
    const __m128i mask = _mm_set1_epi8(15);
    __m256i low = _mm256_cvtepu8_epi16(_mm_and_si128(q, mask));
    __m256i high = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(q, 4), mask));
    if constexpr (T == MatrixType::Q5_0) {
      uint32_t bits;
      std::memcpy(&bits, block + 2, sizeof(bits));
      // Lane j tests bit j of its half of the fifth bits and contributes 16 where it is set.
      const __m256i lane_bit = _mm256_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192,
                                                 16384, static_cast<int16_t>(-32768));
      const __m256i sixteen = _mm256_set1_epi16(16);
      auto fifth = [&](uint32_t half) {
        const __m256i set = _mm256_and_si256(_mm256_set1_epi16(static_cast<int16_t>(half)), lane_bit);
        return _mm256_and_si256(_mm256_cmpeq_epi16(set, lane_bit), sixteen);
      };
      low = _mm256_sub_epi16(_mm256_or_si256(low, fifth(bits & 0xffff)), sixteen);
      high = _mm256_sub_epi16(_mm256_or_si256(high, fifth(bits >> 16)), sixteen);
    } else {
      const __m256i eight = _mm256_set1_epi16(8);
      low = _mm256_sub_epi16(low, eight);
      high = _mm256_sub_epi16(high, eight);
    }
    first = low;
    second = high;
  }
}

// The same for a q5_0r block: its stored values less the offset, widened.
inline __attribute__((always_inline)) void decode_q5_0r_block(const Q5_0rBlock& block, __m256i& first,
                                                               __m256i& second) {
  const __m256i values =
      _mm256_sub_epi8(q5_0r_stored_bytes(block.bits, block.odd, block.nibbles), _mm256_set1_epi8(16));
  first = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(values));
  second = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(values, 1));
}

// Four vectors of eight values times the multiplier, rounded (to nearest even, as nearbyint),
// narrowed back to int16 lanes in order.
inline __attribute__((always_inline)) __m256i round_values(__m256i values, __m256 multiplier) {
  const __m256i lo = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(values));
  const __m256i hi = _mm256_cvtepi16_epi32(_mm256_extracti128_si256(values, 1));
  const __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(lo), multiplier));
  const __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(hi), multiplier));
  // packs works per 128-bit half: values come out as 0-3 8-11 | 4-7 12-15.
  return _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), _MM_SHUFFLE(3, 1, 2, 0));
}

template <MatrixType T>
void unpack(const WeightMatrix& w, int j0, int b0, int nb, int32_t* words, float* scales) {
  constexpr size_t kBlockBytes = quant_block_bytes(T);
  const int present = std::clamp(w.rows - j0, 0, kPanelWidth);
  float multipliers[kPanelWidth][kInt16PassBlocks];
  for (int r = 0; r < kPanelWidth; ++r) {
    scales[r] = r < present ? int16_block_multipliers(w, j0 + r, b0, nb, multipliers[r]) : 0.0f;
  }
  for (int r0 = 0; r0 < kPanelWidth; r0 += 8) {
    const uint8_t* rows[8];
    for (int r = 0; r < 8; ++r) {
      // The regrouped types find their blocks from the row's start, the others from the pass's
      // first block.
      const bool regrouped = T == MatrixType::Q5_0R || T == MatrixType::Q8_0R;
      const size_t skip = regrouped ? 0 : static_cast<size_t>(b0) * kBlockBytes;
      rows[r] = r0 + r < present ? w.row_data(j0 + r0 + r) + skip : nullptr;
    }
    for (int b = 0; b < nb; ++b) {
      __m256i first[8], second[8];
      for (int r = 0; r < 8; ++r) {
        if (rows[r] == nullptr) {
          first[r] = second[r] = _mm256_setzero_si256();
          continue;
        }
        if constexpr (T == MatrixType::Q5_0R) {
          decode_q5_0r_block(q5_0r_block(rows[r], w.cols / kMatrixQuantBlock, b0 + b), first[r], second[r]);
        } else if constexpr (T == MatrixType::Q8_0R) {
          decode_block<T>(rows[r] + q8_0r_layout(w.cols / kMatrixQuantBlock, b0 + b).values, first[r], second[r]);
        } else {
          decode_block<T>(rows[r] + static_cast<size_t>(b) * kBlockBytes, first[r], second[r]);
        }
        const __m256 multiplier = _mm256_set1_ps(multipliers[r0 + r][b]);
        first[r] = round_values(first[r], multiplier);
        second[r] = round_values(second[r], multiplier);
      }
      transpose8x8(first);  // first[q]: pair q of rows r0 .. r0 + 7
      transpose8x8(second);
      int32_t* out = words + static_cast<size_t>(b) * kInt16BlockPairs * kPanelWidth + r0;
      for (int q = 0; q < 8; ++q) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + q * kPanelWidth), first[q]);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (8 + q) * kPanelWidth), second[q]);
      }
    }
  }
}

}  // namespace

void int16_unpack_blocks_avx2(const WeightMatrix& w, int j0, int b0, int nb, int32_t* words, float* scales) {
  switch (w.type) {
    case MatrixType::Q8_0: unpack<MatrixType::Q8_0>(w, j0, b0, nb, words, scales); break;
    case MatrixType::Q5_0: unpack<MatrixType::Q5_0>(w, j0, b0, nb, words, scales); break;
    case MatrixType::Q4_0: unpack<MatrixType::Q4_0>(w, j0, b0, nb, words, scales); break;
    case MatrixType::Q5_0R: unpack<MatrixType::Q5_0R>(w, j0, b0, nb, words, scales); break;
    case MatrixType::Q8_0R: unpack<MatrixType::Q8_0R>(w, j0, b0, nb, words, scales); break;
    default: int16_unpack_blocks_scalar(w, j0, b0, nb, words, scales); break;
  }
}

void int16_block_quant_avx2(int m, int n, const int32_t* a_tiles, const float* a_scales, const WeightMatrix& w,
                            float* c, size_t ldc) {
  const int k2 = w.cols / 2;
  const int n_blocks = w.cols / kMatrixQuantBlock;
  const int n_panels = (n + kPanelWidth - 1) / kPanelWidth;
  const size_t block_bytes = quant_block_bytes(w.type);
  const bool vnni = int16_tile_vnni();
  alignas(32) int32_t words[kInt16PassBlocks * kInt16BlockPairs * kPanelWidth];  // 16 KB: stays in L1
  alignas(32) float scales[kPanelWidth];
  alignas(32) float edge[kInt16TileRows * kPanelWidth];  // a tile of the last, partial panel
  for (int i0 = 0; i0 < m; i0 += kInt16BlocksRowBlock) {
    const int i1 = std::min(m, i0 + kInt16BlocksRowBlock);
    const int n_tiles = (i1 - i0 + kInt16TileRows - 1) / kInt16TileRows;
    for (int b0 = 0; b0 < n_blocks; b0 += kInt16PassBlocks) {
      const int nb = std::min(kInt16PassBlocks, n_blocks - b0);
      const bool add = b0 > 0;
      const size_t pass_bytes = static_cast<size_t>(nb) * block_bytes;
      const size_t row_lines = (pass_bytes + 63) / 64 + 1;  // rows start at any byte
      for (int p = 0; p < n_panels; ++p) {
        const int j0 = p * kPanelWidth;
        const int width = std::min(kPanelWidth, n - j0);
        int16_unpack_blocks_avx2(w, j0, b0, nb, words, scales);
        // The next slice's weight rows come from L3 or memory: their lines are prefetched a
        // share per tile, so they arrive while this slice's tiles run.
        const int next_rows = p + 1 < n_panels ? std::min(kPanelWidth, n - j0 - kPanelWidth) : 0;
        const size_t next_lines = static_cast<size_t>(next_rows) * row_lines;
        const size_t lines_per_tile = (next_lines + n_tiles - 1) / n_tiles;
        for (int i = i0; i < i1; i += kInt16TileRows) {
          const int rows = std::min(kInt16TileRows, i1 - i);
          const size_t line0 = static_cast<size_t>((i - i0) / kInt16TileRows) * lines_per_tile;
          for (size_t line = line0; line < std::min(next_lines, line0 + lines_per_tile); ++line) {
            const uint8_t* row = w.row_data(j0 + kPanelWidth + static_cast<int>(line / row_lines));
            _mm_prefetch(reinterpret_cast<const char*>(row + b0 * block_bytes + (line % row_lines) * 64), _MM_HINT_T0);
          }
          const int32_t* a_tile =
              a_tiles + static_cast<size_t>(i) * k2 + static_cast<size_t>(b0) * kInt16BlockPairs * kInt16TileRows;
          float* c_tile = c + static_cast<size_t>(i) * ldc + j0;
          if (width == kPanelWidth) {
            run_tile(vnni, rows, nb * kInt16BlockPairs, a_tile, words, a_scales + i, scales, c_tile, ldc, add);
            continue;
          }
          for (int r = 0; r < rows && add; ++r) std::copy_n(c_tile + r * ldc, width, edge + r * kPanelWidth);
          run_tile(vnni, rows, nb * kInt16BlockPairs, a_tile, words, a_scales + i, scales, edge, kPanelWidth, add);
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
void int16_unpack_blocks_avx2(const WeightMatrix& w, int j0, int b0, int nb, int32_t* words, float* scales) {
  int16_unpack_blocks_scalar(w, j0, b0, nb, words, scales);
}
void int16_block_quant_avx2(int m, int n, const int32_t* a_tiles, const float* a_scales, const WeightMatrix& w,
                            float* c, size_t ldc) {
  int16_block_quant_scalar(m, n, a_tiles, a_scales, w, c, ldc);
}
}  // namespace wisp
#endif
