// Attention over the decoder's cross-attention cache (keys as panels per head, f32 or IEEE half)
// against the plain f32 attention over the same values: both paths (few queries reading the
// cache, many queries through GEMMs), odd query counts, and every instruction set; and the
// self-attention cache (head-major, f32 or half) of several sequences in one call against one
// call per sequence.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "kernel_test_support.h"
#include "kernels/attention.h"
#include "kernels/convert.h"
#include "kernels/cpu_features.h"
#include "kernels/thread_pool.h"

namespace wisp {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) { return test::random_floats(n, 1.0f, seed); }

class IsaGuard {
 public:
  explicit IsaGuard(Isa isa) : saved_(active_isa()) { force_isa(isa); }
  ~IsaGuard() { force_isa(saved_); }

 private:
  Isa saved_;
};

double relative_error(const std::vector<float>& got, const std::vector<float>& expected) {
  double err = 0, scale = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    err = std::max(err, std::abs(static_cast<double>(got[i]) - expected[i]));
    scale = std::max(scale, std::abs(static_cast<double>(expected[i])));
  }
  return err / scale;
}

struct CacheCase {
  MatrixType type;
  int n_kv;
};

class KeyPanelCacheAttention : public ::testing::TestWithParam<CacheCase> {};

TEST_P(KeyPanelCacheAttention, MatchesFloatAttentionOnTheSameValues) {
  set_compute_threads(2);
  const auto [type, n_kv] = GetParam();
  const int n_head = 6, d_head = 64, ld = n_head * d_head;
  const size_t n = static_cast<size_t>(n_kv) * ld;
  std::vector<float> k = random_floats(n, 1), v = random_floats(n, 2);
  const bool half = type == MatrixType::F16;
  if (half) {  // the f32 reference sees exactly the values the half cache holds
    for (auto* values : {&k, &v}) {
      for (float& x : *values) x = f16_to_f32(f32_to_f16(x));
    }
  }
  const size_t panels = n_head * key_panel_elements(n_kv, d_head);
  std::vector<float> kp32(half ? 0 : panels), v32(half ? 0 : n);
  std::vector<uint16_t> kp16(half ? panels : 0), v16(half ? n : 0);
  pack_key_panels(k.data(), ld, n_kv, n_head, d_head, type, half ? static_cast<void*>(kp16.data()) : kp32.data());
  pack_head_values(v.data(), ld, n_kv, n_head, d_head, type, half ? static_cast<void*>(v16.data()) : v32.data());
  // The panel layout: head h, panel j/16, dimension i, lane j%16; padding keys are zero.
  const int h = 2, i = 5, j = n_kv - 3;
  const size_t head = h * key_panel_elements(n_kv, d_head);
  const size_t at = head + (static_cast<size_t>(j / 16) * d_head + i) * 16 + j % 16;
  EXPECT_EQ(half ? f16_to_f32(kp16[at]) : kp32[at], k[static_cast<size_t>(j) * ld + h * d_head + i]);
  const size_t padding = head + (static_cast<size_t>((n_kv - 1) / 16) * d_head + i) * 16 + 15;
  if (n_kv % 16 != 0) {
    EXPECT_EQ(half ? f16_to_f32(kp16[padding]) : kp32[padding], 0.0f);
  }
  // Values head-major: head h, key j, dimension i.
  const size_t value_at = (static_cast<size_t>(h) * n_kv + j) * d_head + i;
  EXPECT_EQ(half ? f16_to_f32(v16[value_at]) : v32[value_at], v[static_cast<size_t>(j) * ld + h * d_head + i]);
  const void* kp = half ? static_cast<const void*>(kp16.data()) : kp32.data();
  const void* vc = half ? static_cast<const void*>(v16.data()) : v32.data();
  std::vector<float> v_scratch(n);
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    IsaGuard guard(isa);
    for (int n_q : {1, 3, 5, 8, 9, 40}) {  // 9 and 40: more than the few-query path takes
      const std::vector<float> q = random_floats(static_cast<size_t>(n_q) * ld, 3 + n_q);
      std::vector<float> expected(q.size()), got(q.size(), -1.0f);
      attention(q.data(), ld, k.data(), ld, v.data(), ld, expected.data(), ld, n_q, n_kv, n_head, d_head, false, 0);
      attention_key_panels(q.data(), ld, type, kp, vc, got.data(), ld, n_q, n_kv, n_head, d_head,
                           v_scratch.data());
      EXPECT_LT(relative_error(got, expected), 1e-5) << isa_name(isa) << " n_q=" << n_q;
    }
  }
}

