// The AVX-512 (F, BW, VL, DQ) kernel table: 16 floats per vector, up to 6 gemv rows in registers.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/kernel_table.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")
// GCC 12's intrinsic headers build "undefined" vectors from themselves (`__m512 __Y = __Y;`),
// which -Wuninitialized reports once inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/q5_0r_avx2.h"

namespace wisp {
namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int kWidth = 16;
  static constexpr int kRegisters = 32;
  static constexpr int kMaxRows = 6;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float v) { return _mm512_set1_ps(v); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V abs(V a) { return _mm512_abs_ps(a); }
  static V round(V a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V exp2i(V n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static V select_negative(V x, V a, V b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero(), _CMP_LT_OQ), b, a);
  }
  static float reduce_add(V a) { return _mm512_reduce_add_ps(a); }
  static float reduce_max(V a) { return _mm512_reduce_max_ps(a); }
  static void prefetch(const char* p) { _mm_prefetch(p, _MM_HINT_T0); }
  template <MatrixType T>
  static V load_weight(const void* base, size_t index) {
    if constexpr (T == MatrixType::F32) {
      return _mm512_loadu_ps(static_cast<const float*>(base) + index);
    } else {
      const uint16_t* at = static_cast<const uint16_t*>(base) + index;
      if constexpr (T == MatrixType::F16) {
        // Two 256-bit conversions rather than one 512-bit: the same conversion throughput from
        // cache, but single-row decode streams run at 28-34 GB/s instead of 24-28 (Zen 4, one
        // thread, f16 rows of 384-2048 on huge pages; base f16 decode steps 7.9 -> 5.4-6.1 ms).
        return _mm512_insertf32x8(
            _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at)))),
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at + 8))), 1);
      }
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
  }
  // Values [16*Slice, 16*Slice+16) of a 32-value ggml block (layouts in model/ggml_quant.h), bit-equal
  // to ggml's reference dequantizer: q*d, or fma(q, d, m) for the types with a minimum.
  template <MatrixType T, int Slice>
  static V load_quant(const uint8_t* block) {
    static_assert(Slice == 0 || Slice == 1);
    const V d = half_broadcast(block);
    if constexpr (T == MatrixType::Q8_0) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2 + 16 * Slice));
      return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes)), d);
    } else {
      constexpr bool kMin = T == MatrixType::Q4_1 || T == MatrixType::Q5_1;
      constexpr bool kFive = T == MatrixType::Q5_0 || T == MatrixType::Q5_1;
      constexpr int kQh = kMin ? 4 : 2;  // offset of qh (q5) or qs (q4)
      const __m512i bytes =
          _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + kQh + (kFive ? 4 : 0))));
      // Low nibbles hold values 0..15 of the block, high nibbles values 16..31.
      __m512i q = Slice == 0 ? _mm512_and_si512(bytes, _mm512_set1_epi32(15)) : _mm512_srli_epi32(bytes, 4);
      if constexpr (kFive) {
        uint32_t qh;
        std::memcpy(&qh, block + kQh, 4);
        // Bit j of qh is the fifth bit of value j: a lane mask as it stands.
        q = _mm512_mask_or_epi32(q, static_cast<__mmask16>(qh >> (16 * Slice)), q, _mm512_set1_epi32(16));
      }
      if constexpr (kMin) return _mm512_fmadd_ps(_mm512_cvtepi32_ps(q), d, half_broadcast(block + 2));
      q = _mm512_sub_epi32(q, _mm512_set1_epi32(kFive ? 16 : 8));
      return _mm512_mul_ps(_mm512_cvtepi32_ps(q), d);
    }
  }
  // The fp16 at p (any alignment) in every lane.
  static V half_broadcast(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return _mm512_cvtph_ps(_mm256_set1_epi16(static_cast<short>(h)));
  }
};

#include "kernels/kernels_generic.h"

}  // namespace

const KernelTable kAvx512Kernels = make_kernel_table<Avx512>();

}  // namespace wisp
#pragma GCC diagnostic pop
#pragma GCC pop_options
#else
namespace wisp {
const KernelTable kAvx512Kernels = kScalarKernels;
}
#endif
