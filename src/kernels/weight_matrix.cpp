#include "kernels/weight_matrix.h"

#include <cstring>

#include "kernels/convert.h"

namespace wisp {

void WeightMatrix::rows_to_f32(int row_begin, int row_end, float* dst) const {
  const size_t offset = static_cast<size_t>(row_begin) * cols;
  const size_t n = static_cast<size_t>(row_end - row_begin) * cols;
  switch (type) {
    case MatrixType::F32: std::memcpy(dst, static_cast<const float*>(data) + offset, n * sizeof(float)); break;
    case MatrixType::F16: convert_f16_to_f32(half_data() + offset, dst, n); break;
    case MatrixType::BF16: convert_bf16_to_f32(half_data() + offset, dst, n); break;
  }
}

std::vector<float> WeightMatrix::to_f32() const {
  std::vector<float> out(static_cast<size_t>(rows) * cols);
  if (data) rows_to_f32(0, rows, out.data());
  return out;
}

}  // namespace wisp
