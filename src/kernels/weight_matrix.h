// A row-major weight matrix [rows][cols] in the precision the model file stores (f32, f16 or
// bf16). Kernels read it in place and widen to f32 on the fly, so f16/bf16 models move half the
// bytes of f32 ones at decode (which is memory bound).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace wisp {

enum class MatrixType { F32, F16, BF16 };

struct WeightMatrix {
  WeightMatrix() = default;
  WeightMatrix(const void* data_, MatrixType type_, int rows_, int cols_)
      : data(data_), type(type_), rows(rows_), cols(cols_) {}

  const void* data = nullptr;
  MatrixType type = MatrixType::F32;
  int rows = 0, cols = 0;

  bool empty() const { return data == nullptr; }
  size_t element_size() const { return type == MatrixType::F32 ? 4 : 2; }
  const float* f32_data() const { return type == MatrixType::F32 ? static_cast<const float*>(data) : nullptr; }
  const uint16_t* half_data() const { return type == MatrixType::F32 ? nullptr : static_cast<const uint16_t*>(data); }

  // Rows [row_begin, row_end) widened to f32 into dst ([row_end-row_begin][cols]).
  void rows_to_f32(int row_begin, int row_end, float* dst) const;
  // The whole matrix as f32 (a copy; for tools such as model conversion, not for compute).
  std::vector<float> to_f32() const;
};

}  // namespace wisp
