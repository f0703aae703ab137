// The portable panel product: the reference the AVX2 kernel is tested against (same blocking,
// same fused multiply-adds in the same order, hence the same bits) and the fallback for CPUs
// without AVX2.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/convert.h"
#include "kernels/panel_gemm_internal.h"

namespace wisp {

namespace {

// b(j, kk): element kk of B's column j (the product's B[kk][j]).
template <class B>
void block(int m, int n, int k, const float* a, size_t lda, B&& b, float* c, size_t ldc) {
  const int n_panels = (n + kPanelWidth - 1) / kPanelWidth;
  for (int p0 = 0; p0 < k; p0 += kPanelDepthBlock) {
    const int kc = std::min(kPanelDepthBlock, k - p0);
    const bool add = p0 > 0;  // later depth passes add to the partial sums
    for (int p = 0; p < n_panels; ++p) {
      const int j0 = p * kPanelWidth;
      const int width = std::min(kPanelWidth, n - j0);
      for (int i = 0; i < m; ++i) {
        const float* row = a + static_cast<size_t>(i) * lda + p0;
        for (int j = 0; j < width; ++j) {
          float& out = c[static_cast<size_t>(i) * ldc + j0 + j];
          float sum = 0.0f;  // each depth pass sums from zero, then adds to the earlier passes
          for (int kk = 0; kk < kc; ++kk) sum = std::fma(row[kk], b(j0 + j, p0 + kk), sum);
          out = add ? out + sum : sum;
        }
      }
    }
  }
}

// Value `at` of f16 or f32 data at any byte offset (weight rows in a model file may sit anywhere).
float element(PanelType type, const void* data, size_t at) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  if (type == PanelType::F16) {
    uint16_t half;
    std::memcpy(&half, bytes + at * sizeof half, sizeof half);
    return f16_to_f32(half);
  }
  float value;
  std::memcpy(&value, bytes + at * sizeof value, sizeof value);
  return value;
}

}  // namespace

void panel_block_scalar(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* panels, float* c,
                        size_t ldc) {
  block(m, n, k, a, lda,
        [&](int j, int kk) {
          const size_t panel = static_cast<size_t>(j / kPanelWidth) * k;
          return element(type, panels, (panel + kk) * kPanelWidth + j % kPanelWidth);
        },
        c, ldc);
}

void panel_block_rows_scalar(int m, int n, int k, const float* a, size_t lda, PanelType type, const void* w, size_t ldw,
                             float* c, size_t ldc) {
  block(m, n, k, a, lda, [&](int j, int kk) { return element(type, w, static_cast<size_t>(j) * ldw + kk); }, c,
        ldc);
}

void panel_block_quant_rows_scalar(int m, int n, int k, const float* a, size_t lda, const WeightMatrix& w, float* c,
                                   size_t ldc) {
  std::vector<float> rows(static_cast<size_t>(n) * k);
  w.rows_to_f32(0, n, rows.data());
  panel_block_rows_scalar(m, n, k, a, lda, PanelType::F32, rows.data(), static_cast<size_t>(k), c, ldc);
}

}  // namespace wisp
