// The int8 decode path (kernels/quant_dot.h): activation quantization (the documented rule, the
// SIMD quantizer byte-equal to the scalar one), every int8 kernel this CPU runs against a
// double-precision evaluation of the same integer math for all five block types and the regrouped
// q5_0r and q8_0r, the error
// against the exact f32 product, and linear()'s dispatch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernel_test_support.h"
#include "kernels/ops.h"
#include "kernels/quant_dot.h"
#include "kernels/quant_dot_internal.h"
#include "model/ggml_quant.h"

namespace wisp {
namespace {

using test::random_floats;

using test::QuantCase;
using test::kQuantTypes;

// The five ggml types, q5_0r and q8_0r.
const std::vector<QuantCase> kInt8Types = [] {
  std::vector<QuantCase> types(std::begin(kQuantTypes), std::end(kQuantTypes));
  types.push_back(test::kQ5_0rCase);
  types.push_back(test::kQ8_0rCase);
  return types;
}();

std::vector<Int8Kernel> supported_kernels() {
  std::vector<Int8Kernel> kernels;
  for (Int8Kernel k : {Int8Kernel::Scalar, Int8Kernel::Avx2, Int8Kernel::Vnni, Int8Kernel::Avx512}) {
    if (cpu_supports_int8_kernel(k)) kernels.push_back(k);
  }
  return kernels;
}

// A [rows][cols] matrix quantized by the reference quantizer, stored at an odd byte offset (as in
// a memory-mapped ggml file), with an all-zero first block (d = 0).
struct QuantMatrix {
  QuantMatrix(const QuantCase& q, int rows, int cols, uint32_t seed)
      : type(q), bytes(1 + ggml_row_bytes(q.ggml, cols) * static_cast<size_t>(rows)) {
    std::vector<float> values = random_floats(static_cast<size_t>(rows) * cols, 0.1f, seed);
    std::fill(values.begin(), values.begin() + 32, 0.0f);
    test::encode_matrix(q, values.data(), rows, cols, bytes.data() + 1);
    matrix = WeightMatrix(bytes.data() + 1, q.matrix, rows, cols);
    // ggml's own encoding decoded (the regrouped types hold the same blocks).
    std::vector<uint8_t> ggml(ggml_row_bytes(q.ggml, cols) * static_cast<size_t>(rows));
    ggml_encode(q.ggml, values.data(), ggml.data(), static_cast<int64_t>(values.size()));
    dequantized.resize(values.size());
    ggml_decode(q.ggml, ggml.data(), dequantized.data(), static_cast<int64_t>(values.size()));
  }
  // The block minimum m of the _1 types (0 for the others).
  double minimum(int row, int block) const {
    if (type.matrix != MatrixType::Q4_1 && type.matrix != MatrixType::Q5_1) return 0.0;
    uint16_t m;
    std::memcpy(&m, matrix.row_data(row) + static_cast<size_t>(block) * quant_block_bytes(type.matrix) + 2, 2);
    return fp16_to_fp32(m);
  }
  QuantCase type;
  std::vector<uint8_t> bytes;
  WeightMatrix matrix;
  std::vector<float> dequantized;
};

// Activations with a zero block (row 0, block 1) where there is one.
std::vector<float> activations(int rows, int in, uint32_t seed) {
  std::vector<float> x = random_floats(static_cast<size_t>(rows) * in, 1.0f, seed);
  if (in >= 64) std::fill(x.begin() + 32, x.begin() + 64, 0.0f);
  return x;
}

// The quantized activations as values d * q (what the integer math multiplies the weights by).
std::vector<double> quantized_values(const float* x, int rows, int in) {
  const Int8Rows q = quantize_activations(Int8Kernel::Scalar, x, rows, in, MatrixType::Q8_0);
  std::vector<double> v(static_cast<size_t>(rows) * in);
  for (int r = 0; r < rows; ++r) {
    for (int i = 0; i < in; ++i) {
      const double d = q.scales(r)[static_cast<size_t>(i / 32) * kInt8Lanes];
      v[static_cast<size_t>(r) * in + i] = d * q.values(r)[i];
    }
  }
  return v;
}

double gelu(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

TEST(QuantDotActivations, FollowTheRoundingRule) {
  const int in = 96;
  std::vector<float> x = random_floats(in, 2.0f, 5);
  std::fill(x.begin() + 32, x.begin() + 64, 0.0f);  // d = 0: all zeros
  // Block 2: max |x| = 127 gives d = 1, so ties round to even: 2.5 -> 2, -3.5 -> -4.
  x[64] = 127.0f;
  x[65] = 2.5f;
  x[66] = -3.5f;
  const Int8Rows q = quantize_activations(Int8Kernel::Scalar, x.data(), 1, in, MatrixType::Q8_0);
  for (int b = 0; b < 3; ++b) {
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[32 * b + i]));
    const float d = q.scales(0)[b * kInt8Lanes];
    EXPECT_EQ(d, amax / 127.0f);
    for (int i = 0; i < 32; ++i) {
      const int v = q.values(0)[32 * b + i];
      EXPECT_LE(std::abs(v), 127);
      if (d == 0.0f) {
        EXPECT_EQ(v, 0);
      } else {
        EXPECT_LE(std::fabs(x[32 * b + i] - d * v), 0.5f * d * 1.0001f) << b << " " << i;
      }
    }
  }
  EXPECT_EQ(q.values(0)[65], 2);
  EXPECT_EQ(q.values(0)[66], -4);
}

TEST(QuantDotActivations, SimdQuantizerEqualsScalar) {
  if (!cpu_supports_int8_kernel(Int8Kernel::Avx2)) GTEST_SKIP() << "no AVX2";
  const int rows = 3, in = 160;
  std::vector<float> x = random_floats(static_cast<size_t>(rows) * in, 1.5f, 9);
  std::fill(x.begin() + 32, x.begin() + 64, 0.0f);
  for (Int8Terms terms : {Int8Terms{16, false}, Int8Terms{2, false}, Int8Terms{0, true}, Int8Terms{0, false, false, 16},
                          Int8Terms{16, false, true}}) {
    std::vector<uint8_t> scalar(rows * Int8Rows::row_bytes(in), 0), simd(scalar.size(), 0);
    Int8Rows a{rows, in / 32, Int8Rows::row_bytes(in), scalar.data()};
    Int8Rows b{rows, in / 32, Int8Rows::row_bytes(in), simd.data()};
    quantize_rows_scalar(x.data(), rows, in, terms, a);
    quantize_rows_avx2(x.data(), rows, in, terms, b);
    EXPECT_EQ(scalar, simd) << terms.offset_multiple << " " << terms.minimum;
  }
}

class QuantDotLinear : public test::RestoresIsaAndThreads {};

// Every kernel, type and epilogue against the double evaluation of the int8 math; rows 1..16
// (several passes and column tiles), odd block counts, bias null or not, two threads.
TEST_F(QuantDotLinear, MatchesIntegerMathForEveryKernelAndType) {
  set_compute_threads(2);
  struct Shape {
    int rows, in, out;
  };
  // Every row count on a small odd-block shape, then wider inputs, more columns and tiles.
  // Regrouped rows hold an even block count: every row count on 10 blocks (a group and a partial one),
  // then 6, 4 and 2 blocks (partial groups alone) and long rows.
  std::vector<Shape> shapes, regrouped_shapes;
  for (int rows = 1; rows <= kInt8MaxRows; ++rows) {
    shapes.push_back({rows, 96, 37});
    regrouped_shapes.push_back({rows, 320, 37});
  }
  for (Shape s : {Shape{2, 256, 53}, Shape{5, 160, 200}, Shape{8, 128, 17}, Shape{16, 2048, 45}, Shape{1, 2048, 150}}) {
    shapes.push_back(s);
  }
  for (Shape s : {Shape{2, 192, 53}, Shape{5, 128, 200}, Shape{1, 64, 17}, Shape{16, 2048, 45}, Shape{1, 2048, 150}}) {
    regrouped_shapes.push_back(s);
  }
  for (const QuantCase& type : kInt8Types) {
    for (const Shape& s : test::is_regrouped(type.matrix) ? regrouped_shapes : shapes) {
      const QuantMatrix w(type, s.out, s.in, 17 + s.in);
      const std::vector<float> x = activations(s.rows, s.in, 3 + s.rows);
      const std::vector<double> xq = quantized_values(x.data(), s.rows, s.in);
      const std::vector<float> bias = random_floats(s.out, 0.5f, 23);
      // Integer math in double, and the size of its terms (for the tolerance).
      std::vector<double> expected(static_cast<size_t>(s.rows) * s.out), magnitude(expected.size());
      for (int r = 0; r < s.rows; ++r) {
        for (int j = 0; j < s.out; ++j) {
          double sum = 0.0, size = 0.0;
          for (int i = 0; i < s.in; ++i) {
            const double wi = w.dequantized[static_cast<size_t>(j) * s.in + i];
            const double m = w.minimum(j, i / 32);
            const double xi = xq[static_cast<size_t>(r) * s.in + i];
            sum += wi * xi;
            size += (std::fabs(wi - m) + std::fabs(m)) * std::fabs(xi);
          }
          expected[static_cast<size_t>(r) * s.out + j] = sum;
          magnitude[static_cast<size_t>(r) * s.out + j] = size;
        }
      }
      const std::vector<float> y0 = random_floats(expected.size(), 1.0f, 31);
      for (Int8Kernel kernel : supported_kernels()) {
        for (Epilogue epilogue : {Epilogue::Store, Epilogue::Gelu, Epilogue::Accumulate}) {
          for (bool with_bias : {false, true}) {
            std::vector<float> y = y0;
            linear_quant_int8_with(kernel, x.data(), s.rows, s.in, w.matrix, with_bias ? bias.data() : nullptr, s.out,
                                   y.data(), epilogue);
            for (size_t k = 0; k < y.size(); ++k) {
              const int j = static_cast<int>(k % s.out);
              double z = expected[k] + (with_bias ? bias[j] : 0.0);
              double tolerance = 1e-5 * magnitude[k] + 1e-6;
              if (epilogue == Epilogue::Gelu) {
                z = gelu(z);
                tolerance = 1.2 * tolerance + 1e-6 * std::fabs(z);
              } else if (epilogue == Epilogue::Accumulate) {
                z += y0[k];
                tolerance += 1e-6 * std::fabs(z);
              }
              ASSERT_NEAR(y[k], z, tolerance)
                  << int8_kernel_name(kernel) << " " << matrix_type_name(type.matrix) << " rows " << s.rows << " in "
                  << s.in << " out " << s.out << " epilogue " << static_cast<int>(epilogue) << " bias " << with_bias
                  << " at " << k;
            }
          }
        }
      }
    }
  }
}

// A decode step must not depend on how its columns fall into tasks: the kernels group weight
// rows (4 side by side for q5/q4 with one activation row) inside each task's range, so the
// sums are checked bit for bit across thread counts, on a width with partial groups and tasks.
TEST_F(QuantDotLinear, ResultsDoNotDependOnTheThreadCount) {
  const int in = 512, out = 150;
  for (const QuantCase& type : kInt8Types) {
    const QuantMatrix w(type, out, in, 61);
    for (int rows : {1, 2, 5}) {
      const std::vector<float> x = activations(rows, in, 63 + rows);
      for (Int8Kernel kernel : supported_kernels()) {
        std::vector<float> one(static_cast<size_t>(rows) * out);
        set_compute_threads(1);
        linear_quant_int8_with(kernel, x.data(), rows, in, w.matrix, nullptr, out, one.data(), Epilogue::Store);
        for (int threads : {2, 3}) {
          std::vector<float> many(one.size());
          set_compute_threads(threads);
          linear_quant_int8_with(kernel, x.data(), rows, in, w.matrix, nullptr, out, many.data(), Epilogue::Store);
          EXPECT_EQ(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)), 0)
              << int8_kernel_name(kernel) << " " << matrix_type_name(type.matrix) << " rows " << rows << " threads "
              << threads;
        }
      }
    }
  }
}

