#include "kernels/q8_0r.h"

#include <cstring>

#include "kernels/convert.h"

namespace wisp {

void q8_0r_regroup_row(const uint8_t* q8_0, int n_blocks, uint8_t* q8_0r) {
  for (int b = 0; b < n_blocks; ++b) {
    const uint8_t* src = q8_0 + static_cast<size_t>(b) * kQ8_0rBlockBytes;  // d, qs
    const Q8_0rLayout at = q8_0r_layout(n_blocks, b);
    std::memcpy(q8_0r + at.scale, src, 2);
    std::memcpy(q8_0r + at.values, src + 2, 32);
  }
}

void q8_0r_row_to_f32(const uint8_t* row, int cols, float* dst) {
  const int n_blocks = cols / 32;
  for (int b = 0; b < n_blocks; ++b) {
    const Q8_0rLayout at = q8_0r_layout(n_blocks, b);
    uint16_t h;
    std::memcpy(&h, row + at.scale, sizeof h);
    const float d = f16_to_f32(h);
    const auto* q = reinterpret_cast<const int8_t*>(row + at.values);
    for (int v = 0; v < 32; ++v) dst[32 * b + v] = static_cast<float>(q[v]) * d;
  }
}

}  // namespace wisp
