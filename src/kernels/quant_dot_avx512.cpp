// The int8 kernel on 512-bit vectors for q5_0r decode rows (CPUs with AVX512-VNNI, GFNI and
// BITALG: Ice Lake, Sapphire Rapids, Zen 4): two blocks per vector, unpacked in five operations
// where the 256-bit kernel (quant_dot_avx2_kernel.h) takes five per block:
//   nibbles: the pair's 32 nibble bytes, each 16-byte half in two lanes (vpermq), low or high
//            nibble per 64-bit lane by one vgf2p8affineqb (a bit matrix per lane);
//   fifth bits: vpshufbitqmb gathers the 64 bits of the pair word into a mask, in value order,
//            and a masked byte add puts 16 on the values that have one.
// Then one vpdpbusd, convert and multiply-add per row against both blocks' scales. On Zen 4, one
// core (kernels_bench BM_LinearQuant path 4 vs 2, cached): 1 row +5-16 %, 5 rows +23 %; base
// q5_0 decode steps 2.9-3.0 -> 2.55-2.65 ms. Fewer operations still (no lane permutes, scales by
// broadcast load) measured the same in a standalone kernel. Other weight types run the 256-bit
// VNNI kernel, compiled here again.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/q5_0r.h"
#include "kernels/quant_dot_internal.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512dq,avx512vnni,gfni,avx512bitalg")
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

// vpshufbitqmb's bit indices for 64-bit lane `lane` of a pair's vector: byte j of the lane is
// value v = 8 lane + j of the pair (block 2p's 32 values, then block 2p + 1's), and selects
// that value's fifth bit in the pair word (kernels/q5_0r.h).
constexpr long long fifth_bit_indices(int lane) {
  const bool odd = lane >= 4;
  long long indices = 0;
  for (int j = 0; j < 8; ++j) {
    indices |= static_cast<long long>(q5_0r_fifth_bit_position(odd, 8 * (lane % 4) + j)) << (8 * j);
  }
  return indices;
}

// vgf2p8affineqb matrices: result bit i = parity(matrix byte 7 - i & x). Keep bits 0..3, or move
// bits 4..7 down to 0..3; the upper result bits stay zero.
constexpr long long kLowNibble = 0x0102040800000000LL;
constexpr long long kHighNibble = 0x1020408000000000LL;

struct Avx512Int8 : Avx2Int8<true> {
  // Per pair p of a group: lanes 0..7 take block 2p's scale, lanes 8..15 block 2p + 1's.
  static __m512i pair_scale_index(int p) {
    const int a = 2 * p, b = a + 1;
    return _mm512_setr_epi32(a, a, a, a, a, a, a, a, b, b, b, b, b, b, b, b);
  }

