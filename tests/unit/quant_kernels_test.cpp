// The block-quantized weight kernels (q8_0, q5_0, q5_1, q4_0, q4_1) of every kernel table this CPU
// runs against ggml's reference dequantizers (model/ggml_quant.h): rows_to_f32 bit-equal, gemv
// equal to a double-precision dot with the dequantized weights; and linear() on quantized weights.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernel_test_support.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "kernels/ops.h"
#include "kernels/thread_pool.h"
#include "model/ggml_quant.h"

namespace wisp {
namespace {

using test::QuantCase;
using test::kQuantTypes;

using test::random_floats;

std::vector<Isa> all_isas() {
  std::vector<Isa> isas = {Isa::Scalar};
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (cpu_supports(isa)) isas.push_back(isa);
  }
  return isas;
}

// A [rows][cols] matrix quantized by the reference quantizer, stored at an odd byte offset (as
// tensors sit in a ggml file) so that no kernel may assume alignment.
struct QuantMatrix {
  QuantMatrix(const QuantCase& q, int rows, int cols, uint32_t seed)
      : bytes(1 + ggml_row_bytes(q.ggml, cols) * static_cast<size_t>(rows)) {
    std::vector<float> values = random_floats(static_cast<size_t>(rows) * cols, 0.1f, seed);
    values[3] = 0.0f;  // include an all-equal block: zero scale in the _0 types
    for (int i = 0; i < 32; ++i) values[static_cast<size_t>(i)] = 0.25f;
    ggml_encode(q.ggml, values.data(), bytes.data() + 1, static_cast<int64_t>(values.size()));
    matrix = WeightMatrix(bytes.data() + 1, q.matrix, rows, cols);
    dequantized.resize(values.size());
    ggml_decode(q.ggml, bytes.data() + 1, dequantized.data(), static_cast<int64_t>(values.size()));
  }
  std::vector<uint8_t> bytes;
  WeightMatrix matrix;
  std::vector<float> dequantized;  // by the reference dequantizer
};

TEST(QuantMatrixTest, RowBytesAndTypes) {
  EXPECT_EQ(matrix_row_bytes(MatrixType::Q8_0, 64), 68u);
  EXPECT_EQ(matrix_row_bytes(MatrixType::Q4_0, 384), 12u * 18u);
  EXPECT_EQ(matrix_row_bytes(MatrixType::F16, 10), 20u);
  const WeightMatrix w(nullptr, MatrixType::Q5_1, 3, 96);
  EXPECT_TRUE(w.quantized());
  EXPECT_EQ(w.row_bytes, 72u);
  EXPECT_EQ(w.bytes(), 216u);
  EXPECT_EQ(w.half_data(), nullptr);
  for (const QuantCase& q : kQuantTypes) {
    EXPECT_EQ(matrix_row_bytes(q.matrix, 32), ggml_row_bytes(q.ggml, 32)) << matrix_type_name(q.matrix);
  }
}

TEST(QuantKernelsTest, RowsToF32EqualsReferenceDequantizer) {
  for (const QuantCase& q : kQuantTypes) {
    const int rows = 7, cols = 96;
    const QuantMatrix m(q, rows, cols, 11);
    EXPECT_EQ(m.matrix.to_f32(), m.dequantized) << matrix_type_name(q.matrix);
    for (Isa isa : all_isas()) {
      std::vector<float> got(static_cast<size_t>(rows - 2) * cols, -1.0f);
      kernel_table(isa).rows_to_f32(m.matrix, 1, rows - 1, got.data());
      for (size_t i = 0; i < got.size(); ++i) {
        // Bit-equal: the kernels compute q*d (and fma(q, d, m)) exactly as the reference does.
        ASSERT_EQ(got[i], m.dequantized[static_cast<size_t>(cols) + i])
            << matrix_type_name(q.matrix) << " " << isa_name(isa) << " value " << i;
      }
    }
  }
}

TEST(QuantKernelsTest, GemvMatchesDequantizedDoubleDot) {
  for (const QuantCase& q : kQuantTypes) {
    for (int k : {32, 96, 384}) {
      const int n = 23;  // output columns: blocks of 4 and 2 plus tails
      const QuantMatrix m(q, n, k, static_cast<uint32_t>(k));
      const std::vector<float> bias = random_floats(n, 1.0f, 3);
      for (int rows = 1; rows <= 7; ++rows) {
        const int ldx = k + 5, ldy = n + 2;
        const std::vector<float> x = random_floats(static_cast<size_t>(rows) * ldx, 1.0f, rows);
        for (int variant = 0; variant < 3; ++variant) {
          const bool accumulate = variant == 1;
          const float* b = variant == 2 ? nullptr : bias.data();
          const int col_begin = 3, col_end = n - 1;  // not multiples of 4
          std::vector<float> expected(static_cast<size_t>(rows) * ldy, -7.0f);
          for (int r = 0; r < rows; ++r) {
            for (int j = col_begin; j < col_end; ++j) {
              double s = 0.0;
              for (int i = 0; i < k; ++i) {
                s += static_cast<double>(x[static_cast<size_t>(r) * ldx + i]) *
                     m.dequantized[static_cast<size_t>(j) * k + i];
              }
              float& e = expected[static_cast<size_t>(r) * ldy + j];
              e = (accumulate ? e : 0.0f) + static_cast<float>(s) + (b ? b[j] : 0.0f);
            }
          }
          for (Isa isa : all_isas()) {
            std::vector<float> got(expected.size(), -7.0f);
            kernel_table(isa).gemv(x.data(), rows, ldx, m.matrix, col_begin, col_end, b, accumulate, got.data(), ldy);
            for (size_t i = 0; i < got.size(); ++i) {
              const double tol = 1e-5 * (1.0 + std::abs(static_cast<double>(expected[i])));
              ASSERT_NEAR(got[i], expected[i], tol) << matrix_type_name(q.matrix) << " " << isa_name(isa) << " k " << k
                                                    << " rows " << rows << " variant " << variant << " at " << i;
            }
          }
        }
      }
    }
  }
}

class QuantLinearTest : public test::RestoresIsaAndThreads {};

// linear() on a quantized matrix equals linear() on its exact f32 dequantization, bit for bit:
// the gemv kernels sum in the same order, and the sgemm path widens to the same values.
TEST_F(QuantLinearTest, EqualsLinearOnDequantizedWeights) {
  const int in = 96, out = 45;
  for (const QuantCase& q : kQuantTypes) {
    const QuantMatrix m(q, out, in, 5);
    const WeightMatrix f32(m.dequantized.data(), MatrixType::F32, out, in);
    const std::vector<float> bias = random_floats(out, 1.0f, 6);
    for (Isa isa : all_isas()) {
      force_isa(isa);
      set_compute_threads(2);
      for (int rows : {1, 5, 16, 17, 300}) {
        const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in, 1.0f, rows);
        std::vector<float> got(static_cast<size_t>(rows) * out), expected(got.size());
        linear(x.data(), rows, in, m.matrix, bias.data(), out, got.data(), Epilogue::Gelu);
        linear(x.data(), rows, in, f32, bias.data(), out, expected.data(), Epilogue::Gelu);
        if (rows <= 16) {  // decode-sized: the same gemv on both, hence the same bits
          EXPECT_EQ(got, expected) << matrix_type_name(q.matrix) << " " << isa_name(isa) << " rows " << rows;
          continue;
        }
        // Many rows: quantized weights are widened for sgemm, while f32 ones on AVX2-only CPUs
        // run the panel product, which sums in another order.
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_NEAR(got[i], expected[i], 1e-5 * (1 + std::abs(expected[i])))
              << matrix_type_name(q.matrix) << " " << isa_name(isa) << " rows " << rows << " at " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace wisp
