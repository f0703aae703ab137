#include "transcribe/dtw.h"

#include <algorithm>
#include <limits>

#include "wisp/error.h"

namespace wisp {

void median_filter_rows(float* x, int rows, int cols, int width) {
  if (width <= 0 || width % 2 == 0) throw Error("median filter width must be a positive odd number");
  const int pad = width / 2;
  if (cols <= pad) return;
  std::vector<float> padded(static_cast<size_t>(cols) + 2 * pad);
  std::vector<float> window(width);
  for (int r = 0; r < rows; ++r) {
    float* row = x + static_cast<size_t>(r) * cols;
    // Reflection excludes the edge sample: [x2 x1 | x0 x1 x2 ...].
    for (int i = 0; i < pad; ++i) {
      padded[pad - 1 - i] = row[i + 1];
      padded[pad + cols + i] = row[cols - 2 - i];
    }
    std::copy(row, row + cols, padded.begin() + pad);
    for (int c = 0; c < cols; ++c) {
      std::copy(padded.begin() + c, padded.begin() + c + width, window.begin());
      std::nth_element(window.begin(), window.begin() + pad, window.end());
      row[c] = window[pad];
    }
  }
}

DtwPath dtw(const double* x, int n, int m) {
  if (n < 1 || m < 1) throw Error("dtw needs a non-empty matrix");
  const size_t stride = static_cast<size_t>(m) + 1;
  std::vector<float> cost((static_cast<size_t>(n) + 1) * stride, std::numeric_limits<float>::infinity());
  enum : unsigned char { kDiagonal = 0, kUp = 1, kLeft = 2 };
  std::vector<unsigned char> trace(cost.size(), kLeft);
  cost[0] = 0;
  for (int j = 1; j <= m; ++j) {
    for (int i = 1; i <= n; ++i) {
      const float c0 = cost[(i - 1) * stride + j - 1];
      const float c1 = cost[(i - 1) * stride + j];
      const float c2 = cost[i * stride + j - 1];
      float c;
      unsigned char t;
      if (c0 < c1 && c0 < c2) {
        c = c0, t = kDiagonal;
      } else if (c1 < c0 && c1 < c2) {
        c = c1, t = kUp;
      } else {
        c = c2, t = kLeft;
      }
      // openai adds in float64 and stores into its float32 cost array.
      cost[i * stride + j] = static_cast<float>(x[static_cast<size_t>(i - 1) * m + j - 1] + static_cast<double>(c));
      trace[i * stride + j] = t;
    }
  }
  for (int j = 0; j <= m; ++j) trace[j] = kLeft;
  for (int i = 0; i <= n; ++i) trace[i * stride] = kUp;

  DtwPath path;
  int i = n, j = m;
  while (i > 0 || j > 0) {
    path.rows.push_back(i - 1);
    path.cols.push_back(j - 1);
    switch (trace[i * stride + j]) {
      case kDiagonal: --i, --j; break;
      case kUp: --i; break;
      default: --j; break;
    }
  }
  std::reverse(path.rows.begin(), path.rows.end());
  std::reverse(path.cols.begin(), path.cols.end());
  return path;
}

}  // namespace wisp
