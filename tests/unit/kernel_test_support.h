// Helpers shared by the kernel unit tests: reproducible random data and a fixture that puts the
// instruction set and thread count back after each test.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/convert.h"
#include "kernels/cpu_features.h"
#include "kernels/panel_gemm.h"
#include "kernels/q5_0r.h"
#include "kernels/q8_0r.h"
#include "kernels/thread_pool.h"
#include "kernels/weight_matrix.h"
#include "model/ggml_quant.h"

namespace wisp::test {

inline std::vector<float> random_floats(size_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// ||got - expected|| / ||expected|| (root of the summed squares, in double).
inline double relative_error(const std::vector<float>& got, const std::vector<float>& expected) {
  double error = 0.0, norm = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    error += (got[i] - expected[i]) * static_cast<double>(got[i] - expected[i]);
    norm += expected[i] * static_cast<double>(expected[i]);
  }
  return std::sqrt(error / norm);
}

// v rounded to IEEE half (round to nearest even).
inline std::vector<uint16_t> to_f16(const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  convert_f32_to_f16(v.data(), h.data(), v.size());
  return h;
}

// The block-quantized types, as the kernels and as ggml's reference quantizers name them.
struct QuantCase {
  MatrixType matrix;
  GgmlType ggml;
};

inline constexpr QuantCase kQuantTypes[] = {{MatrixType::Q8_0, GgmlType::Q8_0},
                                            {MatrixType::Q5_0, GgmlType::Q5_0},
                                            {MatrixType::Q5_1, GgmlType::Q5_1},
                                            {MatrixType::Q4_0, GgmlType::Q4_0},
                                            {MatrixType::Q4_1, GgmlType::Q4_1}};

// q5_0's and q8_0's blocks regrouped for the int8 decode kernels (kernels/q5_0r.h,
// kernels/q8_0r.h): ggml's encoding, then each row regrouped; rows of an even block count only.
inline constexpr QuantCase kQ5_0rCase{MatrixType::Q5_0R, GgmlType::Q5_0};
inline constexpr QuantCase kQ8_0rCase{MatrixType::Q8_0R, GgmlType::Q8_0};

inline constexpr bool is_regrouped(MatrixType type) { return type == MatrixType::Q5_0R || type == MatrixType::Q8_0R; }

// One row of n_blocks ggml blocks regrouped as `type` (a regrouped type).
inline void regroup_row(MatrixType type, const uint8_t* stored, int n_blocks, uint8_t* dst) {
  (type == MatrixType::Q5_0R ? q5_0r_regroup_row : q8_0r_regroup_row)(stored, n_blocks, dst);
}

// `values` [rows][cols] encoded as `type` into dst (matrix_row_bytes per row).
inline void encode_matrix(const QuantCase& type, const float* values, int rows, int cols, uint8_t* dst) {
  const size_t n = static_cast<size_t>(rows) * cols;
  if (!is_regrouped(type.matrix)) {
    ggml_encode(type.ggml, values, dst, static_cast<int64_t>(n));
    return;
  }
  const size_t row_bytes = matrix_row_bytes(type.matrix, cols);
  std::vector<uint8_t> stored(row_bytes * rows);
  ggml_encode(type.ggml, values, stored.data(), static_cast<int64_t>(n));
  for (int r = 0; r < rows; ++r) regroup_row(type.matrix, stored.data() + row_bytes * r, cols / 32, dst + row_bytes * r);
}

// The panel kernels to compare, each with the instruction set to run it under: the AVX2 one
// also under AVX-512 where the CPU has AVX512-VNNI (its integer tiles then use vpdpwssd).
struct PanelVariant {
  PanelKernel kernel;
  Isa isa;
};
inline std::vector<PanelVariant> panel_variants() {
  std::vector<PanelVariant> variants{{PanelKernel::Scalar, Isa::Scalar}};
  if (cpu_supports(Isa::Avx2)) variants.push_back({PanelKernel::Avx2, Isa::Avx2});
  if (cpu_supports(Isa::Avx512) && cpu_has_avx512_vnni()) variants.push_back({PanelKernel::Avx2, Isa::Avx512});
  return variants;
}

class RestoresIsaAndThreads : public ::testing::Test {
 protected:
  void TearDown() override {
    force_isa(saved_isa_);
    set_compute_threads(saved_threads_);
  }
  Isa saved_isa_ = active_isa();
  int saved_threads_ = compute_threads();
};

}  // namespace wisp::test
