// The reference product on block-quantized weights read in place (int16_gemm_blocks): the AVX2
// kernels must match these bit for bit.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/int16_gemm_internal.h"

namespace wisp {

void int16_unpack_blocks_scalar(const WeightMatrix& w, int j0, int b0, int nb, int32_t* words, float* scales) {
  float multipliers[kInt16PassBlocks];
  for (int r = 0; r < kPanelWidth; ++r) {
    const bool present = j0 + r < w.rows;
    scales[r] = present ? int16_block_multipliers(w, j0 + r, b0, nb, multipliers) : 0.0f;
    for (int b = 0; b < nb; ++b) {
      for (int p = 0; p < kInt16BlockPairs; ++p) {
        uint32_t word = 0;
        if (present) {
          auto rounded = [&](int j) {
            const float q = static_cast<float>(int16_block_value(w, j0 + r, b0 + b, j));
            return static_cast<uint16_t>(static_cast<int32_t>(std::nearbyint(q * multipliers[b])));
          };
          word = rounded(2 * p) | static_cast<uint32_t>(rounded(2 * p + 1)) << 16;
        }
        words[static_cast<size_t>(b * kInt16BlockPairs + p) * kPanelWidth + r] = static_cast<int32_t>(word);
      }
    }
  }
}

void int16_block_quant_scalar(int m, int n, const int32_t* a_tiles, const float* a_scales, const WeightMatrix& w,
                              float* c, size_t ldc) {
  const int k2 = w.cols / 2;
  const int n_blocks = w.cols / kMatrixQuantBlock;
  std::vector<int32_t> words(static_cast<size_t>(kInt16PassBlocks) * kInt16BlockPairs * kPanelWidth);
  float scales[kPanelWidth];
  for (int j0 = 0; j0 < n; j0 += kPanelWidth) {
    for (int b0 = 0; b0 < n_blocks; b0 += kInt16PassBlocks) {
      const int nb = std::min(kInt16PassBlocks, n_blocks - b0);
      int16_unpack_blocks_scalar(w, j0, b0, nb, words.data(), scales);
      for (int i = 0; i < m; ++i) {
        const int32_t* a_row = a_tiles + static_cast<size_t>(i / kInt16TileRows) * kInt16TileRows * k2 +
                               static_cast<size_t>(b0) * kInt16BlockPairs * kInt16TileRows + i % kInt16TileRows;
        for (int j = j0; j < std::min(n, j0 + kPanelWidth); ++j) {
          int32_t pass = 0;  // exact: see kInt16DepthBlock
          for (int p = 0; p < nb * kInt16BlockPairs; ++p) {
            const int32_t x = a_row[static_cast<size_t>(p) * kInt16TileRows];
            const int32_t v = words[static_cast<size_t>(p) * kPanelWidth + (j - j0)];
            pass += static_cast<int16_t>(x & 0xffff) * static_cast<int16_t>(v & 0xffff) +
                    static_cast<int16_t>(x >> 16) * static_cast<int16_t>(v >> 16);
          }
          const float scale = a_scales[i] * scales[j - j0];
          float& out = c[static_cast<size_t>(i) * ldc + j];
          out = b0 == 0 ? static_cast<float>(pass) * scale : std::fma(static_cast<float>(pass), scale, out);
        }
      }
    }
  }
}

}  // namespace wisp
