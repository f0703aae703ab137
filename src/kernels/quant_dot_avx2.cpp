// The AVX2 int8 kernel (kernels/quant_dot_avx2_kernel.h, with vpmaddubsw + vpmaddwd) and the
// activation quantizer every SIMD kernel uses.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/q5_0r.h"
#include "kernels/quant_dot_internal.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
// GCC 12's intrinsic headers build "undefined" vectors from themselves, which -Wuninitialized
// reports once inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/q5_0r_avx2.h"
#include "kernels/quant_dot_avx2_kernel.h"

namespace wisp {

namespace {

float horizontal_max(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

int horizontal_sum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

void gemv(const Int8Rows& x, const WeightMatrix& w, int col_begin, int col_end, const float* bias, bool accumulate,
          float* y, int ldy) {
  int8_gemv<Avx2Int8<false>>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
}

}  // namespace

void quantize_rows_avx2(const float* x, int rows, int in, Int8Terms terms, const Int8Rows& out) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  // vpackssdw + vpacksswb interleave 128-bit lanes; this restores value order.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<size_t>(r) * in;
    for (int b = 0; b < out.blocks; ++b) {
      const float* xb = xr + static_cast<size_t>(b) * kMatrixQuantBlock;
      __m256 v[4];
      for (int i = 0; i < 4; ++i) v[i] = _mm256_loadu_ps(xb + 8 * i);
      const __m256 amax = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1])),
                                        _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3])));
      // The same scalar arithmetic as quantize_rows_scalar, so both give identical bytes.
      const float d = horizontal_max(amax) / 127.0f;
      const __m256 inv = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
      __m256i q[4];
      for (int i = 0; i < 4; ++i) q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], inv));  // nearest even
      const int sum = horizontal_sum(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
      const __m256i bytes =
          _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));  // saturating
      const size_t lane = static_cast<size_t>(b) * kInt8Lanes;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.values(r) + static_cast<size_t>(b) * kMatrixQuantBlock),
                          _mm256_permutevar8x32_epi32(bytes, order));
      _mm256_storeu_ps(out.scales(r) + lane, _mm256_set1_ps(d));
      if (terms.offset_multiple != 0) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.offsets(r) + lane),
                            _mm256_set1_epi32(-terms.offset_multiple * sum));
      }
      if (terms.minimum) {
        _mm256_storeu_ps(out.minimum_terms(r) + lane, _mm256_set1_ps(d * static_cast<float>(sum) * 0.125f));
      }
      if (terms.block_scales || terms.block_offset != 0) out.block_scales(r)[b] = d;
      if (terms.block_offset != 0) out.block_offset_terms(r)[b] = d * static_cast<float>(-terms.block_offset * sum);
    }
  }
}

const Int8Gemv kInt8GemvAvx2 = gemv;

}  // namespace wisp
#pragma GCC diagnostic pop
#pragma GCC pop_options
#else
namespace wisp {
namespace {
void gemv_fallback(const Int8Rows& x, const WeightMatrix& w, int col_begin, int col_end, const float* bias,
                   bool accumulate, float* y, int ldy) {
  kInt8GemvScalar(x, w, col_begin, col_end, bias, accumulate, y, ldy);
}
}  // namespace
void quantize_rows_avx2(const float* x, int rows, int in, Int8Terms terms, const Int8Rows& out) {
  quantize_rows_scalar(x, rows, in, terms, out);
}
const Int8Gemv kInt8GemvAvx2 = gemv_fallback;
}  // namespace wisp
#endif
