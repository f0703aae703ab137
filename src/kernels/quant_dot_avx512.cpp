// The int8 kernel on 512-bit vectors for the regrouped decode rows (CPUs with AVX512-VNNI, GFNI
// and BITALG: Ice Lake, Sapphire Rapids, Zen 4): two blocks per vector, as unsigned bytes.
//   q8_0r: one 64-byte load, and an xor that makes the values unsigned (q + 128);
//   q5_0r: four operations where the 256-bit kernel (quant_dot_avx2_kernel.h) takes four or five
//     per block: the pair's 32 nibble bytes loaded into both halves, low nibbles (block 2p) or
//     high ones (block 2p + 1) per 64-bit lane by one vgf2p8affineqb (a bit matrix per lane);
//     vpshufbitqmb gathers the 64 fifth bits of the pair word into a mask, in value order, and a
//     masked byte add puts 16 on the values that have one.
// Then per activation row one vpdpbusd, which starts from the lanes' shares of -offset Σq (the
// activations' offset array: exact integer sums), a convert and a multiply-add against both
// blocks' scales. On Zen 4, one core, cached rows (kernels_bench BM_LinearQuant path 4 vs 2):
// q5_0r +5-16 % (1 row), +23 % (5 rows); q8_0r about twice the 256-bit kernel's rate on q8_0
// blocks (bench/README.md). Dropping the lane permute (nibbles interleaved per pair at load)
// took base q5_0 decode steps to 0.92x on one core; scales by broadcast load measured the same
// in a standalone kernel. Other weight types run the 256-bit VNNI kernel, compiled here again.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/q5_0r.h"
#include "kernels/q8_0r.h"
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
  // Both regrouped types keep eight blocks per group, scales first.
  static_assert(kQ5_0rGroup == 8 && kQ8_0rGroup == 8);
  static constexpr int kGroup = 8;

  // Per pair p of a group: lanes 0..7 take block 2p's scale, lanes 8..15 block 2p + 1's.
  static __m512i pair_scale_index(int p) {
    const int a = 2 * p, b = a + 1;
    return _mm512_setr_epi32(a, a, a, a, a, a, a, a, b, b, b, b, b, b, b, b);
  }

  // The K blocks' d_x of a group; lanes past K are zero (not loaded: a short last group).
  template <int K>
  static __m256 load_block_scales(const float* terms) {
    if constexpr (K == kGroup) {
      return _mm256_loadu_ps(terms);
    } else {
      return _mm256_maskload_ps(terms, _mm256_cmpgt_epi32(_mm256_set1_epi32(K), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
    }
  }

  // Pair p of a group of K blocks as 64 unsigned bytes in value order (block 2p's 32, then
  // 2p + 1's): q5_0r's stored values q + 16, or q8_0r's q + 128.
  template <MatrixType T, int K>
  static inline __attribute__((always_inline)) __m512i pair_values(const uint8_t* group, int p) {
    if constexpr (T == MatrixType::Q8_0R) {
      const __m512i q = _mm512_loadu_si512(group + 2 * K + 64 * p);
      return _mm512_xor_si512(q, _mm512_set1_epi8(static_cast<char>(kQ8_0rFlip)));
    } else {
      const __m512i nibble_matrix = _mm512_setr_epi64(kLowNibble, kLowNibble, kLowNibble, kLowNibble, kHighNibble,
                                                      kHighNibble, kHighNibble, kHighNibble);
      const __m512i fifth_bits =
          _mm512_setr_epi64(fifth_bit_indices(0), fifth_bit_indices(1), fifth_bit_indices(2), fifth_bit_indices(3),
                            fifth_bit_indices(4), fifth_bit_indices(5), fifth_bit_indices(6), fifth_bit_indices(7));
      // The pair's 32 nibble bytes in both halves (a broadcast load): low nibbles are block 2p's
      // values, high nibbles block 2p + 1's.
      const __m512i packed =
          _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + 6 * K + 32 * p)));
      const __m512i nibbles = _mm512_gf2p8affine_epi64_epi8(packed, nibble_matrix, 0);
      long long word;
      std::memcpy(&word, group + 2 * K + 8 * p, sizeof word);
      const __mmask64 fifth = _mm512_bitshuffle_epi64_mask(_mm512_set1_epi64(word), fifth_bits);
      return _mm512_mask_add_epi8(nibbles, fifth, nibbles, _mm512_set1_epi8(16));
    }
  }

  // One group of K blocks of one weight row against R activation rows.
  template <MatrixType T, int K, int R>
  static inline __attribute__((always_inline)) void group_step(const uint8_t* group, const uint8_t* const (&rows)[R],
                                                               const float* const (&dx)[R],
                                                               const int32_t* const (&offsets)[R], int g0,
                                                               __m512 (&acc)[2][R]) {
    __m128i halves = _mm_setzero_si128();
    std::memcpy(&halves, group, 2 * K);
    const __m256 dw = _mm256_cvtph_ps(halves);
    __m512 scales[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      scales[r] = _mm512_zextps256_ps512(_mm256_mul_ps(dw, load_block_scales<K>(dx[r] + g0)));
    }
#pragma GCC unroll 4
    for (int p = 0; p < K / 2; ++p) {
      const __m512i w = pair_values<T, K>(group, p);
      const __m512i scale_index = pair_scale_index(p);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m512i x = _mm512_loadu_si512(rows[r] + (g0 + 2 * p) * kMatrixQuantBlock);
        // Unsigned weight bytes by signed activation bytes, four products per lane (no
        // saturation), added to the lanes' shares of -offset Σq: the exact integer sums.
        const __m512i lanes =
            _mm512_dpbusd_epi32(_mm512_loadu_si512(offsets[r] + (g0 + 2 * p) * kInt8Lanes), w, x);
        // Pairs alternate between two chains (the multiply-add's latency).
        acc[p % 2][r] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(lanes), _mm512_permutexvar_ps(scale_index, scales[r]), acc[p % 2][r]);
      }
    }
  }

  // One weight row at a time: the unpacking is shared by the R rows, and a single stream
  // prefetches best (two or four rows side by side ran slower from memory).
  template <MatrixType T, int R>
  static void regrouped_rows(const Int8Rows& x, int r0, const WeightMatrix& w, int c0, int c1, bool prefetch,
                             const float* bias, bool accumulate, float* y, int ldy) {
    constexpr size_t kBlockBytes = quant_block_bytes(T);
    const int n_blocks = x.blocks;
    const uint8_t* rows[R];
    const float* dx[R];
    const int32_t* offsets[R];
    for (int r = 0; r < R; ++r) {
      rows[r] = reinterpret_cast<const uint8_t*>(x.values(r0 + r));
      dx[r] = x.block_scales(r0 + r);
      offsets[r] = x.offsets(r0 + r);
    }
    const uint8_t* next_prefetch = w.row_data(c0) + kPrefetchBytes;
    for (int j = c0; j < c1; ++j) {
      const uint8_t* row = w.row_data(j);
      __m512 acc[2][R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[0][r] = acc[1][r] = _mm512_setzero_ps();
      int g0 = 0;
      for (; g0 + kGroup <= n_blocks; g0 += kGroup) {
        const uint8_t* group = row + static_cast<size_t>(g0) * kBlockBytes;
        if (prefetch) {
          const uint8_t* end = group + kGroup * kBlockBytes + kPrefetchBytes;
          for (; next_prefetch < end; next_prefetch += 64) _mm_prefetch(next_prefetch, _MM_HINT_T0);
        }
        group_step<T, kGroup, R>(group, rows, dx, offsets, g0, acc);
      }
      // A short last group (rows hold an even block count).
      const uint8_t* group = row + static_cast<size_t>(g0) * kBlockBytes;
      switch (n_blocks - g0) {
        case 6: group_step<T, 6, R>(group, rows, dx, offsets, g0, acc); break;
        case 4: group_step<T, 4, R>(group, rows, dx, offsets, g0, acc); break;
        case 2: group_step<T, 2, R>(group, rows, dx, offsets, g0, acc); break;
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
    if constexpr (T == MatrixType::Q5_0R || T == MatrixType::Q8_0R) {
      regrouped_rows<T, R>(x, r0, w, c0, c1, prefetch, bias, accumulate, y, ldy);
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
