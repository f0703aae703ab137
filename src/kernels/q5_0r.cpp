#include "kernels/q5_0r.h"

#include "kernels/convert.h"

namespace wisp {

void q5_0r_regroup_row(const uint8_t* q5_0, int n_blocks, uint8_t* q5_0r) {
  for (int b = 0; b < n_blocks; b += 2) {
    uint32_t fifth[2];
    for (int h = 0; h < 2; ++h) {
      const uint8_t* src = q5_0 + static_cast<size_t>(b + h) * kQ5_0rBlockBytes;  // d, qh, qs
      const Q5_0rLayout at = q5_0r_layout(n_blocks, b + h);
      std::memcpy(q5_0r + at.scale, src, 2);
      std::memcpy(&fifth[h], src + 2, 4);
      std::memcpy(q5_0r + at.nibbles, src + 6, 16);
    }
    uint64_t word = 0;
    for (int v = 0; v < 32; ++v) {
      word |= static_cast<uint64_t>((fifth[0] >> v) & 1) << q5_0r_fifth_bit_position(false, v);
      word |= static_cast<uint64_t>((fifth[1] >> v) & 1) << q5_0r_fifth_bit_position(true, v);
    }
    std::memcpy(q5_0r + q5_0r_layout(n_blocks, b).bits, &word, sizeof word);
  }
}

void q5_0r_row_to_f32(const uint8_t* row, int cols, float* dst) {
  const int n_blocks = cols / 32;
  for (int b = 0; b < n_blocks; ++b) {
    const Q5_0rBlock block = q5_0r_block(row, n_blocks, b);
    uint16_t h;
    std::memcpy(&h, block.scale, sizeof h);
    const float d = f16_to_f32(h);
    for (int v = 0; v < 32; ++v) dst[32 * b + v] = static_cast<float>(q5_0r_stored_value(block, v) - 16) * d;
  }
}

}  // namespace wisp
