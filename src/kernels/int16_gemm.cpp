// Weight rounding and packing, kernel choice and the pool-parallel linear() of the integer
// product (int16_gemm.h).
#include "kernels/int16_gemm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>
#include <vector>

#include "kernels/int16_gemm_internal.h"
#include "kernels/thread_pool.h"

namespace wisp {

namespace {

template <class T>
T* aligned_array(size_t count) {
  void* p = std::aligned_alloc(64, (count * sizeof(T) + 63) / 64 * 64);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<T*>(p);
}

}  // namespace

size_t int16_tile_words(int rows, int k) {
  const size_t tiles = static_cast<size_t>((rows + kInt16TileRows - 1) / kInt16TileRows);
  return tiles * kInt16TileRows * static_cast<size_t>((k + 1) / 2);
}

void int16_quantize_tiles(PanelKernel kernel, int m, int k, const float* a, size_t lda, int32_t* tiles,
                          float* scales) {
  (kernel == PanelKernel::Avx2 ? int16_quantize_avx2 : int16_quantize_scalar)(m, k, a, lda, tiles, scales);
}

void Int16Matrix::Free::operator()(void* p) const { std::free(p); }

Int16Matrix::Int16Matrix(const WeightMatrix& w) : out_(w.rows), in_(w.cols) {
  const int k2 = (in_ + 1) / 2;
  const int n_panels = (out_ + kPanelWidth - 1) / kPanelWidth;
  const size_t columns = static_cast<size_t>(n_panels) * kPanelWidth;
  panels_.reset(aligned_array<int32_t>(columns * k2));
  scales_.reset(aligned_array<float>(columns));
  std::vector<float> row(static_cast<size_t>(in_));
  for (int j = 0; j < static_cast<int>(columns); ++j) {
    int32_t* dst = panels_.get() + static_cast<size_t>(j / kPanelWidth) * kPanelWidth * k2 + j % kPanelWidth;
    if (j >= out_) {  // padding column
      scales_.get()[j] = 0.0f;
      for (int p = 0; p < k2; ++p) dst[static_cast<size_t>(p) * kPanelWidth] = 0;
      continue;
    }
    w.rows_to_f32(j, j + 1, row.data());
    const Int16RowScale s = int16_row_scale(int16_max_abs(row.data(), in_));
    scales_.get()[j] = s.scale;
    for (int p = 0; p < k2; ++p) dst[static_cast<size_t>(p) * kPanelWidth] = int16_pair(row.data(), in_, 2 * p, s.inverse);
  }
}

size_t Int16Matrix::bytes() const {
  const size_t columns = static_cast<size_t>((out_ + kPanelWidth - 1) / kPanelWidth) * kPanelWidth;
  return columns * static_cast<size_t>((in_ + 1) / 2) * sizeof(int32_t) + columns * sizeof(float);
}

void int16_gemm(PanelKernel kernel, int m, int n, int k, const int32_t* a_tiles, const float* a_scales,
                const int32_t* panels, const float* b_scales, float* c, size_t ldc, bool accumulate) {
  const auto fn = kernel == PanelKernel::Avx2 ? int16_block_avx2 : int16_block_scalar;
  accumulate_or_store(m, n, c, ldc, accumulate, [&] { fn(m, n, k, a_tiles, a_scales, panels, b_scales, c, ldc); });
}

void linear_int16(const float* x, int rows, const Int16Matrix& w, const float* bias, float* y, Epilogue epilogue) {
  const PanelKernel kernel = active_panel_kernel();
  const int out = w.out(), in = w.in();
  const size_t k2 = static_cast<size_t>((in + 1) / 2);
  // The activations are rounded once, in parallel blocks of whole tiles, for every task to read.
  thread_local std::vector<int32_t> tiles;
  thread_local std::vector<float> scales;
  tiles.resize(std::max(tiles.size(), int16_tile_words(rows, in)));
  scales.resize(std::max(scales.size(), static_cast<size_t>(rows)));
  const int block = split_size(rows, kInt16TileRows, 2);
  int32_t* tile_data = tiles.data();
  float* scale_data = scales.data();
  parallel_for((rows + block - 1) / block, [&](int task) {
    const int m0 = task * block, m1 = std::min(rows, m0 + block);
    int16_quantize_tiles(kernel, m1 - m0, in, x + static_cast<size_t>(m0) * in, static_cast<size_t>(in),
                         tile_data + static_cast<size_t>(m0) * k2, scale_data + m0);
  });
  linear_tasks(rows, out, bias, y, epilogue, [&](int m0, int m1, int j0, int j1, float* y_block, bool add) {
    int16_gemm(kernel, m1 - m0, j1 - j0, in, tile_data + static_cast<size_t>(m0) * k2, scale_data + m0,
               w.panels() + static_cast<size_t>(j0) * k2, w.scales() + j0, y_block, static_cast<size_t>(out), add);
  });
}

}  // namespace wisp
