// The integer product (kernels/int16_gemm.h): activation rounding (AVX2 identical to scalar,
// within half a step, tiles laid out as documented), weight packing from every stored type, the
// AVX2 product bit-identical to the scalar one and exact on the rounded integers, sums at the
// overflow bound, non-finite rows, and linear_int16's epilogues against linear().
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernel_test_support.h"
#include "kernels/attention.h"
#include "kernels/int16_gemm.h"
#include "kernels/ops.h"
#include "kernels/thread_pool.h"
#include "model/ggml_quant.h"

namespace wisp {
namespace {

using test::random_floats;

std::vector<PanelKernel> available_kernels() {
  std::vector<PanelKernel> kernels{PanelKernel::Scalar};
  if (cpu_supports(Isa::Avx2)) kernels.push_back(PanelKernel::Avx2);
  return kernels;
}

// Depth step j of a packed word array: the low or high int16 of pair j / 2.
int16_t step(const int32_t* word, int j) {
  const uint32_t w = static_cast<uint32_t>(*word);
  return static_cast<int16_t>(j % 2 ? w >> 16 : w & 0xffff);
}

struct Tiles {
  int group = kInt16TileRows;
  std::vector<int32_t> words;
  std::vector<float> scales;
  // Integer of row i, depth j.
  int16_t at(int i, int j, int k) const {
    const size_t k2 = static_cast<size_t>((k + 1) / 2);
    return step(&words[(i / group) * group * k2 + (j / 2) * group + i % group], j);
  }
};

Tiles quantize(PanelKernel kernel, int m, int k, const float* a, size_t lda, int group = kInt16TileRows) {
  Tiles t{group, std::vector<int32_t>(int16_group_words(m, k, group), -1), std::vector<float>(m, -1.0f)};
  int16_quantize_rows(kernel, m, k, a, lda, group, t.words.data(), t.scales.data());
  return t;
}

TEST(Int16Quantize, KernelsAgreeAndRoundWithinHalfAStep) {
  uint32_t seed = 1;
  for (int group : {kInt16TileRows, kPanelWidth}) {
  for (int m : {1, 5, 6, 7, 13, 17, 33}) {
    for (int k : {1, 2, 15, 16, 17, 33, 600}) {
      const size_t lda = static_cast<size_t>(k) + 3;
      std::vector<float> a = random_floats(m * lda, 2.0f, ++seed);
      if (m > 2) std::fill_n(a.begin() + lda, k, 0.0f);  // a row of zeros
      const Tiles ref = quantize(PanelKernel::Scalar, m, k, a.data(), lda, group);
      for (PanelKernel kernel : available_kernels()) {
        const Tiles got = quantize(kernel, m, k, a.data(), lda, group);
        ASSERT_EQ(got.words, ref.words) << "m=" << m << " k=" << k << " group=" << group;
        ASSERT_EQ(got.scales, ref.scales) << "m=" << m << " k=" << k << " group=" << group;
      }
      const int m_padded = (m + group - 1) / group * group, k_padded = (k + 1) / 2 * 2;
      for (int i = 0; i < m_padded; ++i) {
        int largest = 0;
        for (int j = 0; j < k_padded; ++j) {
          const int q = ref.at(i, j, k);
          if (i >= m || j >= k) {
            ASSERT_EQ(q, 0) << "padding at " << i << "," << j;
            continue;
          }
          largest = std::max(largest, std::abs(q));
          const float scale = ref.scales[i];
          ASSERT_LE(std::abs(q * static_cast<double>(scale) - a[i * lda + j]), 0.5001 * scale)
              << "m=" << m << " k=" << k << " at " << i << "," << j;
        }
        if (i < m) {
          EXPECT_EQ(largest, m > 2 && i == 1 ? 0 : kInt16Levels) << "row " << i;
        }
      }
    }
  }
  }
}

TEST(Int16Quantize, ColumnsKernelsAgreeAndRoundPerColumn) {
  uint32_t seed = 50;
  for (int k : {1, 2, 7, 64, 1500}) {
    for (int n : {1, 16, 21, 64}) {
      const size_t ld = static_cast<size_t>(n) + 5;
      std::vector<float> src = random_floats(k * ld, 1.5f, ++seed);
      if (n > 3) {
        for (int kk = 0; kk < k; ++kk) src[kk * ld + 2] = 0.0f;  // a column of zeros
      }
      const int columns = (n + 15) / 16 * 16, k2 = (k + 1) / 2;
      std::vector<int32_t> ref(int16_group_words(n, k, kPanelWidth), -1);
      std::vector<float> ref_scales(columns, -1.0f);
      int16_quantize_columns(PanelKernel::Scalar, k, n, src.data(), ld, ref.data(), ref_scales.data());
      for (PanelKernel kernel : available_kernels()) {
        std::vector<int32_t> got(ref.size(), -2);
        std::vector<float> got_scales(columns, -2.0f);
        int16_quantize_columns(kernel, k, n, src.data(), ld, got.data(), got_scales.data());
        ASSERT_EQ(got, ref) << "k=" << k << " n=" << n;
        ASSERT_EQ(got_scales, ref_scales) << "k=" << k << " n=" << n;
      }
      for (int j = 0; j < columns; ++j) {
        int largest = 0;
        for (int kk = 0; kk < 2 * k2; ++kk) {
          const int q = step(&ref[(j / 16) * 16 * k2 + (kk / 2) * 16 + j % 16], kk);
          if (j >= n || kk >= k) {
            ASSERT_EQ(q, 0) << "padding at " << kk << "," << j;
            continue;
          }
          largest = std::max(largest, std::abs(q));
          ASSERT_LE(std::abs(q * static_cast<double>(ref_scales[j]) - src[kk * ld + j]), 0.5001 * ref_scales[j]);
        }
        if (j < n) {
          EXPECT_EQ(largest, n > 3 && j == 2 ? 0 : kInt16Levels) << "column " << j;
        } else {
          EXPECT_EQ(ref_scales[j], 0.0f);
        }
      }
    }
  }
}

TEST(Int16Matrix, PacksTypesNotReadInPlaceRoundedPerColumn) {
  const int n = 21, k = 64;  // a partial panel; k a multiple of the quantized block
  const std::vector<float> w = random_floats(static_cast<size_t>(n) * k, 0.1f, 3);
  // q8_0, q5_0 and q4_0 are read in place (int16_blocks_test.cpp).
  for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::Q5_1, GgmlType::Q4_1}) {
    const MatrixType matrix_type = type == GgmlType::F32   ? MatrixType::F32
                                   : type == GgmlType::F16 ? MatrixType::F16
                                   : type == GgmlType::Q5_1 ? MatrixType::Q5_1
                                                            : MatrixType::Q4_1;
    std::vector<unsigned char> stored(matrix_row_bytes(matrix_type, k) * n);
    for (int j = 0; j < n; ++j) {
      ggml_encode(type, w.data() + static_cast<size_t>(j) * k, stored.data() + matrix_row_bytes(matrix_type, k) * j, k);
    }
    const WeightMatrix weight(stored.data(), matrix_type, n, k);
    const std::vector<float> values = weight.to_f32();
    const Int16Matrix packed(weight);
    EXPECT_FALSE(packed.reads_stored());
    EXPECT_EQ(packed.bytes(), 32u * 32u * 4u + 32u * 4u);
    for (int j = 0; j < 32; ++j) {
      const float scale = packed.scales()[j];
      float max_abs = 0.0f;
      for (int kk = 0; kk < k && j < n; ++kk) max_abs = std::max(max_abs, std::abs(values[j * k + kk]));
      EXPECT_FLOAT_EQ(scale, max_abs / kInt16Levels) << "column " << j;
      for (int kk = 0; kk < k; ++kk) {
        const int32_t* word = packed.panels() + (j / 16) * 16 * (k / 2) + (kk / 2) * 16 + j % 16;
        const int q = step(word, kk);
        if (j >= n) {
          ASSERT_EQ(q, 0);
          continue;
        }
        ASSERT_LE(std::abs(q * static_cast<double>(scale) - values[j * k + kk]), 0.5001 * scale) << j << "," << kk;
      }
    }
  }
}

