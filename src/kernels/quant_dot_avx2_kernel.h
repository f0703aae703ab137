// The AVX2 int8 kernel (kernels/quant_dot_internal.h), compiled twice: with vpmaddubsw +
// vpmaddwd (quant_dot_avx2.cpp) and with AVX512-VNNI's vpdpbusd on 256-bit vectors
// (quant_dot_vnni.cpp), which gives the same integer sums in one instruction. One 256-bit vector
// per 32-value block: unsigned weight bytes against signed activation bytes into eight int32
// lanes, converted and scaled once per block. Include inside the including file's `#pragma GCC
// target` region, after <immintrin.h> and kernels/q5_0r_avx2.h.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/q5_0r.h"
#include "kernels/q8_0r.h"
#include "kernels/quant_dot_internal.h"

namespace wisp {
namespace {

// Lines are prefetched this far ahead of the weight stream.
constexpr size_t kPrefetchBytes = 2048;

float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float load_half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof h);
  return _cvtsh_ss(h);
}

// A block's f16 scale in all eight lanes (vpbroadcastw + vcvtph2ps: no scalar round trip).
__m256 broadcast_half(const uint8_t* p) {
  int16_t h;
  std::memcpy(&h, p, sizeof h);
  return _mm256_cvtph_ps(_mm_set1_epi16(h));
}

// The 32 weight values of a block as bytes in value order: q8_0's signed values, the other
// types' unsigned stored values (offset or minimum still to apply).
template <MatrixType T>
__m256i weight_bytes(const uint8_t* block) {
  if constexpr (T == MatrixType::Q8_0) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
  } else {
    // Low nibbles are values 0..15, high nibbles 16..31.
    // Both halves load the 16 bytes; the upper half shifts them down a nibble.
    const __m256i nibbles = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + int8_nibbles_offset(T))));
    __m256i w = _mm256_and_si256(_mm256_srlv_epi32(nibbles, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)),
                                 _mm256_set1_epi8(15));
    if constexpr (int8_has_fifth_bit(T)) {
      uint32_t fifth;
      std::memcpy(&fifth, block + int8_bits_offset(T), 4);
      // Byte j takes byte j/8 of qh, then tests its bit j%8.
      const __m256i spread = _mm256_shuffle_epi8(
          _mm256_set1_epi32(static_cast<int>(fifth)),
          _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
      const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
      const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
      w = _mm256_or_si256(w, _mm256_and_si256(set, _mm256_set1_epi8(16)));
    }
    return w;
  }
}

template <bool kVnni>
struct Avx2Int8 {
  // R accumulators, the weight vector, its absolute value and temporaries fit 16 registers.
  static constexpr int kMaxRows = 4;

