// The AVX2 + FMA + F16C kernel table: 8 floats per vector, 2 gemv rows in registers (16 registers).
// Quantized blocks are widened 8 values at a time.
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
#pragma GCC target("avx2,fma,f16c")
// GCC 12's intrinsic headers build "undefined" vectors from themselves (`__m512 __Y = __Y;`),
// which -Wuninitialized reports once inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/q5_0r_avx2.h"

namespace wisp {
namespace {

struct Avx2 {
  using V = __m256;
  static constexpr int kWidth = 8;
  static constexpr int kRegisters = 16;
  static constexpr int kMaxRows = 6;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float v) { return _mm256_set1_ps(v); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static V round(V a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V exp2i(V n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  static V select_negative(V x, V a, V b) { return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, zero(), _CMP_LT_OQ)); }
  static float reduce_add(V a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float reduce_max(V a) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static void prefetch(const char* p) { _mm_prefetch(p, _MM_HINT_T0); }
  template <MatrixType T>
  static V load_weight(const void* base, size_t index) {
    if constexpr (T == MatrixType::F32) {
      return _mm256_loadu_ps(static_cast<const float*>(base) + index);
    } else {
      const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + index));
      if constexpr (T == MatrixType::F16) return _mm256_cvtph_ps(h);
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
  }
  // Values [8*Slice, 8*Slice+8) of a 32-value ggml block (layouts in model/ggml_quant.h), bit-equal
  // to ggml's reference dequantizer: q*d, or fma(q, d, m) for the types with a minimum.
  template <MatrixType T, int Slice>
  static V load_quant(const uint8_t* block) {
    static_assert(Slice >= 0 && Slice < 4);
    const V d = half_broadcast(block);
    if constexpr (T == MatrixType::Q8_0) {
      const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(block + 2 + 8 * Slice));
      return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes)), d);
    } else {
      constexpr bool kMin = T == MatrixType::Q4_1 || T == MatrixType::Q5_1;
      constexpr bool kFive = T == MatrixType::Q5_0 || T == MatrixType::Q5_1;
      constexpr int kQh = kMin ? 4 : 2;  // offset of qh (q5) or qs (q4)
      // Low nibbles of bytes 0..15 hold values 0..15 of the block, high nibbles values 16..31.
      const uint8_t* qs = block + kQh + (kFive ? 4 : 0) + 8 * (Slice & 1);
      const __m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs)));
      __m256i q = Slice < 2 ? _mm256_and_si256(bytes, _mm256_set1_epi32(15)) : _mm256_srli_epi32(bytes, 4);
      if constexpr (kFive) {
        uint32_t qh;
        std::memcpy(&qh, block + kQh, 4);
        // Bit j of qh is the fifth bit of value j: bit (lane) of these 8, moved to 16.
        const int bits = static_cast<int>(((qh >> (8 * Slice)) & 0xff) << 4);
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        q = _mm256_or_si256(q, _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(bits), lanes), _mm256_set1_epi32(16)));
      }
      if constexpr (kMin) return _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), d, half_broadcast(block + 2));
      q = _mm256_sub_epi32(q, _mm256_set1_epi32(kFive ? 16 : 8));
      return _mm256_mul_ps(_mm256_cvtepi32_ps(q), d);
    }
  }
  // The fp16 at p (any alignment) in every lane.
  static V half_broadcast(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(h)));
  }
};

#include "kernels/kernels_generic.h"

}  // namespace

const KernelTable kAvx2Kernels = make_kernel_table<Avx2>();

}  // namespace wisp
#pragma GCC diagnostic pop
#pragma GCC pop_options
#else
namespace wisp {
const KernelTable kAvx2Kernels = kScalarKernels;
}
#endif