// 1500: Whisper's audio context; 37: fewer keys than two vectors past the last full block.
INSTANTIATE_TEST_SUITE_P(Caches, KeyPanelCacheAttention,
                         ::testing::Values(CacheCase{MatrixType::F32, 1500}, CacheCase{MatrixType::F16, 1500},
                                           CacheCase{MatrixType::F32, 37}, CacheCase{MatrixType::F16, 37}));

// The decoder's self-attention caches, head-major, f32 or half: several sequences (beams) in
// one call give exactly what one attention() call per sequence gives over the same (rounded)
// rows: causal, past offsets, few queries reading the cache and many through the GEMMs.
class HeadMajorCacheAttention : public ::testing::TestWithParam<MatrixType> {};

TEST_P(HeadMajorCacheAttention, EqualsOneCallPerSequence) {
  const MatrixType type = GetParam();
  const int n_head = 6, d_head = 64, d = n_head * d_head, n_ctx = 48, batch = 5;
  const size_t kv_stride = static_cast<size_t>(n_ctx) * d;
  std::vector<float> k = random_floats(batch * kv_stride, 11), v = random_floats(batch * kv_stride, 12);
  if (type == MatrixType::F16) {
    for (float& x : k) x = f16_to_f32(f32_to_f16(x));
    for (float& x : v) x = f16_to_f32(f32_to_f16(x));
  }
  // The rows stored position by position, as decode steps append them.
  const size_t element = type == MatrixType::F16 ? 2 : 4;
  std::vector<char> k_cache(batch * kv_stride * element), v_cache(k_cache.size());
  for (int s = 0; s < batch; ++s) {
    for (int t = 0; t < n_ctx; ++t) {
      const size_t row = s * kv_stride + static_cast<size_t>(t) * d;
      store_head_major(k.data() + row, d, 1, n_head, d_head, type, k_cache.data() + s * kv_stride * element, n_ctx, t);
      store_head_major(v.data() + row, d, 1, n_head, d_head, type, v_cache.data() + s * kv_stride * element, n_ctx, t);
    }
  }
  std::vector<float> widened(kv_stride);
  load_head_major(k_cache.data() + 2 * kv_stride * element, type, n_ctx, n_ctx, n_head, d_head, widened.data(), d);
  EXPECT_TRUE(std::equal(widened.begin(), widened.end(), k.begin() + 2 * kv_stride)) << "store/load round trip";
  std::vector<float> k_scratch(kv_stride), v_scratch(kv_stride);
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    IsaGuard guard(isa);
    for (const auto& [n_q, offset] : {std::pair{1, 0}, std::pair{1, 30}, std::pair{3, 17}, std::pair{12, 4}}) {
      const size_t q_stride = static_cast<size_t>(n_q) * d;
      const std::vector<float> q = random_floats(batch * q_stride, 13 + n_q);
      std::vector<float> expected(q.size(), -1.0f), got(q.size(), -2.0f);
      for (int s = 0; s < batch; ++s) {
        attention(q.data() + s * q_stride, d, k.data() + s * kv_stride, d, v.data() + s * kv_stride, d,
                  expected.data() + s * q_stride, d, n_q, offset + n_q, n_head, d_head, true, offset);
      }
      attention_head_major(q.data(), d, q_stride, type, k_cache.data(), v_cache.data(), n_ctx, kv_stride, got.data(), d,
                           q_stride, batch, n_q, offset + n_q, n_head, d_head, offset, k_scratch.data(),
                           v_scratch.data());
      EXPECT_EQ(got, expected) << isa_name(isa) << " n_q=" << n_q << " offset=" << offset;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, HeadMajorCacheAttention, ::testing::Values(MatrixType::F32, MatrixType::F16));

}  // namespace
}  // namespace wisp
