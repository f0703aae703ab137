// The integer product on block-quantized weights read in place (int16_gemm_blocks): slices
// unpacked and rounded per row and pass within half a step of the stored values (AVX2 identical
// to scalar), the product bit-identical between kernels and exact on the integers up to its f32
// scaling, linear() routing reduced-precision prompts to it, Int16Matrix keeping q8_0/q5_0/q4_0
// as stored, and the error for types it cannot read.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <string>
#include <vector>

#include "kernel_test_support.h"
#include "kernels/int16_gemm.h"
#include "kernels/int16_gemm_internal.h"
#include "kernels/ops.h"
#include "kernels/thread_pool.h"
#include "model/ggml_quant.h"
#include "wisp/error.h"

namespace wisp {
namespace {

using test::random_floats;

// The readable types and their encoders.
constexpr test::QuantCase kReadable[] = {{MatrixType::Q8_0, GgmlType::Q8_0},
                                          {MatrixType::Q5_0, GgmlType::Q5_0},
                                          {MatrixType::Q4_0, GgmlType::Q4_0}};

// n x k weights (Gaussian, scale 0.1) stored as `type`.
struct Stored {
  std::vector<unsigned char> bytes;
  WeightMatrix matrix;
};

Stored encode(test::QuantCase type, int n, int k, uint32_t seed) {
  const std::vector<float> w = random_floats(static_cast<size_t>(n) * k, 0.1f, seed);
  const size_t row_bytes = matrix_row_bytes(type.matrix, k);
  Stored s{std::vector<unsigned char>(row_bytes * n), {}};
  for (int j = 0; j < n; ++j) {
    ggml_encode(type.ggml, w.data() + static_cast<size_t>(j) * k, s.bytes.data() + row_bytes * j, k);
  }
  s.matrix = WeightMatrix(s.bytes.data(), type.matrix, n, k);
  return s;
}

int16_t step(int32_t word, int j) {
  const uint32_t w = static_cast<uint32_t>(word);
  return static_cast<int16_t>(j % 2 ? w >> 16 : w & 0xffff);
}

// A slice as the scalar kernel unpacks it.
struct Slice {
  std::vector<int32_t> words;
  std::vector<float> scales;
};

Slice unpack(const WeightMatrix& w, int j0, int b0, int nb, bool avx2 = false) {
  Slice s{std::vector<int32_t>(static_cast<size_t>(nb) * kInt16BlockPairs * kPanelWidth, -1),
          std::vector<float>(kPanelWidth, -1.0f)};
  (avx2 ? int16_unpack_blocks_avx2 : int16_unpack_blocks_scalar)(w, j0, b0, nb, s.words.data(), s.scales.data());
  return s;
}

TEST(Int16Blocks, UnpackRoundsEachRowWithinHalfAStep) {
  const int n = 21, k = 160;  // a partial second slice; 5 blocks
  for (test::QuantCase type : kReadable) {
    Stored s = encode(type, n, k, 3);
    // A row whose blocks differ in scale 1000-fold: its small blocks round to few levels, yet
    // within half a step; and a row of zeros.
    const size_t block_bytes = quant_block_bytes(type.matrix);
    const uint16_t small = fp32_to_fp16(1e-5f);
    std::memcpy(s.bytes.data() + s.matrix.row_bytes * 3 + block_bytes, &small, sizeof(small));
    const uint16_t zero = 0;
    for (int b = 0; b < k / kMatrixQuantBlock; ++b) {
      std::memcpy(s.bytes.data() + s.matrix.row_bytes * 4 + block_bytes * b, &zero, sizeof(zero));
    }
    const std::vector<float> values = s.matrix.to_f32();  // the reference dequantizer
    for (int j0 : {0, 16}) {
      for (int b0 : {0, 2}) {
        const int nb = k / kMatrixQuantBlock - b0;
        const Slice ref = unpack(s.matrix, j0, b0, nb);
        if (cpu_supports(Isa::Avx2)) {
          const Slice got = unpack(s.matrix, j0, b0, nb, /*avx2=*/true);
          ASSERT_EQ(got.words, ref.words) << matrix_type_name(type.matrix) << " j0=" << j0 << " b0=" << b0;
          ASSERT_EQ(got.scales, ref.scales) << matrix_type_name(type.matrix) << " j0=" << j0 << " b0=" << b0;
        }
        for (int r = 0; r < kPanelWidth; ++r) {
          const float scale = ref.scales[r];
          int largest = 0;
          for (int kk = 0; kk < nb * kMatrixQuantBlock; ++kk) {
            const int q = step(ref.words[static_cast<size_t>(kk / 2) * kPanelWidth + r], kk);
            largest = std::max(largest, std::abs(q));
            if (j0 + r >= n) {
              ASSERT_EQ(q, 0);
              continue;
            }
            const float value = values[static_cast<size_t>(j0 + r) * k + b0 * kMatrixQuantBlock + kk];
            ASSERT_LE(std::abs(q * static_cast<double>(scale) - value), 0.5001 * scale)
                << matrix_type_name(type.matrix) << " row " << j0 + r << " depth " << kk;
          }
          if (j0 + r >= n || j0 + r == 4) {
            EXPECT_EQ(scale, 0.0f) << "row " << j0 + r;
            EXPECT_EQ(largest, 0) << "row " << j0 + r;
          } else {
            // The largest block spans the levels: at least half of them are used.
            EXPECT_LE(largest, kInt16Levels);
            EXPECT_GE(largest, kInt16Levels / 2) << matrix_type_name(type.matrix) << " row " << j0 + r;
          }
        }
      }
    }
  }
}

class Int16BlocksKernels : public test::RestoresIsaAndThreads {};

TEST_F(Int16BlocksKernels, AgreeBitForBitAndAreExactOnTheIntegers) {
  const int ms[] = {1, 5, 6, 7, 13, 96, 103, 300};  // 300: two row blocks of the kernel
  const int ns[] = {1, 15, 16, 17, 40};
  const int ks[] = {32, 64, 512, 544, 1056};  // 512: one depth pass
  uint32_t seed = 10;
  for (test::QuantCase type : kReadable) {
    for (int m : ms) {
      for (int n : ns) {
        for (int k : ks) {
          if (m > kInt16BlocksRowBlock && (k > 544 || n < 16)) continue;  // the row blocks: a few shapes suffice
          const size_t lda = static_cast<size_t>(k) + 3, ldc = static_cast<size_t>(n) + 5;
          const std::vector<float> a = random_floats(m * lda, 1.0f, ++seed);
          const Stored s = encode(type, n, k, ++seed);
          const std::vector<float> values = s.matrix.to_f32();
          std::vector<int32_t> tiles(int16_group_words(m, k, kInt16TileRows));
          std::vector<float> a_scales(m);
          int16_quantize_rows(PanelKernel::Scalar, m, k, a.data(), lda, kInt16TileRows, tiles.data(), a_scales.data());
          // The weights as the product sees them: every slice and pass, unpacked.
          const int n_blocks = k / kMatrixQuantBlock;
          std::vector<double> weights(static_cast<size_t>(n) * k);
          for (int j0 = 0; j0 < n; j0 += kPanelWidth) {
            for (int b0 = 0; b0 < n_blocks; b0 += kInt16PassBlocks) {
              const int nb = std::min(kInt16PassBlocks, n_blocks - b0);
              const Slice slice = unpack(s.matrix, j0, b0, nb);
              for (int j = j0; j < std::min(n, j0 + kPanelWidth); ++j) {
                for (int kk = 0; kk < nb * kMatrixQuantBlock; ++kk) {
                  weights[static_cast<size_t>(j) * k + b0 * kMatrixQuantBlock + kk] =
                      step(slice.words[static_cast<size_t>(kk / 2) * kPanelWidth + (j - j0)], kk) *
                      static_cast<double>(slice.scales[j - j0]);
                }
              }
            }
          }
          const std::vector<float> c0 = random_floats(m * ldc, 1.0f, ++seed);
          for (bool accumulate : {false, true}) {
            std::vector<std::vector<float>> results;
            for (const test::PanelVariant& v : test::panel_variants()) {
              force_isa(v.isa);
              std::vector<float> c = c0;
              int16_gemm_blocks(v.kernel, m, n, tiles.data(), a_scales.data(), s.matrix, c.data(), ldc, accumulate);
              results.push_back(c);
            }
            const std::vector<float>& c = results[0];
            for (size_t r = 1; r < results.size(); ++r) {
              ASSERT_EQ(results[r], c) << "variant " << r << " differs from scalar: " << matrix_type_name(type.matrix) << " m=" << m
                                       << " n=" << n << " k=" << k;
            }
            const size_t k2 = static_cast<size_t>(k) / 2;
            for (int i = 0; i < m; ++i) {
              for (int j = 0; j < static_cast<int>(ldc); ++j) {
                const size_t at = i * ldc + j;
                if (j >= n) {  // outside the product: untouched
                  ASSERT_EQ(c[at], c0[at]);
                  continue;
                }
                // The rounded operands in double: only the f32 scaling and pass sums round. And
                // against the stored weights, within half a step of each operand.
                double exact = 0.0, magnitude = 0.0, stored = 0.0, bound = 0.0;
                for (int kk = 0; kk < k; ++kk) {
                  const int32_t word = tiles[(i / kInt16TileRows) * kInt16TileRows * k2 + (kk / 2) * kInt16TileRows +
                                             i % kInt16TileRows];
                  const double x = static_cast<double>(step(word, kk)) * a_scales[i];
                  const double y = weights[static_cast<size_t>(j) * k + kk];
                  exact += x * y;
                  magnitude += std::abs(x * y);
                  const double v = values[static_cast<size_t>(j) * k + kk];
                  stored += a[i * lda + kk] * v;
                  bound += std::abs(a[i * lda + kk]) * std::abs(y - v) + std::abs(v) * a_scales[i] / 2.0;
                }
                const double old = accumulate ? c0[at] : 0.0;
                ASSERT_NEAR(c[at], old + exact, 4e-7 * (magnitude + std::abs(old)) + 1e-30)
                    << matrix_type_name(type.matrix) << " m=" << m << " n=" << n << " k=" << k;
                ASSERT_NEAR(c[at] - old, stored, bound * 1.001 + 1e-6 * magnitude);
              }
            }
          }
        }
      }
    }
  }
}

TEST(Int16Blocks, RejectsTypesItCannotReadInPlace) {
  const Stored s = encode({MatrixType::Q4_1, GgmlType::Q4_1}, 16, 64, 1);
  std::vector<int32_t> tiles(int16_group_words(6, 64, kInt16TileRows), 0);
  std::vector<float> scales(6, 1.0f), c(6 * 16);
  EXPECT_FALSE(int16_block_readable(MatrixType::Q4_1));
  EXPECT_FALSE(int16_block_readable(MatrixType::Q5_1));
  EXPECT_FALSE(int16_block_readable(MatrixType::F16));
  try {
    int16_gemm_blocks(PanelKernel::Scalar, 6, 16, tiles.data(), scales.data(), s.matrix, c.data(), 16, false);
    FAIL() << "q4_1 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not q4_1"), std::string::npos) << e.what();
  }
}

