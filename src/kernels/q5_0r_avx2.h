// Unpacking a q5_0r block (kernels/q5_0r.h) in AVX2 registers, shared by the int8 decode kernel
// and the integer product's slice unpacking. Include after <immintrin.h>, inside the including
// file's `#pragma GCC target("avx2")` region.
#pragma once

#include <cstdint>
#include <cstring>

namespace wisp {

// The 32 stored five-bit values (0..31) of a block, as bytes in value order, from its pair word
// and 16 nibble bytes: the nibbles broadcast to both halves, the upper half shifted down a
// nibble; the pair word shifted per 64-bit lane so each fifth bit lands at bit 4 of its byte.
inline __attribute__((always_inline)) __m256i q5_0r_stored_bytes(const uint8_t* bits, bool odd,
                                                                 const uint8_t* nibbles) {
  uint64_t pair;
  std::memcpy(&pair, bits, sizeof pair);
  const __m256i word = _mm256_set1_epi64x(static_cast<long long>(pair));
  const __m256i fifth = odd ? _mm256_sllv_epi64(word, _mm256_setr_epi64x(1, 2, 3, 4))
                            : _mm256_srlv_epi64(word, _mm256_setr_epi64x(0, 1, 2, 3));
  const __m256i low = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(nibbles)));
  return _mm256_or_si256(
      _mm256_and_si256(_mm256_srlv_epi32(low, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(15)),
      _mm256_and_si256(fifth, _mm256_set1_epi8(16)));
}

}  // namespace wisp
