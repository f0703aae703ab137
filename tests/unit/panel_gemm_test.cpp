// The panel product (kernels/panel_gemm.h): packing layouts, the AVX2 kernel bit-identical to
// the scalar one and both close to a double evaluation, over ragged rows, columns and depths
// (partial tiles, partial panels, several depth passes), read from panels or from weight rows
// as stored; linear_panels' epilogues against linear() and linear_weight_rows;
// attention_panels against attention().
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernel_test_support.h"
#include "kernels/attention.h"
#include "kernels/convert.h"
#include "kernels/cpu_features.h"
#include "kernels/ops.h"
#include "kernels/panel_gemm.h"
#include "kernels/thread_pool.h"
#include "wisp/error.h"

namespace wisp {
namespace {

using test::random_floats;
using test::to_f16;


std::vector<PanelKernel> available_kernels() {
  std::vector<PanelKernel> kernels{PanelKernel::Scalar};
  if (cpu_supports(Isa::Avx2)) kernels.push_back(PanelKernel::Avx2);
  return kernels;
}

TEST(PanelPacking, RowsAndColumnsLayouts) {
  const int n = 19, k = 5;
  const std::vector<float> rows = random_floats(static_cast<size_t>(n) * 7, 1.0f, 1);  // stride 7 > k
  std::vector<float> packed(panel_elements(n, k), -1.0f);
  pack_panels_from_rows(rows.data(), n, k, 7, 0.5f, packed.data());
  ASSERT_EQ(packed.size(), static_cast<size_t>(2 * 16 * k));
  for (int j = 0; j < 32; ++j) {
    for (int kk = 0; kk < k; ++kk) {
      const float got = packed[static_cast<size_t>(j / 16) * k * 16 + kk * 16 + j % 16];
      EXPECT_EQ(got, j < n ? 0.5f * rows[static_cast<size_t>(j) * 7 + kk] : 0.0f) << j << "," << kk;
    }
  }
  const std::vector<float> cols = random_floats(static_cast<size_t>(k) * 23, 1.0f, 2);  // [k][n], stride 23
  std::fill(packed.begin(), packed.end(), -1.0f);
  pack_panels_from_cols(cols.data(), k, n, 23, packed.data());
  for (int j = 0; j < 32; ++j) {
    for (int kk = 0; kk < k; ++kk) {
      const float got = packed[static_cast<size_t>(j / 16) * k * 16 + kk * 16 + j % 16];
      EXPECT_EQ(got, j < n ? cols[static_cast<size_t>(kk) * 23 + j] : 0.0f) << j << "," << kk;
    }
  }
}

TEST(PanelPacking, RejectsQuantizedAndBf16Weights) {
  std::vector<uint8_t> blocks(34 * 2, 0);
  const WeightMatrix q8(blocks.data(), MatrixType::Q8_0, 2, 32);
  EXPECT_FALSE(panel_packable(q8));
  try {
    PanelMatrix packed(q8);
    FAIL() << "expected wisp::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q8_0"), std::string::npos) << e.what();
  }
  const std::vector<uint16_t> halves(2 * 32, 0);
  const WeightMatrix bf16(halves.data(), MatrixType::BF16, 2, 32);
  const std::vector<float> x(32 * 20, 1.0f);
  std::vector<float> y(2 * 20);
  try {
    linear_weight_rows(x.data(), 20, bf16, nullptr, y.data());
    FAIL() << "expected wisp::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bf16"), std::string::npos) << e.what();
  }
}

class LinearQuantizedRows : public test::RestoresIsaAndThreads {};

