#include "kernels/q5_0r.h"

#include <array>

#include "kernels/convert.h"

namespace wisp {

namespace {

// Bit j of the index at bit 8j (the low bit of byte j).
constexpr std::array<uint64_t, 256> kSpreadBits = [] {
  std::array<uint64_t, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    for (int j = 0; j < 8; ++j) table[byte] |= static_cast<uint64_t>((byte >> j) & 1) << (8 * j);
  }
  return table;
}();

}  // namespace

void q5_0r_regroup_row(const uint8_t* q5_0, int n_blocks, uint8_t* q5_0r) {
  for (int b = 0; b < n_blocks; b += 2) {
    uint32_t fifth[2];
    uint8_t* nibbles = q5_0r + q5_0r_layout(n_blocks, b).nibbles;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* src = q5_0 + static_cast<size_t>(b + h) * kQ5_0rBlockBytes;  // d, qh, qs
      std::memcpy(q5_0r + q5_0r_layout(n_blocks, b + h).scale, src, 2);
      std::memcpy(&fifth[h], src + 2, 4);
      // q5_0's byte i holds value i (low nibble) and value i + 16 (high nibble).
      for (int v = 0; v < 32; ++v) {
        const int low = v < 16 ? src[6 + v] & 15 : src[6 + v - 16] >> 4;
        if (h == 0) nibbles[v] = static_cast<uint8_t>(low);
        else nibbles[v] = static_cast<uint8_t>(nibbles[v] | low << 4);
      }
    }
    // Byte a of the fifth bits holds values 8a..8a+7: spread to bytes, bit j to bit 8j, then
    // shifted to bit 4 + a (first block) or 3 - a (second).
    uint64_t word = 0;
    for (int a = 0; a < 4; ++a) {
      word |= kSpreadBits[(fifth[0] >> (8 * a)) & 255] << (4 + a);
      word |= kSpreadBits[(fifth[1] >> (8 * a)) & 255] << (3 - a);
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
