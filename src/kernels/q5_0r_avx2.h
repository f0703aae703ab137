// Unpacking a q5_0r block (kernels/q5_0r.h) in AVX2 registers, shared by the int8 decode kernel,
// the integer product's slice unpacking and the AVX2/AVX-512 kernel tables' widening to f32.
// Include after <immintrin.h>, inside the including file's `#pragma GCC target("avx2")` region.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/q5_0r.h"

namespace wisp {

// The 32 stored five-bit values (0..31) of a block, as bytes in value order, from its pair word
// and its pair's 32 nibble bytes: the low nibbles (first block) or the high ones shifted down;
// the pair word shifted per 64-bit lane so each fifth bit lands at bit 4 of its byte.
inline __attribute__((always_inline)) __m256i q5_0r_stored_bytes(const uint8_t* bits, bool odd,
                                                                 const uint8_t* nibbles) {
  uint64_t pair;
  std::memcpy(&pair, bits, sizeof pair);
  const __m256i word = _mm256_set1_epi64x(static_cast<long long>(pair));
  const __m256i fifth = odd ? _mm256_sllv_epi64(word, _mm256_setr_epi64x(1, 2, 3, 4))
                            : _mm256_srlv_epi64(word, _mm256_setr_epi64x(0, 1, 2, 3));
  const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(nibbles));
  const __m256i low = odd ? _mm256_srli_epi16(bytes, 4) : bytes;
  return _mm256_or_si256(_mm256_and_si256(low, _mm256_set1_epi8(15)), _mm256_and_si256(fifth, _mm256_set1_epi8(16)));
}

// One q5_0r row of `cols` values as f32, bit-equal to q5_0r_row_to_f32: (q - 16) * d per value.
inline void q5_0r_row_to_f32_avx2(const uint8_t* row, int cols, float* dst) {
  const int n_blocks = cols / 32;
  const __m256i offset = _mm256_set1_epi32(16);
  for (int b = 0; b < n_blocks; ++b) {
    const Q5_0rBlock block = q5_0r_block(row, n_blocks, b);
    const __m256i q = q5_0r_stored_bytes(block.bits, block.odd, block.nibbles);
    int16_t h;
    std::memcpy(&h, block.scale, sizeof h);
    const __m256 d = _mm256_cvtph_ps(_mm_set1_epi16(h));
    const __m128i halves[2] = {_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1)};
    for (int i = 0; i < 4; ++i) {
      const __m128i bytes = i % 2 == 0 ? halves[i / 2] : _mm_srli_si128(halves[i / 2], 8);
      const __m256i values = _mm256_sub_epi32(_mm256_cvtepu8_epi32(bytes), offset);
      _mm256_storeu_ps(dst + 32 * b + 8 * i, _mm256_mul_ps(_mm256_cvtepi32_ps(values), d));
    }
  }
}

}  // namespace wisp