class Int16GemmKernels : public test::RestoresIsaAndThreads {};

TEST_F(Int16GemmKernels, AgreeBitForBitAndAreExactOnTheIntegers) {
  const int ms[] = {1, 5, 6, 7, 13, 96, 103};
  const int ns[] = {1, 15, 16, 17, 40};
  const int ks[] = {1, 7, 64, 511, 512, 513, 1100};  // 512: one depth pass
  uint32_t seed = 10;
  for (int m : ms) {
    for (int n : ns) {
      for (int k : ks) {
        const size_t lda = static_cast<size_t>(k) + 3, ldc = static_cast<size_t>(n) + 5;
        const std::vector<float> a = random_floats(m * lda, 1.0f, ++seed);
        const std::vector<float> w = random_floats(static_cast<size_t>(n) * k, 0.1f, ++seed);
        const Int16Matrix packed(WeightMatrix(w.data(), MatrixType::F32, n, k));
        const Tiles tiles = quantize(PanelKernel::Scalar, m, k, a.data(), lda);
        const std::vector<float> c0 = random_floats(m * ldc, 1.0f, ++seed);
        for (bool accumulate : {false, true}) {
          std::vector<std::vector<float>> results;
          for (const test::PanelVariant& v : test::panel_variants()) {
            force_isa(v.isa);
            std::vector<float> c = c0;
            int16_gemm(v.kernel, m, n, k, tiles.words.data(), tiles.scales.data(), packed.panels(), packed.scales(),
                       c.data(), ldc, accumulate);
            results.push_back(c);
          }
          const std::vector<float>& c = results[0];
          for (size_t r = 1; r < results.size(); ++r) {
            ASSERT_EQ(results[r], c) << "variant " << r << " differs from scalar: m=" << m << " n=" << n << " k=" << k;
          }
          const int k2 = (k + 1) / 2;
          for (int i = 0; i < m; ++i) {
            for (int j = 0; j < static_cast<int>(ldc); ++j) {
              const size_t at = i * ldc + j;
              if (j >= n) {  // outside the product: untouched
                ASSERT_EQ(c[at], c0[at]);
                continue;
              }
              // The integers' exact sum, scaled: only the f32 scaling and pass sums round.
              int64_t sum = 0, sum_abs = 0;
              for (int kk = 0; kk < k; ++kk) {
                const int32_t* word = packed.panels() + (j / 16) * 16 * k2 + (kk / 2) * 16 + j % 16;
                const int64_t product = static_cast<int64_t>(tiles.at(i, kk, k)) * step(word, kk);
                sum += product;
                sum_abs += std::abs(product);
              }
              const double scale = static_cast<double>(tiles.scales[i]) * packed.scales()[j];
              const double exact = (accumulate ? c0[at] : 0.0) + static_cast<double>(sum) * scale;
              const double magnitude = static_cast<double>(sum_abs) * scale + (accumulate ? std::abs(c0[at]) : 0.0);
              ASSERT_NEAR(c[at], exact, 4e-7 * magnitude + 1e-30) << "m=" << m << " n=" << n << " k=" << k;
              // And the float product within the rounding of both operands.
              double product = 0.0, bound = 0.0;
              for (int kk = 0; kk < k; ++kk) {
                const double x = a[i * lda + kk], y = w[static_cast<size_t>(j) * k + kk];
                product += x * y;
                const double dx = tiles.scales[i] / 2.0, dy = packed.scales()[j] / 2.0;
                bound += std::abs(x) * dy + std::abs(y) * dx + dx * dy;
              }
              ASSERT_NEAR(c[at] - (accumulate ? c0[at] : 0.0), product, bound * 1.001 + 1e-6 * magnitude);
            }
          }
        }
      }
    }
  }
}

