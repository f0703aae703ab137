// Attention over a half-precision K/V cache (the decoder's cross-attention in reduced-precision
// compute) against the f32 attention over the same values widened: both paths (few queries
// streaming halves, many queries widening into scratch) and every instruction set.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
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

TEST(HalfKvAttention, MatchesFloatAttentionOnTheSameValues) {
  set_compute_threads(2);
  const int n_kv = 1500, n_head = 6, d_head = 64, ld = n_head * d_head;
  std::vector<uint16_t> kt16(static_cast<size_t>(n_kv) * ld), v16(kt16.size());
  const std::vector<float> k_src = random_floats(kt16.size(), 1), v_src = random_floats(v16.size(), 2);
  pack_half_keys(k_src.data(), ld, n_kv, n_head, d_head, kt16.data());
  convert_f32_to_f16(v_src.data(), v16.data(), v16.size());
  // The f32 reference sees exactly the values the half cache holds.
  std::vector<float> k(kt16.size()), v(v16.size());
  unpack_half_keys(kt16.data(), n_kv, n_head, d_head, k.data(), ld);
  convert_f16_to_f32(v16.data(), v.data(), v.size());
  for (size_t i = 0; i < k.size(); ++i) ASSERT_EQ(k[i], f16_to_f32(f32_to_f16(k_src[i]))) << i;
  std::vector<float> k_scratch(k.size()), v_scratch(v.size());
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    IsaGuard guard(isa);
    for (int n_q : {1, 5, 40}) {  // 40: more than the few-query path takes
      const std::vector<float> q = random_floats(static_cast<size_t>(n_q) * ld, 3 + n_q);
      std::vector<float> expected(q.size()), got(q.size(), -1.0f);
      attention(q.data(), ld, k.data(), ld, v.data(), ld, expected.data(), ld, n_q, n_kv, n_head, d_head, false, 0);
      attention_half_kv(q.data(), ld, kt16.data(), v16.data(), ld, got.data(), ld, n_q, n_kv, n_head, d_head,
                        k_scratch.data(), v_scratch.data());
      double err = 0, scale = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        err = std::max(err, std::abs(static_cast<double>(got[i]) - expected[i]));
        scale = std::max(scale, std::abs(static_cast<double>(expected[i])));
      }
      EXPECT_LT(err / scale, 1e-5) << isa_name(isa) << " n_q=" << n_q;
    }
  }
}

}  // namespace
}  // namespace wisp
