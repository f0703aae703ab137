// Every SIMD kernel table against the scalar reference (itself checked against direct double
// formulas), at Whisper-like and odd sizes so vector tails are exercised; the thread pool;
// the public ops (linear's gemv and sgemm paths, attention's few-query and blocked paths)
// against naive double-precision computations.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernel_test_support.h"
#include "kernels/attention.h"
#include "kernels/convert.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "kernels/ops.h"
#include "kernels/thread_pool.h"

namespace wisp {
namespace {

using test::random_floats;
using test::to_f16;


std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &v[i], sizeof bits);
    h[i] = static_cast<uint16_t>(bits >> 16);  // truncation: exactly representable test values
  }
  return h;
}

// Largest |a - b| relative to max |b| (at least 1e-30).
double max_rel_error(const std::vector<float>& a, const std::vector<float>& b) {
  double err = 0.0, scale = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, std::abs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  return err / scale;
}

std::vector<Isa> simd_isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (cpu_supports(isa)) isas.push_back(isa);
  }
  return isas;
}

class KernelsTest : public test::RestoresIsaAndThreads {};

TEST(ConvertTest, F16RoundTripAndRounding) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);             // rounds to infinity
  EXPECT_EQ(f32_to_f16(1.0f + 1.0f / 2048.0f), 0x3c00);  // tie to even (down)
  EXPECT_EQ(f32_to_f16(1.0f + 3.0f / 2048.0f), 0x3c02);  // tie to even (up)
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  for (uint32_t h = 0; h < 0x7c00; ++h) EXPECT_EQ(f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))), h);
}

TEST(ScalarKernelsTest, MatchDirectFormulas) {
  const KernelTable& kt = kScalarKernels;
  std::vector<float> x = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f};
  std::vector<float> g = x;
  kt.bias_gelu(g.data(), 5, nullptr);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(g[i], 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0))), 1e-7);
  }
  std::vector<float> s = {1.0f, 2.0f, 3.0f, 100.0f};
  kt.softmax(s.data(), 3, 4);
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(s[0], std::exp(1.0) / z, 1e-7);
  EXPECT_NEAR(s[2], std::exp(3.0) / z, 1e-7);
  EXPECT_EQ(s[3], 0.0f);  // beyond n_visible
}

TEST_F(KernelsTest, GeluMatchesScalar) {
  for (int n : {1, 7, 16, 33, 1536 + 5}) {
    std::vector<float> x = random_floats(n, 3.0f, n);
    x[0] = -12.0f;  // deep negative tail: erfc branch
    if (n > 1) x[1] = 9.0f;
    const std::vector<float> bias = random_floats(n, 0.5f, n + 1);
    std::vector<float> expected = x;
    kScalarKernels.bias_gelu(expected.data(), n, bias.data());
    for (Isa isa : simd_isas()) {
      std::vector<float> got = x;
      kernel_table(isa).bias_gelu(got.data(), n, bias.data());
      for (int i = 0; i < n; ++i) EXPECT_NEAR(got[i], expected[i], 2e-6 * std::max(1.0f, std::abs(expected[i])));
    }
  }
}

TEST_F(KernelsTest, SoftmaxMatchesScalar) {
  for (int n : {1, 5, 16, 17, 448, 1500}) {
    const std::vector<float> x = random_floats(n + 3, 4.0f, n);
    std::vector<float> expected = x;
    kScalarKernels.softmax(expected.data(), n, n + 3);
    for (Isa isa : simd_isas()) {
      std::vector<float> got = x;
      kernel_table(isa).softmax(got.data(), n, n + 3);
      for (int i = 0; i < n + 3; ++i) EXPECT_NEAR(got[i], expected[i], 1e-6 * std::max(1e-3f, expected[i]) + 1e-9);
    }
  }
}

