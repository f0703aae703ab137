// Internals of the int8 decode path (quant_dot.h): the quantized activation layout, the per-ISA
// kernels behind linear_quant_int8, and the row-pass / column-tile driver they share. Tests and
// benchmarks use the entry that takes the kernel explicitly.
//
// The rule, for every 32-value block of an activation row: d = max|x| / 127 (f32, not rounded
// to f16 as ggml's q8_0 does), q = nearest-even(x * (1/d)) in [-127, 127], all zero when d = 0.
// A weight block (d_w, q_w, and m_w for the _1 types) then contributes
//   d_w * d * Σ q_w q  (+ m_w * d * Σ q)
// exactly the dequantized weights against the quantized activations (the minimum term uses the
// quantized block sum d * Σq, as ggml's q8_1). The integer dot is exact; the float part is one
// multiply-add per block (per vector lane, summed once per output at the end).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "kernels/cpu_features.h"
#include "kernels/ops.h"
#include "kernels/weight_matrix.h"

namespace wisp {

// AVX2 (maddubs) also serves AVX-512 CPUs without VNNI; Vnni is the same kernel with vpdpbusd
// (AVX512-VNNI on 256-bit vectors), bit-identical to it; Avx512 is Vnni with q5_0r rows on
// 512-bit vectors (needs GFNI and BITALG too; the same sums, added in another order).
enum class Int8Kernel { Scalar, Avx2, Vnni, Avx512 };

const char* int8_kernel_name(Int8Kernel kernel);
bool cpu_supports_int8_kernel(Int8Kernel kernel);
// The kernel linear_quant_int8 uses for the active instruction set (see cpu_features.h):
// under Avx512: Avx512 where the CPU has AVX512-VNNI, GFNI and BITALG, else Vnni where it has
// AVX512-VNNI; AVX2 (maddubs) under Avx512 or Avx2; else scalar.
Int8Kernel int8_kernel_for(Isa isa);
// Whether the kernel runs quant_dot_avx2_kernel.h's code (AVX2 or VNNI): the one that reads q5_0r.
constexpr bool int8_kernel_is_avx2_family(Int8Kernel kernel) { return kernel != Int8Kernel::Scalar; }

// Most activation rows one call takes (decode steps: batch x tokens); buffers are sized for it.
inline constexpr int kInt8MaxRows = 16;
// Vector lanes (32-bit) per block in the lane arrays below: a 256-bit vector per block.
inline constexpr int kInt8Lanes = 8;

// Activation rows quantized to int8 blocks, with per-block terms replicated over kInt8Lanes
// lanes so that SIMD kernels read them as plain vectors (block b at [8b, 8b+8)).
struct Int8Rows {
  int rows = 0, blocks = 0;  // blocks per row = in / 32
  size_t stride = 0;         // bytes between rows in `base`
  uint8_t* base = nullptr;

  // Quantized values, block b at [32b, 32b+32).
  int8_t* values(int r) const { return reinterpret_cast<int8_t*>(row(r)); }
  // d of each block.
  float* scales(int r) const { return reinterpret_cast<float*>(row(r) + lane_array_bytes()); }
  // The _0 types: -k * Σq per lane, added to the integer lane sums of the kernels whose weight
  // bytes carry an offset (Σ lanes = -8k Σq cancels an offset 8k on every weight value).
  int32_t* offsets(int r) const { return reinterpret_cast<int32_t*>(row(r) + 2 * lane_array_bytes()); }
  // The _1 types: d * Σq / 8 per lane, multiplied by the weight block's minimum m (8 lanes sum
  // to m d Σq).
  float* minimum_terms(int r) const { return reinterpret_cast<float*>(row(r) + 3 * lane_array_bytes()); }
  // Per block, one float each (the regrouped types' kernels read eight blocks' at a time): d,
  // and -offset * d * Σq, the block's share of the weights' offset (the 256-bit q5_0r kernel).
  float* block_scales(int r) const { return reinterpret_cast<float*>(row(r) + 4 * lane_array_bytes()); }
  float* block_offset_terms(int r) const { return block_scales(r) + blocks; }