  // The K blocks' per-block terms of a group (d_x or the offset terms); lanes past K are zero
  // (not loaded: a short last group).
  template <int K>
  static __m256 load_block_terms(const float* terms) {
    if constexpr (K == kQ5_0rGroup) {
      return _mm256_loadu_ps(terms);
    } else {
      return _mm256_maskload_ps(terms, _mm256_cmpgt_epi32(_mm256_set1_epi32(K), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
    }
  }

  // One q5_0r group of K blocks of one weight row against R activation rows.
  template <int K, int R>
  static inline __attribute__((always_inline)) void q5_0r_group(const uint8_t* group, const uint8_t* const (&rows)[R],
                                                                const float* const (&dx)[R],
                                                                const float* const (&ox)[R], int g0,
                                                                __m512 (&acc)[2][R]) {
    const __m512i pair_lanes = _mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3);
    const __m512i nibble_matrix =
        _mm512_setr_epi64(kLowNibble, kLowNibble, kHighNibble, kHighNibble, kLowNibble, kLowNibble, kHighNibble,
                          kHighNibble);
    const __m512i fifth_bits =
        _mm512_setr_epi64(fifth_bit_indices(0), fifth_bit_indices(1), fifth_bit_indices(2), fifth_bit_indices(3),
                          fifth_bit_indices(4), fifth_bit_indices(5), fifth_bit_indices(6), fifth_bit_indices(7));
    __m128i halves = _mm_setzero_si128();
    std::memcpy(&halves, group, 2 * K);
    const __m256 dw = _mm256_cvtph_ps(halves);
    __m512 scales[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      scales[r] = _mm512_zextps256_ps512(_mm256_mul_ps(dw, load_block_terms<K>(dx[r] + g0)));
      // The offset's share -16 d_w d_x Σq, in lanes 0..7 of the second chain.
      acc[1][r] = _mm512_fmadd_ps(_mm512_zextps256_ps512(dw), _mm512_zextps256_ps512(load_block_terms<K>(ox[r] + g0)),
                                  acc[1][r]);
    }
#pragma GCC unroll 4
    for (int p = 0; p < K / 2; ++p) {
      const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + 6 * K + 32 * p));
      const __m512i nibbles =
          _mm512_gf2p8affine_epi64_epi8(_mm512_permutexvar_epi64(pair_lanes, _mm512_castsi256_si512(packed)),
                                        nibble_matrix, 0);
      long long word;
      std::memcpy(&word, group + 2 * K + 8 * p, sizeof word);
      const __mmask64 fifth = _mm512_bitshuffle_epi64_mask(_mm512_set1_epi64(word), fifth_bits);
      const __m512i w = _mm512_mask_add_epi8(nibbles, fifth, nibbles, _mm512_set1_epi8(16));
      const __m512i scale_index = pair_scale_index(p);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m512i x = _mm512_loadu_si512(rows[r] + (g0 + 2 * p) * kMatrixQuantBlock);
        const __m512i lanes = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, x);  // w <= 31: no saturation
        // Pairs alternate between two chains (the multiply-add's latency).
        acc[p % 2][r] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(lanes), _mm512_permutexvar_ps(scale_index, scales[r]), acc[p % 2][r]);
      }
    }
  }

  // One weight row at a time: the unpacking is shared by the R rows, and a single stream
  // prefetches best (two or four rows side by side ran slower from memory).
  template <int R>
  static void q5_0r_rows(const Int8Rows& x, int r0, const WeightMatrix& w, int c0, int c1, bool prefetch,
                         const float* bias, bool accumulate, float* y, int ldy) {
    const int n_blocks = x.blocks;
    const uint8_t* rows[R];
    const float* dx[R];
    const float* ox[R];
    for (int r = 0; r < R; ++r) {
      rows[r] = reinterpret_cast<const uint8_t*>(x.values(r0 + r));
      dx[r] = x.block_scales(r0 + r);
      ox[r] = x.block_offset_terms(r0 + r);
    }
    const uint8_t* next_prefetch = w.row_data(c0) + kPrefetchBytes;
    for (int j = c0; j < c1; ++j) {
      const uint8_t* row = w.row_data(j);
      __m512 acc[2][R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[0][r] = acc[1][r] = _mm512_setzero_ps();
      int g0 = 0;
      for (; g0 + kQ5_0rGroup <= n_blocks; g0 += kQ5_0rGroup) {
        const uint8_t* group = row + static_cast<size_t>(g0) * kQ5_0rBlockBytes;
        if (prefetch) {
          const uint8_t* end = group + kQ5_0rGroup * kQ5_0rBlockBytes + kPrefetchBytes;
          for (; next_prefetch < end; next_prefetch += 64) _mm_prefetch(next_prefetch, _MM_HINT_T0);
        }
        q5_0r_group<kQ5_0rGroup, R>(group, rows, dx, ox, g0, acc);
      }
      // A short last group (rows hold an even block count).
      const uint8_t* group = row + static_cast<size_t>(g0) * kQ5_0rBlockBytes;
      switch (n_blocks - g0) {
        case 6: q5_0r_group<6, R>(group, rows, dx, ox, g0, acc); break;
        case 4: q5_0r_group<4, R>(group, rows, dx, ox, g0, acc); break;
        case 2: q5_0r_group<2, R>(group, rows, dx, ox, g0, acc); break;
        default: break;
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        store_int8_result(y, ldy, r0 + r, j, _mm512_reduce_add_ps(_mm512_add_ps(acc[0][r], acc[1][r])), bias,
                          accumulate);
      }
    }
  }

  template <MatrixType T, int R>
  static void columns(const Int8Rows& x, int r0, const WeightMatrix& w, int c0, int c1, bool prefetch,
                      const float* bias, bool accumulate, float* y, int ldy) {
    if constexpr (T == MatrixType::Q5_0R) {
      q5_0r_rows<R>(x, r0, w, c0, c1, prefetch, bias, accumulate, y, ldy);
    } else {
      Avx2Int8<true>::columns<T, R>(x, r0, w, c0, c1, prefetch, bias, accumulate, y, ldy);
    }
  }
};

void gemv(const Int8Rows& x, const WeightMatrix& w, int col_begin, int col_end, const float* bias, bool accumulate,
          float* y, int ldy) {
  int8_gemv<Avx512Int8>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
}

}  // namespace

const Int8Gemv kInt8GemvAvx512 = gemv;

}  // namespace wisp
#pragma GCC diagnostic pop
#pragma GCC pop_options
#else
namespace wisp {
const Int8Gemv kInt8GemvAvx512 = kInt8GemvScalar;
}  // namespace wisp
#endif
