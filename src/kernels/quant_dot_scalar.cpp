// The scalar int8 kernel: the reference the SIMD kernels are tested against, and the path under
// WISP_ISA=scalar. Each weight block is decoded to its signed integer values (stored value minus
// the type's offset), dotted with each activation row's int8 block, and scaled once per block.
#include <cstdint>
#include <cstring>

#include "kernels/convert.h"
#include "kernels/q5_0r.h"
#include "kernels/q8_0r.h"
#include "kernels/quant_dot_internal.h"

namespace wisp {

namespace {

uint16_t load_half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof h);
  return h;
}

// One block's integer values (offset removed; the _1 types' unsigned q), scale and minimum.
struct DecodedBlock {
  int values[kMatrixQuantBlock];
  float d = 0.0f, m = 0.0f;
};

template <MatrixType T>
void decode_block(const uint8_t* block, DecodedBlock& out) {
  out.d = f16_to_f32(load_half(block));
  if constexpr (T == MatrixType::Q8_0) {
    for (int i = 0; i < kMatrixQuantBlock; ++i) out.values[i] = static_cast<int8_t>(block[2 + i]);
  } else {
    if constexpr (int8_has_minimum(T)) out.m = f16_to_f32(load_half(block + 2));
    uint32_t fifth = 0;
    if constexpr (int8_has_fifth_bit(T)) std::memcpy(&fifth, block + int8_bits_offset(T), 4);
    const uint8_t* nibbles = block + int8_nibbles_offset(T);
    constexpr int kHalf = kMatrixQuantBlock / 2;
    for (int i = 0; i < kHalf; ++i) {
      // Value i in the low nibble of byte i, value i + 16 in its high nibble; bit i of qh is
      // value i's fifth bit.
      const int low = (nibbles[i] & 15) | static_cast<int>((fifth >> i) & 1) << 4;
      const int high = (nibbles[i] >> 4) | static_cast<int>((fifth >> (i + kHalf)) & 1) << 4;
      out.values[i] = low - int8_weight_offset(T);
      out.values[i + kHalf] = high - int8_weight_offset(T);
    }
  }
}

// Block b of a q5_0r row (kernels/q5_0r.h).
void decode_q5_0r_block(const uint8_t* row, int n_blocks, int b, DecodedBlock& out) {
  const Q5_0rBlock block = q5_0r_block(row, n_blocks, b);
  out.d = f16_to_f32(load_half(block.scale));
  for (int v = 0; v < kMatrixQuantBlock; ++v) {
    out.values[v] = q5_0r_stored_value(block, v) - int8_weight_offset(MatrixType::Q5_0R);
  }
}

// Block b of a q8_0r row (kernels/q8_0r.h).
void decode_q8_0r_block(const uint8_t* row, int n_blocks, int b, DecodedBlock& out) {
  const Q8_0rLayout at = q8_0r_layout(n_blocks, b);
  out.d = f16_to_f32(load_half(row + at.scale));
  for (int v = 0; v < kMatrixQuantBlock; ++v) out.values[v] = static_cast<int8_t>(row[at.values + v]);
}

template <MatrixType T>
void gemv_typed(const Int8Rows& x, const WeightMatrix& w, int col_begin, int col_end, const float* bias,
                bool accumulate, float* y, int ldy) {
  constexpr size_t kBlockBytes = quant_block_bytes(T);
  DecodedBlock wb;
  float sums[kInt8MaxRows];
  for (int j = col_begin; j < col_end; ++j) {
    const uint8_t* row = w.row_data(j);
    for (int r = 0; r < x.rows; ++r) sums[r] = 0.0f;
    for (int b = 0; b < x.blocks; ++b) {
      if constexpr (T == MatrixType::Q5_0R) {
        decode_q5_0r_block(row, x.blocks, b, wb);
      } else if constexpr (T == MatrixType::Q8_0R) {
        decode_q8_0r_block(row, x.blocks, b, wb);
      } else {
        decode_block<T>(row + static_cast<size_t>(b) * kBlockBytes, wb);
      }
      for (int r = 0; r < x.rows; ++r) {
        const int8_t* q = x.values(r) + static_cast<size_t>(b) * kMatrixQuantBlock;
        int dot = 0, q_sum = 0;
        for (int i = 0; i < kMatrixQuantBlock; ++i) {
          dot += wb.values[i] * q[i];
          q_sum += q[i];
        }
        const float d = x.scales(r)[static_cast<size_t>(b) * kInt8Lanes];
        sums[r] += wb.d * d * static_cast<float>(dot);
        if constexpr (int8_has_minimum(T)) sums[r] += wb.m * (d * static_cast<float>(q_sum));
      }
    }
    for (int r = 0; r < x.rows; ++r) store_int8_result(y, ldy, r, j, sums[r], bias, accumulate);
  }
}

void gemv(const Int8Rows& x, const WeightMatrix& w, int col_begin, int col_end, const float* bias, bool accumulate,
          float* y, int ldy) {
  switch (w.type) {
    case MatrixType::Q8_0: return gemv_typed<MatrixType::Q8_0>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::Q5_0: return gemv_typed<MatrixType::Q5_0>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::Q5_1: return gemv_typed<MatrixType::Q5_1>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::Q4_0: return gemv_typed<MatrixType::Q4_0>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::Q4_1: return gemv_typed<MatrixType::Q4_1>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::Q5_0R: return gemv_typed<MatrixType::Q5_0R>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::Q8_0R: return gemv_typed<MatrixType::Q8_0R>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::F32:
    case MatrixType::F16:
    case MatrixType::BF16: break;
  }
}

}  // namespace

const Int8Gemv kInt8GemvScalar = gemv;

}  // namespace wisp