TEST_F(LinearQuantizedRows, EqualDequantizedRowsBitForBit) {
  // Quantized rows, each slice dequantized when its turn comes, against the same product on
  // the dequantized matrix: the same f32 values in the same order, so the same bits, for every
  // kernel, block type, epilogue and a depth of several passes.
  const int in = 576, out = 40;  // 576 = 2 depth passes + 64; 40 = 2.5 panels
  const std::vector<float> w = random_floats(static_cast<size_t>(out) * in, 0.1f, 31);
  const std::vector<float> bias = random_floats(out, 1.0f, 32);
  set_compute_threads(2);
  for (const test::QuantCase& q : test::kQuantTypes) {
    const size_t row_bytes = matrix_row_bytes(q.matrix, in);
    std::vector<unsigned char> stored(row_bytes * out + 1);
    for (int j = 0; j < out; ++j) ggml_encode(q.ggml, w.data() + static_cast<size_t>(j) * in, stored.data() + 1 + row_bytes * j, in);
    const WeightMatrix quant(stored.data() + 1, q.matrix, out, in);  // at an odd byte offset, as in a file
    const std::vector<float> values = quant.to_f32();
    const WeightMatrix widened(values.data(), MatrixType::F32, out, in);
    for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
      if (!cpu_supports(isa)) continue;
      force_isa(isa);
      for (int rows : {17, 100, 256}) {
        const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in, 1.0f, 33 + rows);
        const std::vector<float> y0 = random_floats(static_cast<size_t>(rows) * out, 1.0f, 34 + rows);
        for (Epilogue epilogue : {Epilogue::Store, Epilogue::Gelu, Epilogue::Accumulate}) {
          std::vector<float> got = y0, expected = y0;
          linear_weight_rows(x.data(), rows, quant, bias.data(), got.data(), epilogue);
          linear_weight_rows(x.data(), rows, widened, bias.data(), expected.data(), epilogue);
          ASSERT_EQ(got, expected) << matrix_type_name(q.matrix) << " " << isa_name(isa) << " rows=" << rows
                                   << " epilogue=" << static_cast<int>(epilogue);
        }
      }
    }
  }
}

TEST(PanelGemm, KernelsAgreeBitForBitAndMatchDoubles) {
  const int ms[] = {1, 5, 6, 7, 13, 96, 103};
  const int ns[] = {1, 15, 16, 17, 40};
  const int ks[] = {1, 7, 64, 256, 257, 600};
  uint32_t seed = 10;
  for (PanelType type : {PanelType::F32, PanelType::F16}) {
    for (int m : ms) {
      for (int n : ns) {
        for (int k : ks) {
          const size_t lda = static_cast<size_t>(k) + 3, ldc = static_cast<size_t>(n) + 5;
          const std::vector<float> a = random_floats(m * lda, 1.0f, ++seed);
          std::vector<float> w = random_floats(static_cast<size_t>(n) * k, 1.0f, ++seed);  // [n][k]
          std::vector<uint16_t> half;
          if (type == PanelType::F16) {
            half = to_f16(w);
            convert_f16_to_f32(half.data(), w.data(), w.size());  // the values the panels hold
          }
          const WeightMatrix weight = type == PanelType::F16 ? WeightMatrix(half.data(), MatrixType::F16, n, k)
                                                             : WeightMatrix(w.data(), MatrixType::F32, n, k);
          const PanelMatrix panels(weight);
          // The weight rows as a model file may hold them: at an odd byte offset.
          std::vector<unsigned char> file(weight.bytes() + 1);
          std::memcpy(file.data() + 1, weight.data, weight.bytes());
          const void* stored_rows = file.data() + 1;
          const std::vector<float> c0 = random_floats(m * ldc, 1.0f, ++seed);
          for (bool accumulate : {false, true}) {
            std::vector<std::vector<float>> results;
            for (PanelKernel kernel : available_kernels()) {
              std::vector<float> c = c0;
              panel_gemm(kernel, m, n, k, a.data(), lda, type, panels.data(), c.data(), ldc, accumulate);
              results.push_back(c);
              c = c0;
              panel_gemm_rows(kernel, m, n, k, a.data(), lda, type, stored_rows, k, c.data(), ldc, accumulate);
              results.push_back(c);
            }
            const std::vector<float>& c = results[0];
            for (size_t r = 1; r < results.size(); ++r) {
              ASSERT_EQ(results[r], c) << (r % 2 ? "weight rows" : "AVX2") << " differ from scalar panels: m=" << m
                                       << " n=" << n << " k=" << k;
            }
            for (int i = 0; i < m; ++i) {
              for (int j = 0; j < static_cast<int>(ldc); ++j) {
                const size_t at = i * ldc + j;
                if (j >= n) {  // outside the product: untouched
                  ASSERT_EQ(c[at], c0[at]);
                  continue;
                }
                double exact = accumulate ? c0[at] : 0.0, magnitude = std::abs(exact);
                for (int kk = 0; kk < k; ++kk) {
                  const double p = static_cast<double>(a[i * lda + kk]) * w[static_cast<size_t>(j) * k + kk];
                  exact += p;
                  magnitude += std::abs(p);
                }
                ASSERT_NEAR(c[at], exact, 1e-6 * magnitude + 1e-30)
                    << "m=" << m << " n=" << n << " k=" << k << " at " << i << "," << j;
              }
            }
          }
        }
      }
    }
  }
}