class LinearInt16Blocks : public test::RestoresIsaAndThreads {};

TEST_F(LinearInt16Blocks, EpiloguesMatchLinearOnTheDequantizedWeights) {
  const int in = 192, out = 72;
  const std::vector<float> bias = random_floats(out, 1.0f, 4);
  for (test::QuantCase type : kReadable) {
    const Stored s = encode(type, out, in, 3);
    const std::vector<float> values = s.matrix.to_f32();
    const WeightMatrix dequantized(values.data(), MatrixType::F32, out, in);
    const Int16Matrix kept(s.matrix);
    EXPECT_TRUE(kept.reads_stored());
    EXPECT_EQ(kept.bytes(), 0u);
    for (int threads : {1, 3}) {
      set_compute_threads(threads);
      for (int rows : {1, 17, 300}) {
        const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in, 1.0f, 5 + rows);
        const std::vector<float> y0 = random_floats(static_cast<size_t>(rows) * out, 1.0f, 6 + rows);
        for (Epilogue epilogue : {Epilogue::Store, Epilogue::Gelu, Epilogue::Accumulate}) {
          for (const float* b : {static_cast<const float*>(nullptr), bias.data()}) {
            std::vector<float> got = y0, expected = y0, via_matrix = y0;
            linear_int16_blocks(x.data(), rows, s.matrix, b, got.data(), epilogue);
            linear_int16(x.data(), rows, kept, b, via_matrix.data(), epilogue);
            linear(x.data(), rows, in, dequantized, b, out, expected.data(), epilogue);
            ASSERT_EQ(via_matrix, got);
            // 12-bit rounding of both operands: ~5e-4 on Gaussian rows; a wrong layout or scale
            // gives O(1).
            EXPECT_LT(test::relative_error(got, expected), 2e-3)
                << matrix_type_name(type.matrix) << " rows=" << rows << " epilogue=" << static_cast<int>(epilogue);
          }
        }
      }
    }
  }
}

TEST_F(LinearInt16Blocks, ReducedPrecisionPromptsRunOnItOnAvx2) {
  if (!cpu_supports(Isa::Avx2)) GTEST_SKIP() << "no AVX2";
  force_isa(Isa::Avx2);
  const int in = 128, out = 48, rows = 40;
  const Stored s = encode({MatrixType::Q8_0, GgmlType::Q8_0}, out, in, 7);
  const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in, 1.0f, 8);
  std::vector<float> reduced(static_cast<size_t>(rows) * out), exact(reduced.size()), blocks(reduced.size());
  linear(x.data(), rows, in, s.matrix, nullptr, out, reduced.data(), Epilogue::Store, Precision::Reduced);
  linear(x.data(), rows, in, s.matrix, nullptr, out, exact.data(), Epilogue::Store, Precision::Exact);
  linear_int16_blocks(x.data(), rows, s.matrix, nullptr, blocks.data());
  EXPECT_EQ(reduced, blocks);
  EXPECT_NE(exact, blocks);  // exact products keep f32 activations
}

}  // namespace
}  // namespace wisp
