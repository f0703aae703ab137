#include "kernels/weight_matrix.h"

#include <cstring>

#include "kernels/convert.h"
#include "kernels/q5_0r.h"
#include "kernels/q8_0r.h"
#include "model/ggml_quant.h"

namespace wisp {

static_assert(quant_block_bytes(MatrixType::Q8_0) == sizeof(BlockQ8_0) &&
              quant_block_bytes(MatrixType::Q5_0) == sizeof(BlockQ5_0) &&
              quant_block_bytes(MatrixType::Q5_1) == sizeof(BlockQ5_1) &&
              quant_block_bytes(MatrixType::Q4_0) == sizeof(BlockQ4_0) &&
              quant_block_bytes(MatrixType::Q4_1) == sizeof(BlockQ4_1) && kMatrixQuantBlock == kQuantBlock);

const char* matrix_type_name(MatrixType type) {
  switch (type) {
    case MatrixType::F32: return "f32";
    case MatrixType::F16: return "f16";
    case MatrixType::BF16: return "bf16";
    case MatrixType::Q8_0: return "q8_0";
    case MatrixType::Q5_0: return "q5_0";
    case MatrixType::Q5_1: return "q5_1";
    case MatrixType::Q4_0: return "q4_0";
    case MatrixType::Q4_1: return "q4_1";
    case MatrixType::Q5_0R: return "q5_0r";
    case MatrixType::Q8_0R: return "q8_0r";
  }
  return "?";
}

void WeightMatrix::rows_to_f32(int row_begin, int row_end, float* dst) const {
  const size_t offset = static_cast<size_t>(row_begin) * cols;
  const size_t n = static_cast<size_t>(row_end - row_begin) * cols;
  const uint8_t* rows_data = row_data(row_begin);
  const auto count = static_cast<int64_t>(n);
  switch (type) {
    case MatrixType::F32: std::memcpy(dst, static_cast<const float*>(data) + offset, n * sizeof(float)); break;
    case MatrixType::F16: convert_f16_to_f32(half_data() + offset, dst, n); break;
    case MatrixType::BF16: convert_bf16_to_f32(half_data() + offset, dst, n); break;
    // Rows are whole blocks, so consecutive rows are one run of blocks.
    case MatrixType::Q8_0: dequantize_row_q8_0(reinterpret_cast<const BlockQ8_0*>(rows_data), dst, count); break;
    case MatrixType::Q5_0: dequantize_row_q5_0(reinterpret_cast<const BlockQ5_0*>(rows_data), dst, count); break;
    case MatrixType::Q5_1: dequantize_row_q5_1(reinterpret_cast<const BlockQ5_1*>(rows_data), dst, count); break;
    case MatrixType::Q4_0: dequantize_row_q4_0(reinterpret_cast<const BlockQ4_0*>(rows_data), dst, count); break;
    case MatrixType::Q4_1: dequantize_row_q4_1(reinterpret_cast<const BlockQ4_1*>(rows_data), dst, count); break;
    case MatrixType::Q5_0R:
      for (int r = row_begin; r < row_end; ++r) {
        q5_0r_row_to_f32(row_data(r), cols, dst + static_cast<size_t>(r - row_begin) * cols);
      }
      break;
    case MatrixType::Q8_0R:
      for (int r = row_begin; r < row_end; ++r) {
        q8_0r_row_to_f32(row_data(r), cols, dst + static_cast<size_t>(r - row_begin) * cols);
      }
      break;
  }
}

std::vector<float> WeightMatrix::to_f32() const {
  std::vector<float> out(static_cast<size_t>(rows) * cols);
  if (data) rows_to_f32(0, rows, out.data());
  return out;
}

}  // namespace wisp