// c[m][n] = a[m][k] (rounded by `kernel`) times the packed weights.
std::vector<float> product(PanelKernel kernel, int m, int n, int k, const std::vector<float>& a,
                           const Int16Matrix& packed) {
  const Tiles tiles = quantize(kernel, m, k, a.data(), k);
  std::vector<float> c(static_cast<size_t>(m) * n);
  int16_gemm(kernel, m, n, k, tiles.words.data(), tiles.scales.data(), packed.panels(), packed.scales(), c.data(), n,
             false);
  return c;
}

TEST(Int16Gemm, SumsAtTheOverflowBoundStayExact) {
  // Every integer at +-kInt16Levels: each depth pass sums 512 products of 2047^2, just under
  // 2^31; a longer pass or a wider integer range would wrap around.
  const int m = 6, n = 16, k = 3 * kInt16DepthBlock + 2;
  const std::vector<float> a(static_cast<size_t>(m) * k, 3.0f);
  const std::vector<float> w(static_cast<size_t>(n) * k, -0.5f);
  const Int16Matrix packed(WeightMatrix(w.data(), MatrixType::F32, n, k));
  for (PanelKernel kernel : available_kernels()) {
    const std::vector<float> c = product(kernel, m, n, k, a, packed);
    for (float v : c) ASSERT_NEAR(v, -1.5 * k, 1e-6 * 1.5 * k);
  }
}