class LinearPanels : public test::RestoresIsaAndThreads {};

TEST_F(LinearPanels, EpiloguesMatchLinear) {
  const int in = 200, out = 72;
  const std::vector<float> w = random_floats(static_cast<size_t>(out) * in, 0.1f, 3);
  const std::vector<uint16_t> half = to_f16(w);
  const std::vector<float> bias = random_floats(out, 1.0f, 4);
  for (int threads : {1, 3}) {
    set_compute_threads(threads);
    for (const WeightMatrix& weight :
         {WeightMatrix(w.data(), MatrixType::F32, out, in), WeightMatrix(half.data(), MatrixType::F16, out, in)}) {
      const PanelMatrix panels(weight);
      for (int rows : {1, 17, 300}) {
        const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in, 1.0f, 5 + rows);
        const std::vector<float> y0 = random_floats(static_cast<size_t>(rows) * out, 1.0f, 6 + rows);
        for (Epilogue epilogue : {Epilogue::Store, Epilogue::Gelu, Epilogue::Accumulate}) {
          for (const float* b : {static_cast<const float*>(nullptr), bias.data()}) {
            std::vector<float> got = y0, expected = y0, from_rows = y0;
            linear_panels(x.data(), rows, panels, b, got.data(), epilogue);
            linear_weight_rows(x.data(), rows, weight, b, from_rows.data(), epilogue);
            ASSERT_EQ(from_rows, got) << "rows=" << rows << " epilogue=" << static_cast<int>(epilogue);
            linear(x.data(), rows, in, weight, b, out, expected.data(), epilogue);
            for (size_t i = 0; i < got.size(); ++i) {
              ASSERT_NEAR(got[i], expected[i], 1e-4 * (1 + std::abs(expected[i])))
                  << "rows=" << rows << " epilogue=" << static_cast<int>(epilogue) << " at " << i;
            }
          }
        }
      }
    }
  }
}

class AttentionPanels : public test::RestoresIsaAndThreads {};

TEST_F(AttentionPanels, MatchesAttention) {
  const int n_head = 2, d_head = 64, width = n_head * d_head;
  set_compute_threads(2);
  for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
    if (!cpu_supports(isa)) continue;
    force_isa(isa);
    for (int n_q : {1, 9, 48, 100}) {
      for (int n_kv : {1, 37, 1500}) {
        const std::vector<float> q = random_floats(static_cast<size_t>(n_q) * width, 1.0f, 7);
        const std::vector<float> k = random_floats(static_cast<size_t>(n_kv) * width, 1.0f, 8);
        const std::vector<float> v = random_floats(static_cast<size_t>(n_kv) * width, 1.0f, 9);
        std::vector<float> got(static_cast<size_t>(n_q) * width), expected(got.size());
        attention_panels(q.data(), width, k.data(), width, v.data(), width, got.data(), width, n_q, n_kv, n_head,
                         d_head);
        attention(q.data(), width, k.data(), width, v.data(), width, expected.data(), width, n_q, n_kv, n_head,
                  d_head, /*causal=*/false, 0);
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_NEAR(got[i], expected[i], 2e-5) << isa_name(isa) << " n_q=" << n_q << " n_kv=" << n_kv << " at " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace wisp