// vpdpbusd forms the integer lane sums vpmaddubsw + vpmaddwd form, and everything after them is
// the same code: the VNNI kernel's outputs are the AVX2 kernel's bit for bit.
TEST_F(QuantDotLinear, VnniEqualsAvx2BitForBit) {
  if (!cpu_supports_int8_kernel(Int8Kernel::Vnni)) GTEST_SKIP() << "no AVX512-VNNI";
  set_compute_threads(2);
  for (const QuantCase& type : kInt8Types) {
    for (int in : {320, 2048}) {
      const int out = 45;
      const QuantMatrix w(type, out, in, 71 + in);
      // Extreme activations: every block holds +-127 and -128 can't occur, so the q8_0 sign
      // trick's largest pair (2 * 128 * 127) is met.
      for (int rows : {1, 3, 16}) {
        std::vector<float> x = activations(rows, in, 73 + rows);
        for (size_t i = 0; i < x.size(); i += 7) x[i] = i % 2 == 0 ? 4.0f : -4.0f;
        std::vector<float> avx2(static_cast<size_t>(rows) * out), vnni(avx2.size());
        linear_quant_int8_with(Int8Kernel::Avx2, x.data(), rows, in, w.matrix, nullptr, out, avx2.data(), Epilogue::Store);
        linear_quant_int8_with(Int8Kernel::Vnni, x.data(), rows, in, w.matrix, nullptr, out, vnni.data(), Epilogue::Store);
        EXPECT_EQ(std::memcmp(avx2.data(), vnni.data(), avx2.size() * sizeof(float)), 0)
            << matrix_type_name(type.matrix) << " in " << in << " rows " << rows;
      }
    }
  }
}

