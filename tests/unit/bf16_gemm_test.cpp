// The bf16 products (oneDNN brgemm) against double-precision formulas over the same
// bf16-rounded inputs: only f32 accumulation error remains, so the bounds are tight and a wrong
// packing, slice, epilogue or head offset cannot hide in "bf16 noise". Skipped on CPUs without
// AVX512_BF16, where wisp never picks bf16 compute.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernel_test_support.h"
#include "kernels/bf16_gemm.h"
#include "kernels/thread_pool.h"

namespace wisp {
namespace {

using test::random_floats;

// The value the bf16 conversion keeps (round to nearest even), back as f32.
double bf16_value(float x) {
  uint16_t h;
  f32_to_bf16(&x, &h, 1);
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

double max_rel_error(const std::vector<float>& a, const std::vector<double>& b) {
  double err = 0.0, scale = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return err / scale;
}

class Bf16GemmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cpu_has_bf16()) GTEST_SKIP() << "this CPU has no AVX512_BF16";
    set_compute_threads(2);
  }
};

TEST(Bf16Conversion, RoundsToNearestEven) {
  const float values[] = {1.0f, 1.00390625f /* halfway, even stays */, 1.01171875f /* halfway, rounds up */,
                          -2.5f, 3.4e38f, 1e-40f};
  uint16_t out[6];
  f32_to_bf16(values, out, 6);
  EXPECT_EQ(out[0], 0x3f80);
  EXPECT_EQ(out[1], 0x3f80);
  EXPECT_EQ(out[2], 0x3f82);
  EXPECT_EQ(out[3], 0xc020);
  EXPECT_EQ(out[4], 0x7f80);  // rounds up to infinity, as the hardware does
}

TEST_F(Bf16GemmTest, LinearMatchesDoubleOnRoundedInputsForEveryEpilogue) {
  // 300 rows: two full row slices and a tail; odd-ish sizes as the convolutions have (240 = 80 * 3).
  for (const auto [rows, in, out] : {std::array{300, 240, 96}, std::array{1500, 384, 64}, std::array{5, 64, 48}}) {
    const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in, 1.0f, 1);
    const std::vector<float> w = random_floats(static_cast<size_t>(out) * in, 0.1f, 2);
    const std::vector<float> bias = random_floats(out, 0.5f, 3);
    const std::vector<float> old = random_floats(static_cast<size_t>(rows) * out, 1.0f, 4);
    const Bf16Matrix packed(WeightMatrix(w.data(), MatrixType::F32, out, in));
    for (const Epilogue epilogue : {Epilogue::Store, Epilogue::Gelu, Epilogue::Accumulate}) {
      std::vector<float> y = old;
      linear_bf16(x.data(), rows, packed, bias.data(), y.data(), epilogue);
      std::vector<double> expected(y.size());
      for (int r = 0; r < rows; ++r) {
        for (int j = 0; j < out; ++j) {
          double z = bias[j];
          for (int i = 0; i < in; ++i) {
            z += bf16_value(x[static_cast<size_t>(r) * in + i]) * bf16_value(w[static_cast<size_t>(j) * in + i]);
          }
          double& e = expected[static_cast<size_t>(r) * out + j];
          if (epilogue == Epilogue::Gelu) e = 0.5 * z * (1.0 + std::erf(z / std::sqrt(2.0)));
          if (epilogue == Epilogue::Store) e = z;
          if (epilogue == Epilogue::Accumulate) e = old[static_cast<size_t>(r) * out + j] + z;
        }
      }
      EXPECT_LT(max_rel_error(y, expected), 2e-5) << rows << "x" << in << "x" << out << " epilogue "
                                                 << static_cast<int>(epilogue);
    }
  }
}

TEST_F(Bf16GemmTest, LinearWithoutBias) {
  const int rows = 130, in = 64, out = 32;
  const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in, 1.0f, 5);
  const std::vector<float> w = random_floats(static_cast<size_t>(out) * in, 0.1f, 6);
  const Bf16Matrix packed(WeightMatrix(w.data(), MatrixType::F32, out, in));
  std::vector<float> y(static_cast<size_t>(rows) * out, 123.0f);
  linear_bf16(x.data(), rows, packed, nullptr, y.data());
  std::vector<double> expected(y.size(), 0.0);
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < out; ++j) {
      for (int i = 0; i < in; ++i) {
        expected[static_cast<size_t>(r) * out + j] +=
            bf16_value(x[static_cast<size_t>(r) * in + i]) * bf16_value(w[static_cast<size_t>(j) * in + i]);
      }
    }
  }
  EXPECT_LT(max_rel_error(y, expected), 2e-5);
}

// Attention over 150 keys, 3 heads of 64 (Whisper's head size), 100 queries (a full block and
// a tail), against double softmax attention over the bf16-rounded (scaled) inputs. The
// probabilities are rounded to bf16 before the value product, which bounds the error near 2^-9.
TEST_F(Bf16GemmTest, AttentionMatchesDoubleAttention) {
  const int n_q = 100, n_kv = 150, n_head = 3, d_head = 64, width = n_head * d_head, ld = width + 8;
  const std::vector<float> q = random_floats(static_cast<size_t>(n_q) * ld, 1.0f, 7);
  const std::vector<float> k = random_floats(static_cast<size_t>(n_kv) * ld, 1.0f, 8);
  const std::vector<float> v = random_floats(static_cast<size_t>(n_kv) * ld, 1.0f, 9);
  std::vector<float> out(static_cast<size_t>(n_q) * ld, -7.0f);
  attention_bf16(q.data(), ld, k.data(), ld, v.data(), ld, out.data(), ld, n_q, n_kv, n_head, d_head);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d_head));
  std::vector<float> got;
  std::vector<double> expected;
  for (int h = 0; h < n_head; ++h) {
    for (int i = 0; i < n_q; ++i) {
      std::vector<double> s(n_kv);
      double max_s = -1e300;
      for (int j = 0; j < n_kv; ++j) {
        double dot = 0;
        for (int c = 0; c < d_head; ++c) {
          const size_t col = static_cast<size_t>(h) * d_head + c;
          dot += bf16_value(static_cast<float>(q[static_cast<size_t>(i) * ld + col] * scale)) *
                 bf16_value(k[static_cast<size_t>(j) * ld + col]);
        }
        s[j] = dot;
        max_s = std::max(max_s, dot);
      }
      double sum = 0;
      for (double& e : s) sum += (e = std::exp(e - max_s));
      for (int c = 0; c < d_head; ++c) {
        const size_t col = static_cast<size_t>(h) * d_head + c;
        double o = 0;
        for (int j = 0; j < n_kv; ++j) o += s[j] / sum * bf16_value(v[static_cast<size_t>(j) * ld + col]);
        expected.push_back(o);
        got.push_back(out[static_cast<size_t>(i) * ld + col]);
      }
    }
  }
  EXPECT_LT(max_rel_error(got, expected), 4e-3);
  // The padding columns between rows are untouched.
  for (int i = 0; i < n_q; ++i) EXPECT_EQ(out[static_cast<size_t>(i) * ld + width], -7.0f);
}

}  // namespace
}  // namespace wisp