  size_t lane_array_bytes() const { return static_cast<size_t>(blocks) * kInt8Lanes * 4; }
  uint8_t* row(int r) const { return base + stride * static_cast<size_t>(r); }
  // Bytes one row needs (values, three lane arrays, two block arrays), rounded to a cache line.
  static size_t row_bytes(int in) {
    const size_t blocks = static_cast<size_t>(in) / kMatrixQuantBlock;
    return (blocks * (kMatrixQuantBlock + 3 * kInt8Lanes * 4 + 2 * 4) + 63) / 64 * 64;
  }
};

// What the kernel for a weight type needs besides values and scales: the per-lane multiple k of
// -Σq (offsets), the minimum terms, or the block arrays with this weight offset.
struct Int8Terms {
  int offset_multiple = 0;
  bool minimum = false;
  bool block_scales = false;  // fill block_scales
  int block_offset = 0;       // fill block_scales and block_offset_terms with this offset (0: neither)
};
Int8Terms int8_terms(Int8Kernel kernel, MatrixType type);

// Quantizes x[rows][in] (in a multiple of 32) into `out` (rows, blocks, stride and base set).
// Every implementation gives identical bytes.
void quantize_rows_scalar(const float* x, int rows, int in, Int8Terms terms, const Int8Rows& out);
void quantize_rows_avx2(const float* x, int rows, int in, Int8Terms terms, const Int8Rows& out);

// y[r*ldy + j] = (accumulate ? y : 0) + dot(x row r, w row j) + bias[j] (bias may be null), for
// r < x.rows and j in [col_begin, col_end). x was quantized with int8_terms(kernel, w.type).
using Int8Gemv = void (*)(const Int8Rows& x, const WeightMatrix& w, int col_begin, int col_end, const float* bias,
                          bool accumulate, float* y, int ldy);
extern const Int8Gemv kInt8GemvScalar;
extern const Int8Gemv kInt8GemvAvx2;
extern const Int8Gemv kInt8GemvVnni;
extern const Int8Gemv kInt8GemvAvx512;

// linear_quant_int8 on a given kernel (which this CPU must support), for tests and benchmarks.
void linear_quant_int8_with(Int8Kernel kernel, const float* x, int rows, int in, const WeightMatrix& w,
                            const float* bias, int out, float* y, Epilogue epilogue);

// The quantized activations linear_quant_int8_with would compute for x (its calling thread's
// buffer, valid until the next call on this thread), for tests.
Int8Rows quantize_activations(Int8Kernel kernel, const float* x, int rows, int in, MatrixType type);

// ---- The driver the SIMD kernels share --------------------------------------------------------

// Weight bytes a column tile may span when rows need several passes: the later passes then find
// the tile in L1/L2 instead of streaming it from memory again.
inline constexpr size_t kInt8TileBytes = 16 * 1024;

inline void store_int8_result(float* y, int ldy, int r, int j, float sum, const float* bias, bool accumulate) {
  float& out = y[static_cast<size_t>(r) * ldy + j];
  out = (accumulate ? out : 0.0f) + (sum + (bias ? bias[j] : 0.0f));
}

// K::kMaxRows rows fit one pass; K::columns<T, R>(x, r0, w, c0, c1, prefetch, bias, accumulate,
// y, ldy) computes rows [r0, r0+R) for columns [c0, c1), streaming their weight rows in order.
template <class K, MatrixType T, int... Rs>
void int8_rows_pass(std::integer_sequence<int, Rs...>, int n_rows, const Int8Rows& x, int r0, const WeightMatrix& w,
                    int c0, int c1, bool prefetch, const float* bias, bool accumulate, float* y, int ldy) {
  // The instantiation for R = n_rows (Rs + 1 covers 1..kMaxRows).
  (void)((n_rows == Rs + 1 &&
          (K::template columns<T, Rs + 1>(x, r0, w, c0, c1, prefetch, bias, accumulate, y, ldy), true)) ||
         ...);
}

template <class K, MatrixType T>
void int8_gemv_typed(const Int8Rows& x, const WeightMatrix& w, int col_begin, int col_end, const float* bias,
                     bool accumulate, float* y, int ldy) {
  constexpr int kMax = K::kMaxRows;
  const int passes = (x.rows + kMax - 1) / kMax;
  // One pass: a single tile, one uninterrupted stream. Several: tiles the later passes reuse.
  const int tile = passes == 1 ? col_end - col_begin
                               : std::max(1, static_cast<int>(kInt8TileBytes / std::max<size_t>(w.row_bytes, 1)));
  // A single row on huge pages leaves the stream to the hardware prefetcher, whose pace the
  // prefetch instructions only hold back (base-shaped decode stream, Zen 4, one core: q8_0r 22 ->
  // 29 GB/s, q8_0 22 -> 23, q5_0r the same; kernels_bench BM_DecodeWeightStream); several rows
  // still gain from them (5 rows: 5.0 vs 5.1-5.3 ms per base q5_0 call).
  const bool prefetch = !(w.on_huge_pages && x.rows == 1);
  for (int c0 = col_begin; c0 < col_end; c0 += tile) {
    const int c1 = std::min(col_end, c0 + tile);
    int r0 = 0;
    for (int p = 0; p < passes; ++p) {
      const int n = (x.rows - r0) / (passes - p);  // balanced passes: 9 rows in 8s -> 5 + 4
      int8_rows_pass<K, T>(std::make_integer_sequence<int, kMax>{}, n, x, r0, w, c0, c1, p == 0 && prefetch, bias, accumulate, y,
                           ldy);
      r0 += n;
    }
  }
}

template <class K>
void int8_gemv(const Int8Rows& x, const WeightMatrix& w, int col_begin, int col_end, const float* bias,
               bool accumulate, float* y, int ldy) {
  switch (w.type) {
    case MatrixType::Q8_0:
      return int8_gemv_typed<K, MatrixType::Q8_0>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::Q5_0:
      return int8_gemv_typed<K, MatrixType::Q5_0>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::Q5_1:
      return int8_gemv_typed<K, MatrixType::Q5_1>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::Q4_0:
      return int8_gemv_typed<K, MatrixType::Q4_0>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::Q4_1:
      return int8_gemv_typed<K, MatrixType::Q4_1>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::Q5_0R:
      return int8_gemv_typed<K, MatrixType::Q5_0R>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::Q8_0R:
      return int8_gemv_typed<K, MatrixType::Q8_0R>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
    case MatrixType::F32:
    case MatrixType::F16:
    case MatrixType::BF16: break;
  }
}

// The 512-bit kernel reads q8_0r values as unsigned bytes q + 128 (vpdpbusd multiplies unsigned
// by signed), with -128 d Σq per block from the activations' block arrays.
inline constexpr int kQ8_0rFlip = 128;

// Weight value offsets of the _0 types (stored value = q + offset; q8_0 has none).
constexpr int int8_weight_offset(MatrixType type) {
  return type == MatrixType::Q4_0 ? 8 : type == MatrixType::Q5_0 || type == MatrixType::Q5_0R ? 16 : 0;
}
constexpr bool int8_has_minimum(MatrixType type) { return type == MatrixType::Q4_1 || type == MatrixType::Q5_1; }
constexpr bool int8_has_fifth_bit(MatrixType type) { return type == MatrixType::Q5_0 || type == MatrixType::Q5_1; }
// Byte offset of the fifth bits (q5) / of the nibbles (q4, q8's values) in a block.
constexpr int int8_bits_offset(MatrixType type) { return int8_has_minimum(type) ? 4 : 2; }
constexpr int int8_nibbles_offset(MatrixType type) {
  return int8_bits_offset(type) + (int8_has_fifth_bit(type) ? 4 : 0);
}

}  // namespace wisp
