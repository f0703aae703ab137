// The reference integer product and rounding: the AVX2 kernels must match these bit for bit.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/int16_gemm_internal.h"

namespace wisp {

void int16_quantize_scalar(int m, int k, const float* a, size_t lda, int group, int32_t* words, float* scales) {
  const int k2 = (k + 1) / 2;
  const int m_padded = (m + group - 1) / group * group;
  for (int i = 0; i < m_padded; ++i) {
    const float* x = i < m ? a + static_cast<size_t>(i) * lda : nullptr;
    float inverse = 0.0f;
    if (x != nullptr) {
      const Int16RowScale s = int16_row_scale(int16_max_abs(x, k));
      scales[i] = s.scale;
      inverse = s.inverse;
    }
    int32_t* dst = words + static_cast<size_t>(i / group) * group * k2 + i % group;
    for (int p = 0; p < k2; ++p) dst[static_cast<size_t>(p) * group] = x ? int16_pair(x, k, 2 * p, inverse) : 0;
  }
}

void int16_quantize_columns_scalar(int k, int n, const float* src, size_t ld, int32_t* panels, float* scales) {
  const int k2 = (k + 1) / 2;
  const int n_panels = (n + kPanelWidth - 1) / kPanelWidth;
  std::vector<float> inverse(static_cast<size_t>(n_panels) * kPanelWidth);
  int16_column_scales(k, n, src, ld, scales, inverse.data());
  for (int panel = 0; panel < n_panels; ++panel) {
    int16_quantize_columns_panel(k, n, src, ld, panel * kPanelWidth, inverse.data(),
                                 panels + static_cast<size_t>(panel) * k2 * kPanelWidth);
  }
}

void int16_block_scalar(int m, int n, int k, const int32_t* a_tiles, const float* a_scales, const int32_t* panels,
                        const float* b_scales, float* c, size_t ldc) {
  const int k2 = (k + 1) / 2;
  constexpr int kPassPairs = kInt16DepthBlock / 2;
  for (int i = 0; i < m; ++i) {
    const int32_t* a_row = a_tiles + static_cast<size_t>(i / kInt16TileRows) * kInt16TileRows * k2 + i % kInt16TileRows;
    for (int j = 0; j < n; ++j) {
      const int32_t* b_col = panels + static_cast<size_t>(j / kPanelWidth) * kPanelWidth * k2 + j % kPanelWidth;
      const float scale = a_scales[i] * b_scales[j];
      float sum = 0.0f;
      for (int p0 = 0; p0 < k2; p0 += kPassPairs) {
        int32_t pass = 0;  // exact: see kInt16DepthBlock
        for (int p = p0; p < std::min(k2, p0 + kPassPairs); ++p) {
          const int32_t x = a_row[static_cast<size_t>(p) * kInt16TileRows];
          const int32_t w = b_col[static_cast<size_t>(p) * kPanelWidth];
          pass += static_cast<int16_t>(x & 0xffff) * static_cast<int16_t>(w & 0xffff) +
                  static_cast<int16_t>(x >> 16) * static_cast<int16_t>(w >> 16);
        }
        sum = p0 == 0 ? static_cast<float>(pass) * scale : std::fma(static_cast<float>(pass), scale, sum);
      }
      c[static_cast<size_t>(i) * ldc + j] = sum;
    }
  }
}

}  // namespace wisp
