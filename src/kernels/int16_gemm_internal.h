// The per-instruction-set routines behind int16_gemm.h, and the rounding both share.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/int16_gemm.h"
#include "kernels/panel_gemm_internal.h"
#include "kernels/q5_0r.h"
#include "kernels/q8_0r.h"
#include "model/ggml_quant.h"

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
// Whether the AVX2 products run their full tiles with AVX512-VNNI's vpdpwssd: under the AVX-512
// instruction set on CPUs that have it (the same results bit for bit).
bool int16_tile_vnni();

void int16_block_avx2(int m, int n, int k, const int32_t* a_tiles, const float* a_scales, const int32_t* panels,
                      const float* b_scales, float* c, size_t ldc);  // scalar on non-x86 builds

// ---- Block-quantized weights read in place (int16_gemm_blocks) ---------------------------------

// Pairs of depth per 32-value weight block.
inline constexpr int kInt16BlockPairs = kMatrixQuantBlock / 2;
// Weight blocks per depth pass: the unpacked slice ([256][16] words, 16 KB) stays in L1 across
// a row block's tiles.
inline constexpr int kInt16PassBlocks = kInt16DepthBlock / kMatrixQuantBlock;

// Rows per block of the product on stored blocks: each slice is unpacked once per row block,
// and 288 rows of activation tiles over one pass (288 KB) still fit L2.
inline constexpr int kInt16BlocksRowBlock = 288;

// Block b of weight row `row`: where its f16 scale is, and the integer of its value j (0..31),
// value = d * q, for q8_0 / q5_0 / q4_0 blocks and q5_0r's and q8_0r's regrouped ones.
inline const uint8_t* int16_block_scale(const WeightMatrix& w, int row, int b) {
  if (w.type == MatrixType::Q5_0R) return w.row_data(row) + q5_0r_layout(w.cols / kMatrixQuantBlock, b).scale;
  if (w.type == MatrixType::Q8_0R) return w.row_data(row) + q8_0r_layout(w.cols / kMatrixQuantBlock, b).scale;
  return w.row_data(row) + static_cast<size_t>(b) * quant_block_bytes(w.type);
}

inline int int16_block_value(const WeightMatrix& w, int row, int b, int j) {
  const uint8_t* block = w.row_data(row) + static_cast<size_t>(b) * quant_block_bytes(w.type);
  switch (w.type) {
    case MatrixType::Q8_0: return static_cast<int8_t>(block[2 + j]);
    case MatrixType::Q4_0: {
      const uint8_t byte = block[2 + (j & 15)];
      return (j < 16 ? byte & 15 : byte >> 4) - 8;
    }
    case MatrixType::Q5_0R:
      return q5_0r_stored_value(q5_0r_block(w.row_data(row), w.cols / kMatrixQuantBlock, b), j) - 16;
    case MatrixType::Q8_0R:
      return static_cast<int8_t>(w.row_data(row)[q8_0r_layout(w.cols / kMatrixQuantBlock, b).values + j]);
    default: {  // Q5_0
      const uint32_t high = static_cast<uint32_t>(block[2]) | static_cast<uint32_t>(block[3]) << 8 |
                            static_cast<uint32_t>(block[4]) << 16 | static_cast<uint32_t>(block[5]) << 24;
      const uint8_t byte = block[6 + (j & 15)];
      const int low = j < 16 ? byte & 15 : byte >> 4;
      return (low | static_cast<int>((high >> j) & 1) << 4) - 16;
    }
  }
}

// Largest |q| a block of the type holds (int8 reaches -128; the 5- and 4-bit types -16 and -8).
inline int int16_block_limit(MatrixType type) {
  return type == MatrixType::Q8_0 || type == MatrixType::Q8_0R ? 128
         : type == MatrixType::Q5_0 || type == MatrixType::Q5_0R ? 16
                                                                 : 8;
}

// Row `row` of w over blocks [b0, b0 + nb) rounded to 12 bits against one scale: value q of
// block b becomes nearbyint(q * multipliers[b]). Returns the step (the row's scale): the largest
// block scale times the type's limit spans +-kInt16Levels, so no value can exceed it.
inline float int16_block_multipliers(const WeightMatrix& w, int row, int b0, int nb, float* multipliers) {
  float largest = 0.0f;
  for (int b = 0; b < nb; ++b) {
    uint16_t bits;
    std::memcpy(&bits, int16_block_scale(w, row, b0 + b), sizeof(bits));
    multipliers[b] = fp16_to_fp32(bits);
    // NaN sticks: a comparison with it is false.
    const bool finite = std::isfinite(multipliers[b]) && !std::isnan(largest);
    largest = finite ? std::max(largest, std::fabs(multipliers[b])) : NAN;
  }
  const Int16RowScale s = int16_row_scale(largest * static_cast<float>(int16_block_limit(w.type)));
  for (int b = 0; b < nb; ++b) multipliers[b] *= s.inverse;
  return s.scale;
}

// Rows [j0, j0 + 16) of w (rows past w.rows zero) over blocks [b0, b0 + nb) (one depth pass) as
// a panel slice of B = W^T: words [nb * kInt16BlockPairs][16], each row rounded by
// int16_block_multipliers, whose steps go to scales[16] (0 for missing rows). Identical results
// from both kernels.
void int16_unpack_blocks_scalar(const WeightMatrix& w, int j0, int b0, int nb, int32_t* words, float* scales);
void int16_unpack_blocks_avx2(const WeightMatrix& w, int j0, int b0, int nb, int32_t* words, float* scales);

// c[m][n] = a W^T (stored, not accumulated), W = w's rows [0, n) read in place, slice by slice
// and pass by pass (int16_unpack_blocks); a_tiles/a_scales start at row 0 of this block (a whole
// tile), of depth w.cols. Sums as int16_block_scalar's, with the slices' steps as column scales.
void int16_block_quant_scalar(int m, int n, const int32_t* a_tiles, const float* a_scales, const WeightMatrix& w,
                              float* c, size_t ldc);
void int16_block_quant_avx2(int m, int n, const int32_t* a_tiles, const float* a_scales, const WeightMatrix& w,
                            float* c, size_t ldc);  // scalar on non-x86 builds

}  // namespace wisp
