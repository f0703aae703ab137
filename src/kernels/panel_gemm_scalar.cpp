// The portable panel product: the reference the AVX2 kernel is tested against (same blocking,
// same fused multiply-adds in the same order, hence the same bits) and the fallback for CPUs
// without AVX2.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/convert.h"
#include "kernels/panel_gemm_internal.h"

namespace wisp {

void panel_block_scalar(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* panels, float* c,
                        size_t ldc) {
  const int n_panels = (n + kPanelWidth - 1) / kPanelWidth;
  for (int p0 = 0; p0 < k; p0 += kPanelDepthBlock) {
    const int kc = std::min(kPanelDepthBlock, k - p0);
    const bool add = p0 > 0;  // later depth passes add to the partial sums
    for (int p = 0; p < n_panels; ++p) {
      const size_t panel = (static_cast<size_t>(p) * k + p0) * kPanelWidth;
      const int j0 = p * kPanelWidth;
      const int width = std::min(kPanelWidth, n - j0);
      for (int i = 0; i < m; ++i) {
        const float* row = a + static_cast<size_t>(i) * lda + p0;
        for (int j = 0; j < width; ++j) {
          float& out = c[static_cast<size_t>(i) * ldc + j0 + j];
          float sum = 0.0f;  // each depth pass sums from zero, then adds to the earlier passes
          for (int kk = 0; kk < kc; ++kk) {
            const size_t at = panel + static_cast<size_t>(kk) * kPanelWidth + j;
            const float b = type == PanelType::F16 ? f16_to_f32(static_cast<const uint16_t*>(panels)[at])
                                                   : static_cast<const float*>(panels)[at];
            sum = std::fma(row[kk], b, sum);
          }
          out = add ? out + sum : sum;
        }
      }
    }
  }
}

}  // namespace wisp