TEST(Int16Gemm, NonFiniteActivationsCarryOn) {
  const int m = 7, n = 16, k = 43;  // the AVX2 kernel reads 40 values in vectors, 3 alone
  std::vector<float> a = random_floats(static_cast<size_t>(m) * k, 1.0f, 5);
  a[2 * k + 3] = std::numeric_limits<float>::quiet_NaN();
  a[4 * k + 1] = std::numeric_limits<float>::infinity();
  a[5 * k + 41] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> w = random_floats(static_cast<size_t>(n) * k, 1.0f, 6);
  const Int16Matrix packed(WeightMatrix(w.data(), MatrixType::F32, n, k));
  for (PanelKernel kernel : available_kernels()) {
    const std::vector<float> c = product(kernel, m, n, k, a, packed);
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) {
        EXPECT_EQ(std::isfinite(c[i * n + j]), i != 2 && i != 4 && i != 5) << i << "," << j;
      }
    }
  }
}

class LinearInt16 : public test::RestoresIsaAndThreads {};

TEST_F(LinearInt16, EpiloguesMatchLinear) {
  const int in = 200, out = 72;
  const std::vector<float> w = random_floats(static_cast<size_t>(out) * in, 0.1f, 3);
  const WeightMatrix weight(w.data(), MatrixType::F32, out, in);
  const Int16Matrix packed(weight);
  const std::vector<float> bias = random_floats(out, 1.0f, 4);
  for (int threads : {1, 3}) {
    set_compute_threads(threads);
    for (int rows : {1, 17, 300}) {
      const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in, 1.0f, 5 + rows);
      const std::vector<float> y0 = random_floats(static_cast<size_t>(rows) * out, 1.0f, 6 + rows);
      for (Epilogue epilogue : {Epilogue::Store, Epilogue::Gelu, Epilogue::Accumulate}) {
        for (const float* b : {static_cast<const float*>(nullptr), bias.data()}) {
          std::vector<float> got = y0, expected = y0;
          linear_int16(x.data(), rows, packed, b, got.data(), epilogue);
          linear(x.data(), rows, in, weight, b, out, expected.data(), epilogue);
          // Gaussian operands: 12-bit rounding of both gives ~5e-4; a wrong layout gives O(1).
          EXPECT_LT(test::relative_error(got, expected), 2e-3)
              << "rows=" << rows << " epilogue=" << static_cast<int>(epilogue);
        }
      }
    }
  }
}

class AttentionInt16 : public test::RestoresIsaAndThreads {};

TEST_F(AttentionInt16, MatchesAttentionWithinTheRounding) {
  const int n_head = 2, d_head = 64, width = n_head * d_head;
  set_compute_threads(2);
  for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
    if (!cpu_supports(isa)) continue;
    force_isa(isa);
    for (int n_q : {1, 9, 48, 100}) {
      for (int n_kv : {1, 37, 1500}) {
        // Scores of order 1 (queries and keys 1/4 of unit scale): the softmax neither flat nor one-hot.
        const std::vector<float> q = random_floats(static_cast<size_t>(n_q) * width, 0.25f, 7);
        const std::vector<float> k = random_floats(static_cast<size_t>(n_kv) * width, 0.25f, 8);
        const std::vector<float> v = random_floats(static_cast<size_t>(n_kv) * width, 1.0f, 9);
        std::vector<float> got(static_cast<size_t>(n_q) * width), expected(got.size());
        attention_int16(q.data(), width, k.data(), width, v.data(), width, got.data(), width, n_q, n_kv, n_head, d_head);
        attention(q.data(), width, k.data(), width, v.data(), width, expected.data(), width, n_q, n_kv, n_head, d_head,
                  /*causal=*/false, 0);
        // Averages over many keys are small, and so is their norm: 1e-2 relative still fails a
        // wrong layout or a wrong scale by orders of magnitude.
        EXPECT_LT(test::relative_error(got, expected), 1e-2) << isa_name(isa) << " n_q=" << n_q << " n_kv=" << n_kv;
      }
    }
  }
}

}  // namespace
}  // namespace wisp
