// q5_0r: ggml's q5_0 blocks (an f16 scale d, 32 five-bit values q, value = d * (q - 16)) regrouped
// within each row at load, so that the AVX2 int8 decode kernel unpacks a block in four or five
// vector operations instead of nine, the AVX-512 one a pair of blocks in four, and both read
// eight blocks' scales with one load. Same values, same scales, same 22 bytes per block: only
// the order of the bits changes.
//
// A row of n blocks (n even) is split into groups of 8 blocks (the last one holds the remaining
// k = n mod 8 blocks, if any). A group of k blocks is
//   k f16 scales | k / 2 fifth-bit words (u64, one per pair of blocks) | k / 2 x 32 nibble bytes
// Pair p's 32 nibble bytes interleave its two blocks: byte i (0..31) holds the low four bits of
// value i of block 2p in its low nibble and of value i of block 2p + 1 in its high nibble, so
// one mask (or a shift and a mask) gives a block's 32 values in order, and one byte-wise bit
// matrix per 64-bit lane gives both blocks' from the 32 bytes loaded twice. Pair word p holds
// the fifth bits of blocks 2p and 2p + 1, arranged for 64-bit lane shifts: with v = 8a + j
// (a = 0..3, j = 0..7), the fifth bit of value v is
//   bit 8j + 4 + a of the word for block 2p (shift the word right by a),
//   bit 8j + 3 - a of the word for block 2p + 1 (shift it left by a + 1),
// which puts it at bit 4 of byte j of 64-bit lane a, where the value's byte sits.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace wisp {

inline constexpr int kQ5_0rGroup = 8;       // blocks per group
inline constexpr size_t kQ5_0rBlockBytes = 22;

// Rows of `cols` values regroup when their block count is even (every Whisper width is a
// multiple of 64).
constexpr bool q5_0r_regroupable(int cols) { return cols > 0 && cols % 64 == 0; }

// Where block b of a row of n_blocks blocks lives: byte offsets from the row's start.
struct Q5_0rLayout {
  size_t scale;    // f16
  size_t bits;     // the pair word (8 bytes) holding this block's fifth bits
  bool odd;        // second block of its pair (its values in the high nibbles)
  size_t nibbles;  // the pair's 32 nibble bytes
};

inline Q5_0rLayout q5_0r_layout(int n_blocks, int b) {
  const int first = b / kQ5_0rGroup * kQ5_0rGroup, i = b - first;
  const size_t k = static_cast<size_t>(std::min(kQ5_0rGroup, n_blocks - first));
  const size_t group = static_cast<size_t>(first) * kQ5_0rBlockBytes;
  const size_t slot = static_cast<size_t>(i);
  return {group + 2 * slot, group + 2 * k + 8 * (slot / 2), (i & 1) != 0, group + 6 * k + 32 * (slot / 2)};
}

struct Q5_0rBlock {
  const uint8_t* scale;
  const uint8_t* bits;
  bool odd;
  const uint8_t* nibbles;  // the pair's 32 bytes
};

inline Q5_0rBlock q5_0r_block(const uint8_t* row, int n_blocks, int b) {
  const Q5_0rLayout at = q5_0r_layout(n_blocks, b);
  return {row + at.scale, row + at.bits, at.odd, row + at.nibbles};
}

// Bit position of value v's fifth bit in its pair word.
constexpr int q5_0r_fifth_bit_position(bool odd, int v) {
  return odd ? 8 * (v % 8) + 3 - v / 8 : 8 * (v % 8) + 4 + v / 8;
}

// The stored five-bit value q (0..31) of value v of a block.
inline int q5_0r_stored_value(const Q5_0rBlock& block, int v) {
  uint64_t word;
  std::memcpy(&word, block.bits, sizeof word);
  const uint8_t byte = block.nibbles[v];
  const int low = block.odd ? byte >> 4 : byte & 15;
  return low | static_cast<int>((word >> q5_0r_fifth_bit_position(block.odd, v)) & 1) << 4;
}

// Regroups one row of n_blocks q5_0 blocks (n_blocks even) from `q5_0` into `q5_0r`.
void q5_0r_regroup_row(const uint8_t* q5_0, int n_blocks, uint8_t* q5_0r);

// One q5_0r row of `cols` values as f32, equal to ggml's q5_0 dequantization of the source row.
void q5_0r_row_to_f32(const uint8_t* row, int cols, float* dst);

}  // namespace wisp