// Relative error (2-norm) of y against the exact product of the dequantized weights with x.
double error_vs_exact(const std::vector<float>& y, const QuantMatrix& w, const std::vector<float>& x, int rows,
                      int in, int out) {
  double error = 0.0, norm = 0.0;
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < out; ++j) {
      double exact = 0.0;
      for (int i = 0; i < in; ++i) {
        const size_t at = static_cast<size_t>(r) * in + i;
        exact += static_cast<double>(w.dequantized[static_cast<size_t>(j) * in + i]) * x[at];
      }
      const double e = y[static_cast<size_t>(r) * out + j] - exact;
      error += e * e;
      norm += exact * exact;
    }
  }
  return std::sqrt(error / norm);
}

// Rounding activations to int8 costs a relative error of order 1e-2 at most on random data; a
// kernel that loses one block in twelve (a broken tail, offset or scale) is far outside that.
TEST_F(QuantDotLinear, ErrorAgainstExactProductIsBounded) {
  constexpr double kBound = 2e-2;
  const int rows = 5, in = 384, out = 64;
  const std::vector<float> x = activations(rows, in, 41);
  std::vector<float> x_missing_block = x;
  for (int r = 0; r < rows; ++r) {
    std::fill_n(x_missing_block.begin() + static_cast<size_t>(r) * in + in - 32, 32, 0.0f);
  }
  for (const QuantCase& type : kInt8Types) {
    const QuantMatrix w(type, out, in, 43);
    for (Int8Kernel kernel : supported_kernels()) {
      std::vector<float> y(static_cast<size_t>(rows) * out), wrong(y.size());
      linear_quant_int8_with(kernel, x.data(), rows, in, w.matrix, nullptr, out, y.data(), Epilogue::Store);
      linear_quant_int8_with(kernel, x_missing_block.data(), rows, in, w.matrix, nullptr, out, wrong.data(),
                             Epilogue::Store);
      const double error = error_vs_exact(y, w, x, rows, in, out);
      EXPECT_LT(error, kBound) << int8_kernel_name(kernel) << " " << matrix_type_name(type.matrix);
      EXPECT_GT(error, 1e-5) << "activations not rounded to int8?";
      EXPECT_GT(error_vs_exact(wrong, w, x, rows, in, out), 3 * kBound) << "the bound would not catch a lost block";
    }
  }
}