// The decoding filters' vocabulary scans: exact maxima, and sums of exponentials within f32
// rounding of the double reference, with suppressed (-inf) logits contributing nothing.
TEST_F(KernelsTest, MaxValueAndSumExpMatchScalar) {
  const float inf = std::numeric_limits<float>::infinity();
  for (int n : {1, 7, 16, 63, 64, 65, 1501, 51865}) {
    std::vector<float> x = random_floats(n, 6.0f, 100 + n);
    for (int i = 3; i < n; i += 5) x[i] = -inf;  // what SuppressTokens writes
    x[n / 2] = 9.5f;                                // a known maximum in the middle
    const float expected_max = kScalarKernels.max_value(x.data(), n);
    EXPECT_EQ(expected_max, *std::max_element(x.begin(), x.end()));
    double exact = 0.0;
    for (float v : x) exact += std::exp(static_cast<double>(v) - expected_max);
    // Both tables take x - shift in f32, as the logits are: within f32 rounding of the double sum.
    EXPECT_NEAR(kScalarKernels.sum_exp(x.data(), n, expected_max), exact, 1e-7 * exact);
    for (Isa isa : simd_isas()) {
      const KernelTable& kt = kernel_table(isa);
      EXPECT_EQ(kt.max_value(x.data(), n), expected_max) << isa_name(isa) << " n=" << n;
      EXPECT_NEAR(kt.sum_exp(x.data(), n, expected_max), exact, 1e-6 * exact) << isa_name(isa) << " n=" << n;
    }
  }
  // All suppressed: nothing to sum.
  const std::vector<float> none(100, -inf);
  for (Isa isa : simd_isas()) EXPECT_EQ(kernel_table(isa).sum_exp(none.data(), 100, 0.0f), 0.0);
  EXPECT_EQ(kScalarKernels.sum_exp(none.data(), 100, 0.0f), 0.0);
}

TEST_F(KernelsTest, LayerNormAndBiasMatchScalar) {
  for (int dim : {3, 16, 31, 384, 1280}) {
    const std::vector<float> x = random_floats(dim, 2.0f, dim), gamma = random_floats(dim, 1.0f, dim + 1);
    const std::vector<float> beta = random_floats(dim, 1.0f, dim + 2);
    std::vector<float> expected(dim);
    kScalarKernels.layer_norm(x.data(), dim, gamma.data(), beta.data(), 1e-5f, expected.data());
    for (Isa isa : simd_isas()) {
      std::vector<float> got(dim);
      kernel_table(isa).layer_norm(x.data(), dim, gamma.data(), beta.data(), 1e-5f, got.data());
      EXPECT_LT(max_rel_error(got, expected), 1e-6) << isa_name(isa) << " dim " << dim;
      std::vector<float> sum = x;
      kernel_table(isa).add_bias(sum.data(), dim, beta.data());
      for (int i = 0; i < dim; ++i) EXPECT_EQ(sum[i], x[i] + beta[i]);
    }
  }
}

TEST_F(KernelsTest, GemvMatchesScalarForEveryTypeAndRowCount) {
  for (int k : {16, 37, 384}) {
    const int n = 23;  // columns in blocks of 4 plus a tail
    const std::vector<float> w32 = random_floats(static_cast<size_t>(n) * k, 0.1f, k);
    const std::vector<uint16_t> w16 = to_f16(w32), wb16 = to_bf16(w32);
    const std::vector<float> bias = random_floats(n, 1.0f, k + 1);
    for (const WeightMatrix& w : {WeightMatrix(w32.data(), MatrixType::F32, n, k),
                                  WeightMatrix(w16.data(), MatrixType::F16, n, k),
                                  WeightMatrix(wb16.data(), MatrixType::BF16, n, k)}) {
      for (int rows : {1, 2, 3, 4, 5, 6, 7, 8, 13}) {
        const bool accumulate = rows % 2 == 1;
        const std::vector<float> x = random_floats(static_cast<size_t>(rows) * (k + 3), 1.0f, rows);
        std::vector<float> expected(static_cast<size_t>(rows) * (n + 2), -7.0f);
        kScalarKernels.gemv(x.data(), rows, k + 3, w, 2, n, bias.data(), accumulate, expected.data(), n + 2);
        for (Isa isa : simd_isas()) {
          std::vector<float> got(expected.size(), -7.0f);
          kernel_table(isa).gemv(x.data(), rows, k + 3, w, 2, n, bias.data(), accumulate, got.data(), n + 2);
          EXPECT_LT(max_rel_error(got, expected), 1e-5) << isa_name(isa) << " rows " << rows << " k " << k;
          for (int r = 0; r < rows; ++r) EXPECT_EQ(got[static_cast<size_t>(r) * (n + 2)], -7.0f);  // untouched
        }
        std::vector<float> widened(static_cast<size_t>(n) * k);
        for (Isa isa : simd_isas()) {
          kernel_table(isa).rows_to_f32(w, 0, n, widened.data());
          const std::vector<float> direct = w.to_f32();
          EXPECT_EQ(widened, direct);
        }
      }
    }
  }
}

