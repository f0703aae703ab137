// q8_0r: ggml's q8_0 blocks (an f16 scale d, 32 signed bytes q, value = d * q) regrouped within
// each row at load, so that the 512-bit int8 decode kernel (quant_dot_avx512.cpp) reads two
// blocks' values as one 64-byte vector and eight blocks' scales with one load: from the stored
// blocks it has to gather them (34-byte blocks), which ran slower than the 256-bit kernel. Same
// values, same scales, same 34 bytes per block: only the order of the bytes changes.
//
// A row of n blocks (n even) is split into groups of 8 blocks (the last one holds the remaining
// k = n mod 8 blocks, if any). A group of k blocks is
//   k f16 scales | k x 32 value bytes
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace wisp {

inline constexpr int kQ8_0rGroup = 8;  // blocks per group
inline constexpr size_t kQ8_0rBlockBytes = 34;

// Rows of `cols` values regroup when their block count is even (every Whisper width is a
// multiple of 64): the kernel reads blocks in pairs.
constexpr bool q8_0r_regroupable(int cols) { return cols > 0 && cols % 64 == 0; }

// Where block b of a row of n_blocks blocks lives: byte offsets from the row's start.
struct Q8_0rLayout {
  size_t scale;   // f16
  size_t values;  // 32 bytes
};

inline Q8_0rLayout q8_0r_layout(int n_blocks, int b) {
  const int first = b / kQ8_0rGroup * kQ8_0rGroup;
  const size_t k = static_cast<size_t>(std::min(kQ8_0rGroup, n_blocks - first));
  const size_t group = static_cast<size_t>(first) * kQ8_0rBlockBytes;
  const size_t slot = static_cast<size_t>(b - first);
  return {group + 2 * slot, group + 2 * k + 32 * slot};
}

// Regroups one row of n_blocks q8_0 blocks (n_blocks even) from `q8_0` into `q8_0r`.
void q8_0r_regroup_row(const uint8_t* q8_0, int n_blocks, uint8_t* q8_0r);

// One q8_0r row of `cols` values as f32, equal to ggml's q8_0 dequantization of the source row.
void q8_0r_row_to_f32(const uint8_t* row, int cols, float* dst);

}  // namespace wisp
