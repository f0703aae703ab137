// A row-major weight matrix [rows][cols] in the precision the model file stores: f32, f16, bf16,
// or one of ggml's 32-value block-quantized formats (q8_0, q5_0, q5_1, q4_0, q4_1, laid out as
// src/model/ggml_quant.h describes). Kernels read it in place and widen to f32 on the fly, so
// smaller types move fewer bytes at decode (which is memory bound). Two types are wisp's own:
// q5_0r and q8_0r, q5_0's and q8_0's blocks regrouped within each row at load for the int8
// decode kernels (kernels/q5_0r.h, kernels/q8_0r.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace wisp {

enum class MatrixType { F32, F16, BF16, Q8_0, Q5_0, Q5_1, Q4_0, Q4_1, Q5_0R, Q8_0R };

inline constexpr int kMatrixQuantBlock = 32;  // values per block of every quantized type

constexpr bool is_quantized(MatrixType type) { return type >= MatrixType::Q8_0; }

// Bytes of one quantized block (32 values); 0 for the float types.
constexpr size_t quant_block_bytes(MatrixType type) {
  switch (type) {
    case MatrixType::Q8_0:
    case MatrixType::Q8_0R: return 34;
    case MatrixType::Q5_0:
    case MatrixType::Q5_0R: return 22;
    case MatrixType::Q5_1: return 24;
    case MatrixType::Q4_0: return 18;
    case MatrixType::Q4_1: return 20;
    case MatrixType::F32:
    case MatrixType::F16:
    case MatrixType::BF16: break;
  }
  return 0;
}

// Bytes of a row of `cols` values (cols a multiple of 32 for the quantized types).
constexpr size_t matrix_row_bytes(MatrixType type, int cols) {
  const size_t n = static_cast<size_t>(cols);
  if (is_quantized(type)) return n / kMatrixQuantBlock * quant_block_bytes(type);
  return n * (type == MatrixType::F32 ? 4 : 2);
}

const char* matrix_type_name(MatrixType type);

struct WeightMatrix {
  WeightMatrix() = default;
  WeightMatrix(const void* data_, MatrixType type_, int rows_, int cols_)
      : data(data_), type(type_), rows(rows_), cols(cols_), row_bytes(matrix_row_bytes(type_, cols_)) {}

  const void* data = nullptr;
  MatrixType type = MatrixType::F32;
  int rows = 0, cols = 0;
  size_t row_bytes = 0;  // stride between rows; quantized rows are cols/32 packed blocks
  // The rows sit on 2 MB pages (ModelWeights::place_decode_matrices): single-row products leave
  // the prefetching to the hardware.
  bool on_huge_pages = false;

  bool empty() const { return data == nullptr; }
  bool quantized() const { return is_quantized(type); }
  // Bytes per value of the float types (0 for block-quantized ones: use row_bytes).
  size_t element_size() const {
    return type == MatrixType::F32 ? 4 : (type == MatrixType::F16 || type == MatrixType::BF16) ? 2 : 0;
  }
  size_t bytes() const { return row_bytes * static_cast<size_t>(rows); }
  const float* f32_data() const { return type == MatrixType::F32 ? static_cast<const float*>(data) : nullptr; }
  const uint16_t* half_data() const {
    return type == MatrixType::F16 || type == MatrixType::BF16 ? static_cast<const uint16_t*>(data) : nullptr;
  }
  const uint8_t* row_data(int row) const { return static_cast<const uint8_t*>(data) + row_bytes * static_cast<size_t>(row); }

  // Rows [row_begin, row_end) widened (dequantized) to f32 into dst ([row_end-row_begin][cols]),
  // by the scalar reference converters.
  void rows_to_f32(int row_begin, int row_end, float* dst) const;
  // The whole matrix as f32 (a copy; for tools such as model conversion, not for compute).
  std::vector<float> to_f32() const;
};

}  // namespace wisp