TEST_F(KernelsTest, AttendQueryMatchesScalar) {
  // 64: Whisper's heads; the others take every accumulator count of the values' pass (8, 4, 2,
  // 1 vectors) and the scalar tail. Keys and values f32, or half (the reduced-precision cache).
  for (MatrixType type : {MatrixType::F32, MatrixType::F16}) {
    for (int d_head : {64, 20, 48, 160}) {
      for (int n_kv : {1, 7, 448, 1500}) {
        const int ld = 3 * d_head;
        const std::vector<float> q = random_floats(d_head, 1.0f, 1);
        const std::vector<float> k = random_floats(static_cast<size_t>(n_kv) * ld, 1.0f, 2);
        const std::vector<float> v = random_floats(static_cast<size_t>(n_kv) * ld, 1.0f, 3);
        const std::vector<uint16_t> k16 = to_f16(k), v16 = to_f16(v);
        const void* kp = type == MatrixType::F16 ? static_cast<const void*>(k16.data()) : k.data();
        const void* vp = type == MatrixType::F16 ? static_cast<const void*>(v16.data()) : v.data();
        std::vector<float> scores(n_kv), expected(d_head);
        kScalarKernels.attend_query(type, q.data(), kp, ld, vp, ld, n_kv, d_head, 0.125f, scores.data(),
                                    expected.data());
        for (Isa isa : simd_isas()) {
          std::vector<float> got(d_head);
          kernel_table(isa).attend_query(type, q.data(), kp, ld, vp, ld, n_kv, d_head, 0.125f, scores.data(),
                                         got.data());
          EXPECT_LT(max_rel_error(got, expected), 1e-5)
              << isa_name(isa) << " d_head " << d_head << " n_kv " << n_kv << " f16 " << (type == MatrixType::F16);
        }
      }
    }
  }
}

TEST_F(KernelsTest, ThreadPoolRunsEveryTaskOnce) {
  for (int threads : {1, 2, 3}) {
    set_compute_threads(threads);
    EXPECT_EQ(compute_threads(), threads);
    for (int n : {1, 2, 5, 1000}) {
      std::vector<std::atomic<int>> hits(n);
      parallel_for(n, [&](int t) {
        hits[t].fetch_add(1);
        parallel_for(3, [&](int) { hits[t].fetch_add(10); });  // nested: serial, still complete
      });
      for (int t = 0; t < n; ++t) EXPECT_EQ(hits[t].load(), 31) << "task " << t;
    }
  }
}

// Naive double y = act(x W^T + b).
std::vector<float> naive_linear(const std::vector<float>& x, int rows, int in, const std::vector<float>& w,
                                const std::vector<float>& bias, int out, bool gelu) {
  std::vector<float> y(static_cast<size_t>(rows) * out);
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < out; ++j) {
      double s = bias[j];
      for (int i = 0; i < in; ++i) s += static_cast<double>(x[static_cast<size_t>(r) * in + i]) * w[static_cast<size_t>(j) * in + i];
      if (gelu) s = 0.5 * s * (1.0 + std::erf(s / std::sqrt(2.0)));
      y[static_cast<size_t>(r) * out + j] = static_cast<float>(s);
    }
  }
  return y;
}

TEST_F(KernelsTest, LinearGemvAndGemmPathsMatchNaive) {
  const int in = 72, out = 45;
  const std::vector<float> w32 = random_floats(static_cast<size_t>(out) * in, 0.2f, 5);
  const std::vector<uint16_t> w16 = to_f16(w32);
  std::vector<float> w16_values(w16.size());
  convert_f16_to_f32(w16.data(), w16_values.data(), w16.size());
  const std::vector<float> bias = random_floats(out, 1.0f, 6);
  for (Isa isa : [] { auto v = simd_isas(); v.push_back(Isa::Scalar); return v; }()) {
    force_isa(isa);
    for (int threads : {1, 2}) {
      set_compute_threads(threads);
      for (int rows : {1, 5, 16, 17, 100, 300}) {  // gemv up to 16 rows, sgemm split by columns, by rows
        const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in, 1.0f, rows);
        for (bool gelu : {false, true}) {
          for (bool half : {false, true}) {
            // Accumulate onto a known y: y + z must equal 1 + z.
            if (!gelu) {
              const WeightMatrix wa = half ? WeightMatrix(w16.data(), MatrixType::F16, out, in)
                                           : WeightMatrix(w32.data(), MatrixType::F32, out, in);
              std::vector<float> acc(static_cast<size_t>(rows) * out, 1.0f);
              linear(x.data(), rows, in, wa, bias.data(), out, acc.data(), Epilogue::Accumulate);
              auto expected = naive_linear(x, rows, in, half ? w16_values : w32, bias, out, false);
              for (float& e : expected) e += 1.0f;
              EXPECT_LT(max_rel_error(acc, expected), 2e-6) << isa_name(isa) << " rows " << rows << " accumulate";
            }
            const WeightMatrix w = half ? WeightMatrix(w16.data(), MatrixType::F16, out, in)
                                        : WeightMatrix(w32.data(), MatrixType::F32, out, in);
            std::vector<float> y(static_cast<size_t>(rows) * out);
            linear(x.data(), rows, in, w, bias.data(), out, y.data(), gelu ? Epilogue::Gelu : Epilogue::Store);
            const auto expected = naive_linear(x, rows, in, half ? w16_values : w32, bias, out, gelu);
            EXPECT_LT(max_rel_error(y, expected), 2e-6) << isa_name(isa) << " rows " << rows << " gelu " << gelu;
          }
        }
      }
    }
  }
}