TEST_F(QuantDotLinear, LinearDispatchesReducedDecodeStepsToIt) {
  const int in = 128, out = 48;
  const QuantMatrix w(kQuantTypes[0], out, in, 51);
  const std::vector<float> x = activations(4, in, 53);
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    force_isa(isa);
    std::vector<float> via_linear(static_cast<size_t>(4) * out), direct(via_linear.size());
    linear(x.data(), 4, in, w.matrix, nullptr, out, via_linear.data(), Epilogue::Store, Precision::Reduced);
    linear_quant_int8_with(int8_kernel_for(isa), x.data(), 4, in, w.matrix, nullptr, out, direct.data(),
                           Epilogue::Store);
    EXPECT_EQ(via_linear, direct) << isa_name(isa);
  }
  // Not for float weights, nor beyond 16 rows.
  const std::vector<uint16_t> half(static_cast<size_t>(out) * in, 0x3c00);
  std::vector<float> y(static_cast<size_t>(17) * out);
  EXPECT_FALSE(linear_quant_int8(x.data(), 1, in, WeightMatrix(half.data(), MatrixType::F16, out, in), nullptr, out,
                                 y.data(), Epilogue::Store));
  const std::vector<float> many = activations(17, in, 55);
  EXPECT_FALSE(linear_quant_int8(many.data(), 17, in, w.matrix, nullptr, out, y.data(), Epilogue::Store));
}

}  // namespace
}  // namespace wisp