  // Eight int32 sums of four products each, unsigned weight bytes by signed activation bytes:
  // vpmaddubsw into int16 pairs, widened and paired by vpmaddwd; or one VNNI vpdpbusd. The same
  // sums when no pair saturates int16, which the callers' ranges rule out.
  static __m256i lane_sums(__m256i w, __m256i x) {
    if constexpr (kVnni) {
      return _mm256_dpbusd_epi32(_mm256_setzero_si256(), w, x);
    } else {
      return _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1));
    }
  }

  // One block against R rows: per row eight int32 lane sums, scaled by d_w * d_x into out[r].
  template <MatrixType T, int R>
  static void block_step(const uint8_t* block, const uint8_t* const (&rows)[R], size_t lane_bytes, size_t b,
                         __m256 (&out)[R]) {
    block_step<T, R>(weight_bytes<T>(block), broadcast_half(block), block, rows, lane_bytes, b, out);
  }

  // The same from the block's value bytes w and scale d (q8_0r's are apart).
  template <MatrixType T, int R>
  static void block_step(__m256i w, __m256 d, const uint8_t* block, const uint8_t* const (&rows)[R],
                         size_t lane_bytes, size_t b, __m256 (&out)[R]) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const uint8_t* at = rows[r] + b * kMatrixQuantBlock;  // block b of each array sits at 32b bytes
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
      __m256i lanes;
      if constexpr (T == MatrixType::Q8_0 || T == MatrixType::Q8_0R) {
        // |w| * (x with w's sign): an unsigned-by-signed product, whose pair sums never saturate
        // (|w| <= 128, |x| <= 127).
        lanes = lane_sums(_mm256_abs_epi8(w), _mm256_sign_epi8(x, w));
      } else {
        lanes = lane_sums(w, x);  // w <= 31: no saturation
      }
      if constexpr (int8_weight_offset(T) != 0) {
        lanes = _mm256_add_epi32(lanes, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at + 2 * lane_bytes)));
      }
      const __m256 scale = _mm256_mul_ps(d, _mm256_loadu_ps(reinterpret_cast<const float*>(at + lane_bytes)));
      out[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), scale, out[r]);
      if constexpr (int8_has_minimum(T)) {
        const __m256 m = _mm256_set1_ps(load_half(block + 2));
        out[r] = _mm256_fmadd_ps(m, _mm256_loadu_ps(reinterpret_cast<const float*>(at + 3 * lane_bytes)), out[r]);
      }
    }
  }

  // One q5_0r group of K blocks (kernels/q5_0r.h) of C weight rows against R activation rows.
  // Per block and weight row: nibbles (a mask, or a shift and a mask), fifth bits (one
  // 64-bit lane shift of the pair word puts each at bit 4 of its value's byte, mask) and an or;
  // the eight blocks' scales d_w * d_x are formed once per group and read back broadcast, and the
  // offset's share (-16 d_w d_x Σq) is one multiply-add per group.
  template <int K, int C, int R>
  static inline __attribute__((always_inline)) void q5_0r_group(const uint8_t* const (&groups)[C],
                                                                const uint8_t* const (&rows)[R], const float* const (&dx)[R],
                                                                const float* const (&ox)[R], int g0, __m256 (&acc)[C][R]) {
    // Lanes past K are not loaded (a short last group): zero scales, zero terms.
    const __m256i present = _mm256_cmpgt_epi32(_mm256_set1_epi32(K), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    alignas(32) float scales[C][R][kQ5_0rGroup];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      __m128i halves = _mm_setzero_si128();
      std::memcpy(&halves, groups[c], 2 * K);
      const __m256 dw = _mm256_cvtph_ps(halves);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        _mm256_store_ps(scales[c][r], _mm256_mul_ps(dw, _mm256_maskload_ps(dx[r] + g0, present)));
        acc[c][r] = _mm256_fmadd_ps(dw, _mm256_maskload_ps(ox[r] + g0, present), acc[c][r]);
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < K; ++i) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const __m256i w =
            q5_0r_stored_bytes(groups[c] + 2 * K + 8 * (i / 2), i % 2 == 1, groups[c] + 6 * K + 32 * (i / 2));
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[r] + (g0 + i) * kMatrixQuantBlock));
          const __m256i lanes = lane_sums(w, x);  // w <= 31: no saturation
          acc[c][r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), _mm256_broadcast_ss(&scales[c][r][i]), acc[c][r]);
        }
      }
    }
  }

  // Weight rows [j, j + C) of a q5_0r matrix against rows [r0, r0 + R).
  template <int C, int R>
  static void q5_0r_columns(const Int8Rows& x, int r0, const WeightMatrix& w, int j, bool prefetch,
                            const uint8_t*& next_prefetch, const float* bias, bool accumulate, float* y, int ldy) {
    const int n_blocks = x.blocks;
    const uint8_t* rows[R];
    const float* dx[R];
    const float* ox[R];
    for (int r = 0; r < R; ++r) {
      rows[r] = reinterpret_cast<const uint8_t*>(x.values(r0 + r));
      dx[r] = x.block_scales(r0 + r);
      ox[r] = x.block_offset_terms(r0 + r);
    }
    __m256 acc[C][R];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[c][r] = _mm256_setzero_ps();
    }
    for (int g0 = 0; g0 < n_blocks; g0 += kQ5_0rGroup) {
      const int k = std::min(kQ5_0rGroup, n_blocks - g0);
      const uint8_t* groups[C];
      for (int c = 0; c < C; ++c) groups[c] = w.row_data(j + c) + static_cast<size_t>(g0) * kQ5_0rBlockBytes;
      if (prefetch) {
        const uint8_t* end = groups[C - 1] + static_cast<size_t>(k) * kQ5_0rBlockBytes + kPrefetchBytes;
        for (; next_prefetch < end; next_prefetch += 64) _mm_prefetch(next_prefetch, _MM_HINT_T0);
      }
      switch (k) {
        case 8: q5_0r_group<8, C, R>(groups, rows, dx, ox, g0, acc); break;
        case 6: q5_0r_group<6, C, R>(groups, rows, dx, ox, g0, acc); break;
        case 4: q5_0r_group<4, C, R>(groups, rows, dx, ox, g0, acc); break;
        default: q5_0r_group<2, C, R>(groups, rows, dx, ox, g0, acc); break;  // rows hold an even count
      }
    }
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) store_int8_result(y, ldy, r0 + r, j + c, horizontal_sum(acc[c][r]), bias, accumulate);
    }
  }

  // Weight rows [c0, c1) of a q8_0r matrix (read by the 512-bit kernel; here for other
  // instruction sets on the same model) against rows [r0, r0 + R): q8_0's blocks, found apart.
  template <int R>
  static void q8_0r_columns(const Int8Rows& x, int r0, const WeightMatrix& w, int c0, int c1, const float* bias,
                            bool accumulate, float* y, int ldy) {
    const uint8_t* rows[R];
    for (int r = 0; r < R; ++r) rows[r] = x.row(r0 + r);
    for (int j = c0; j < c1; ++j) {
      const uint8_t* row = w.row_data(j);
      __m256 acc[R];
      for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
      for (int b = 0; b < x.blocks; ++b) {
        const Q8_0rLayout at = q8_0r_layout(x.blocks, b);
        const __m256i values = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + at.values));
        block_step<MatrixType::Q8_0R, R>(values, broadcast_half(row + at.scale), nullptr, rows, x.lane_array_bytes(),
                                         static_cast<size_t>(b), acc);
      }
      for (int r = 0; r < R; ++r) store_int8_result(y, ldy, r0 + r, j, horizontal_sum(acc[r]), bias, accumulate);
    }
  }

  template <MatrixType T, int R>
  static void columns(const Int8Rows& x, int r0, const WeightMatrix& w, int c0, int c1, bool prefetch,
                      const float* bias, bool accumulate, float* y, int ldy) {
    if constexpr (T == MatrixType::Q8_0R) {
      q8_0r_columns<R>(x, r0, w, c0, c1, bias, accumulate, y, ldy);
    } else if constexpr (T == MatrixType::Q5_0R) {
      // Four weight rows side by side for one activation row (independent chains sharing its
      // loads), two for two, one for more.
      constexpr int kCols = R == 1 ? 4 : R == 2 ? 2 : 1;
      const uint8_t* next_prefetch = w.row_data(c0) + kPrefetchBytes;
      int j = c0;
      for (; j + kCols <= c1; j += kCols) {
        q5_0r_columns<kCols, R>(x, r0, w, j, prefetch, next_prefetch, bias, accumulate, y, ldy);
      }
      for (; j < c1; ++j) q5_0r_columns<1, R>(x, r0, w, j, prefetch, next_prefetch, bias, accumulate, y, ldy);
    } else {
      ggml_columns<T, R>(x, r0, w, c0, c1, prefetch, bias, accumulate, y, ldy);
    }
  }

  // The same for ggml's block layouts.
  template <MatrixType T, int R>
  static void ggml_columns(const Int8Rows& x, int r0, const WeightMatrix& w, int c0, int c1, bool prefetch,
                           const float* bias, bool accumulate, float* y, int ldy) {
    constexpr size_t kBlockBytes = quant_block_bytes(T);
    // The nibble types' blocks are a long chain of dependent steps (unpack, fifth bits, two
    // integer multiplies, convert, FMA): with few rows, several weight rows run side by side
    // (sharing the activation loads) for independent work; measured on q5_0, one row: +25 %
    // (q8_0, whose unpacking is one load, runs best one weight row at a time, two chains).
    constexpr bool kNibbles = T != MatrixType::Q8_0;
    constexpr int kCols = kNibbles && R == 1 ? 4 : kNibbles && R == 2 ? 2 : 1;
    // One row alone has a single FMA chain per vector: two chains (alternate blocks) hide its latency.
    constexpr int kChains = kCols == 1 && R == 1 ? 2 : 1;
    const uint8_t* rows[R];
    for (int r = 0; r < R; ++r) rows[r] = x.row(r0 + r);
    const size_t lane_bytes = x.lane_array_bytes();
    const size_t n_blocks = static_cast<size_t>(x.blocks);
    const uint8_t* next_prefetch = w.row_data(c0) + kPrefetchBytes;
    int j = c0;
    for (; kCols > 1 && j + kCols <= c1; j += kCols) {
      const uint8_t* row = w.row_data(j);
      __m256 acc[kCols][R];
#pragma GCC unroll 4
      for (int c = 0; c < kCols; ++c) {
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) acc[c][r] = _mm256_setzero_ps();
      }
      for (size_t b = 0; b < n_blocks; ++b) {
        if (prefetch) {
          const uint8_t* end = w.row_data(j + kCols - 1) + (b + 1) * kBlockBytes + kPrefetchBytes;
          for (; next_prefetch < end; next_prefetch += 64) _mm_prefetch(next_prefetch, _MM_HINT_T0);
        }
#pragma GCC unroll 4
        for (int c = 0; c < kCols; ++c) {
          block_step<T, R>(row + c * w.row_bytes + b * kBlockBytes, rows, lane_bytes, b, acc[c]);
        }
      }
#pragma GCC unroll 4
      for (int c = 0; c < kCols; ++c) {
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) store_int8_result(y, ldy, r0 + r, j + c, horizontal_sum(acc[c][r]), bias, accumulate);
      }
    }
    for (; j < c1; ++j) {  // one weight row at a time (and the last rows of the groups above)
      const uint8_t* row = w.row_data(j);
      __m256 acc[kChains][R];
      for (int c = 0; c < kChains; ++c) {
        for (int r = 0; r < R; ++r) acc[c][r] = _mm256_setzero_ps();
      }
      size_t b = 0;
      for (; b + kChains <= n_blocks; b += kChains) {
        const uint8_t* block = row + b * kBlockBytes;
        if (prefetch) {
          for (; next_prefetch < block + kPrefetchBytes; next_prefetch += 64) _mm_prefetch(next_prefetch, _MM_HINT_T0);
        }
#pragma GCC unroll 2
        for (int c = 0; c < kChains; ++c) block_step<T, R>(block + c * kBlockBytes, rows, lane_bytes, b + c, acc[c]);
      }
      for (; b < n_blocks; ++b) block_step<T, R>(row + b * kBlockBytes, rows, lane_bytes, b, acc[0]);
      for (int r = 0; r < R; ++r) {
        __m256 sum = acc[0][r];
        if constexpr (kChains == 2) sum = _mm256_add_ps(sum, acc[1][r]);
        store_int8_result(y, ldy, r0 + r, j, horizontal_sum(sum), bias, accumulate);
      }
    }
  }
};

}  // namespace
}  // namespace wisp