TEST_F(KernelsTest, AttentionMatchesNaiveCausalAndFull) {
  const int n_head = 3, d_head = 16, d = n_head * d_head;
  for (int n_q : {1, 3, 70}) {  // few-query path and blocked path (with a partial block)
    for (bool causal : {false, true}) {
      const int offset = causal ? 5 : 0;
      const int n_kv = causal ? offset + n_q : 90;
      const std::vector<float> q = random_floats(static_cast<size_t>(n_q) * d, 1.0f, 7);
      const std::vector<float> k = random_floats(static_cast<size_t>(n_kv) * d, 1.0f, 8);
      const std::vector<float> v = random_floats(static_cast<size_t>(n_kv) * d, 1.0f, 9);
      std::vector<float> expected(static_cast<size_t>(n_q) * d);
      for (int h = 0; h < n_head; ++h) {
        for (int i = 0; i < n_q; ++i) {
          const int visible = causal ? offset + i + 1 : n_kv;
          std::vector<double> p(visible);
          double max_s = -1e300, sum = 0.0;
          for (int j = 0; j < visible; ++j) {
            double s = 0.0;
            for (int c = 0; c < d_head; ++c) s += static_cast<double>(q[i * d + h * d_head + c]) * k[j * d + h * d_head + c];
            p[j] = s / std::sqrt(static_cast<double>(d_head));
            max_s = std::max(max_s, p[j]);
          }
          for (double& x : p) sum += (x = std::exp(x - max_s));
          for (int c = 0; c < d_head; ++c) {
            double o = 0.0;
            for (int j = 0; j < visible; ++j) o += p[j] / sum * v[j * d + h * d_head + c];
            expected[i * d + h * d_head + c] = static_cast<float>(o);
          }
        }
      }
      for (Isa isa : [] { auto v = simd_isas(); v.push_back(Isa::Scalar); return v; }()) {
        force_isa(isa);
        set_compute_threads(2);
        std::vector<float> out(expected.size());
        attention(q.data(), d, k.data(), d, v.data(), d, out.data(), d, n_q, n_kv, n_head, d_head, causal, offset);
        EXPECT_LT(max_rel_error(out, expected), 1e-5) << isa_name(isa) << " n_q " << n_q << " causal " << causal;
      }
    }
  }
}

TEST_F(KernelsTest, ForcingAnUnsupportedIsaThrows) {
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) {
      EXPECT_THROW(force_isa(isa), std::exception);
    }
  }
  EXPECT_NO_THROW(force_isa(Isa::Scalar));
  EXPECT_EQ(active_isa(), Isa::Scalar);
}

// The bandwidth probe's sum: every word counted once whatever the thread count, including
// lengths that do not split evenly and fewer words than threads.
TEST_F(KernelsTest, ParallelSumWordsCountsEveryWordOnce) {
  std::vector<uint64_t> words(1001);
  for (size_t i = 0; i < words.size(); ++i) words[i] = i + 1;
  for (int threads : {1, 2, 3, 7}) {
    set_compute_threads(threads);
    for (size_t n : {size_t{0}, size_t{2}, size_t{1000}, size_t{1001}}) {
      EXPECT_EQ(parallel_sum_words(words.data(), n), n * (n + 1) / 2) << threads << " threads, " << n << " words";
    }
  }
}

}  // namespace
}  // namespace wisp
