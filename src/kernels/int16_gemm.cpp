// Weight rounding and packing, kernel choice and the pool-parallel linear() of the integer
// product (int16_gemm.h).
#include "kernels/int16_gemm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/int16_gemm_internal.h"
#include "kernels/thread_pool.h"
#include "wisp/error.h"

namespace wisp {

namespace {

template <class T>
T* aligned_array(size_t count) {
  void* p = std::aligned_alloc(64, (count * sizeof(T) + 63) / 64 * 64);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<T*>(p);
}

}  // namespace

size_t int16_group_words(int rows, int k, int group) {
  const size_t groups = static_cast<size_t>((rows + group - 1) / group);
  return groups * static_cast<size_t>(group) * static_cast<size_t>((k + 1) / 2);
}

void int16_quantize_rows(PanelKernel kernel, int m, int k, const float* a, size_t lda, int group, int32_t* words,
                         float* scales) {
  if (group < 1 || group > kPanelWidth) throw Error("int16_quantize_rows: groups of 1 to 16 rows");
  (kernel == PanelKernel::Avx2 ? int16_quantize_avx2 : int16_quantize_scalar)(m, k, a, lda, group, words, scales);
}

void int16_quantize_columns(PanelKernel kernel, int k, int n, const float* src, size_t ld, int32_t* panels,
                            float* scales) {
  (kernel == PanelKernel::Avx2 ? int16_quantize_columns_avx2 : int16_quantize_columns_scalar)(k, n, src, ld, panels,
                                                                                            scales);
}

void Int16Matrix::Free::operator()(void* p) const { std::free(p); }

bool int16_block_readable(MatrixType type) {
  return type == MatrixType::Q8_0 || type == MatrixType::Q5_0 || type == MatrixType::Q4_0 || type == MatrixType::Q5_0R ||
         type == MatrixType::Q8_0R;
}

bool int16_tile_vnni() { return active_isa() == Isa::Avx512 && cpu_has_avx512_vnni(); }

bool int16_blocks_preferred() { return active_panel_kernel() == PanelKernel::Avx2 && !std::getenv("WISP_NO_PANELS"); }

Int16Matrix::Int16Matrix(const WeightMatrix& w) : out_(w.rows), in_(w.cols) {
  if (int16_block_readable(w.type)) {
    stored_ = w;
    return;
  }
  const size_t columns = static_cast<size_t>((out_ + kPanelWidth - 1) / kPanelWidth) * kPanelWidth;
  panels_.reset(aligned_array<int32_t>(int16_group_words(out_, in_, kPanelWidth)));
  scales_.reset(aligned_array<float>(columns));
  std::fill(scales_.get(), scales_.get() + columns, 0.0f);
  // The panels of B = W^T are W's rows in groups of 16, rounded per row.
  const std::vector<float> values = w.to_f32();
  int16_quantize_rows(active_panel_kernel(), out_, in_, values.data(), static_cast<size_t>(in_), kPanelWidth,
                      panels_.get(), scales_.get());
}

size_t Int16Matrix::bytes() const {
  if (reads_stored()) return 0;
  const size_t columns = static_cast<size_t>((out_ + kPanelWidth - 1) / kPanelWidth) * kPanelWidth;
  return columns * static_cast<size_t>((in_ + 1) / 2) * sizeof(int32_t) + columns * sizeof(float);
}

void int16_gemm(PanelKernel kernel, int m, int n, int k, const int32_t* a_tiles, const float* a_scales,
                const int32_t* panels, const float* b_scales, float* c, size_t ldc, bool accumulate) {
  const auto fn = kernel == PanelKernel::Avx2 ? int16_block_avx2 : int16_block_scalar;
  accumulate_or_store(m, n, c, ldc, accumulate, [&] { fn(m, n, k, a_tiles, a_scales, panels, b_scales, c, ldc); });
}

void int16_gemm_blocks(PanelKernel kernel, int m, int n, const int32_t* a_tiles, const float* a_scales,
                       const WeightMatrix& w, float* c, size_t ldc, bool accumulate) {
  if (!int16_block_readable(w.type) || w.cols % kMatrixQuantBlock != 0) {
    throw Error(std::string("the integer product reads q8_0, q5_0 and q4_0 weights in place, not ") +
                matrix_type_name(w.type));
  }
  const auto fn = kernel == PanelKernel::Avx2 ? int16_block_quant_avx2 : int16_block_quant_scalar;
  accumulate_or_store(m, n, c, ldc, accumulate, [&] { fn(m, n, a_tiles, a_scales, w, c, ldc); });
}

namespace {

// x [rows][in] rounded to activation tiles once, in parallel blocks of whole tiles, for every
// task to read: the calling thread's buffers, valid until its next call.
struct ActivationTiles {
  const int32_t* words;
  const float* scales;
};

ActivationTiles round_activations(PanelKernel kernel, const float* x, int rows, int in) {
  const size_t k2 = static_cast<size_t>((in + 1) / 2);
  thread_local std::vector<int32_t> tiles;
  thread_local std::vector<float> scales;
  tiles.resize(std::max(tiles.size(), int16_group_words(rows, in, kInt16TileRows)));
  scales.resize(std::max(scales.size(), static_cast<size_t>(rows)));
  const int block = split_size(rows, kInt16TileRows, 2);
  int32_t* tile_data = tiles.data();
  float* scale_data = scales.data();
  parallel_for((rows + block - 1) / block, [&](int task) {
    const int m0 = task * block, m1 = std::min(rows, m0 + block);
    int16_quantize_rows(kernel, m1 - m0, in, x + static_cast<size_t>(m0) * in, static_cast<size_t>(in), kInt16TileRows,
                        tile_data + static_cast<size_t>(m0) * k2, scale_data + m0);
  });
  return {tile_data, scale_data};
}

}  // namespace

void linear_int16_blocks(const float* x, int rows, const WeightMatrix& w, const float* bias, float* y,
                         Epilogue epilogue) {
  const PanelKernel kernel = active_panel_kernel();
  const size_t k2 = static_cast<size_t>(w.cols / 2);
  const ActivationTiles a = round_activations(kernel, x, rows, w.cols);
  // Whole row blocks of the kernel's: each task unpacks every weight slice it reads once.
  linear_tasks(
      rows, w.rows, bias, y, epilogue,
      [&](int m0, int m1, int j0, int j1, float* y_block, bool add) {
        WeightMatrix block(w.row_data(j0), w.type, j1 - j0, w.cols);
        block.row_bytes = w.row_bytes;
        int16_gemm_blocks(kernel, m1 - m0, j1 - j0, a.words + static_cast<size_t>(m0) * k2, a.scales + m0, block,
                          y_block, static_cast<size_t>(w.rows), add);
      },
      kInt16BlocksRowBlock, kInt16BlocksRowBlock);
}

void linear_int16(const float* x, int rows, const Int16Matrix& w, const float* bias, float* y, Epilogue epilogue) {
  if (w.reads_stored()) {
    linear_int16_blocks(x, rows, w.stored(), bias, y, epilogue);
    return;
  }
  const PanelKernel kernel = active_panel_kernel();
  const int out = w.out(), in = w.in();
  const size_t k2 = static_cast<size_t>((in + 1) / 2);
  const ActivationTiles a = round_activations(kernel, x, rows, in);
  const int32_t* tile_data = a.words;
  const float* scale_data = a.scales;
  linear_tasks(rows, out, bias, y, epilogue, [&](int m0, int m1, int j0, int j1, float* y_block, bool add) {
    int16_gemm(kernel, m1 - m0, j1 - j0, in, tile_data + static_cast<size_t>(m0) * k2, scale_data + m0,
               w.panels() + static_cast<size_t>(j0) * k2, w.scales() + j0, y_block, static_cast<size_t>(out), add);
  });
}

// Queries per task of attention_int16: their scores ([48][n_kv] f32) and rounded probabilities
// stay in L2 between the two products.
constexpr int kInt16QueryBlock = 48;

void attention_int16(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out, int ldo,
                     int n_q, int n_kv, int n_head, int d_head) {
  const KernelTable& kt = kernels();
  const PanelKernel kernel = active_panel_kernel();
  const float scale = 1.0f / std::sqrt(static_cast<float>(d_head));
  // Per head: K^T as panels of 16 keys (depth d_head), V as panels of 16 value columns (depth
  // n_kv), each with its scales. Grows once per calling thread; tasks use the pointers taken here.
  const size_t key_words = int16_group_words(n_kv, d_head, kPanelWidth);
  const size_t value_words = int16_group_words(d_head, n_kv, kPanelWidth);
  const size_t key_scales = static_cast<size_t>((n_kv + kPanelWidth - 1) / kPanelWidth) * kPanelWidth;
  const size_t value_scales = static_cast<size_t>((d_head + kPanelWidth - 1) / kPanelWidth) * kPanelWidth;
  thread_local std::vector<int32_t> packed_words;
  thread_local std::vector<float> packed_scales;
  packed_words.resize(std::max(packed_words.size(), (key_words + value_words) * n_head));
  packed_scales.resize(std::max(packed_scales.size(), (key_scales + value_scales) * n_head));
  int32_t* words = packed_words.data();
  float* scales = packed_scales.data();
  parallel_for(2 * n_head, [&](int task) {
    const int h = task / 2;
    int32_t* head_words = words + (key_words + value_words) * h;
    float* head_scales = scales + (key_scales + value_scales) * h;
    if (task % 2 == 0) {
      std::fill_n(head_scales, key_scales, 0.0f);
      int16_quantize_rows(kernel, n_kv, d_head, k + h * d_head, static_cast<size_t>(ldk), kPanelWidth, head_words,
                          head_scales);
    } else {
      int16_quantize_columns(kernel, n_kv, d_head, v + h * d_head, static_cast<size_t>(ldv), head_words + key_words,
                             head_scales + key_scales);
    }
  });
  const int n_blocks = (n_q + kInt16QueryBlock - 1) / kInt16QueryBlock;
  parallel_for(n_head * n_blocks, [&](int task) {
    const int h = task % n_head;
    const int i0 = (task / n_head) * kInt16QueryBlock;
    const int rows = std::min(n_q, i0 + kInt16QueryBlock) - i0;
    const int32_t* head_words = words + (key_words + value_words) * h;
    const float* head_scales = scales + (key_scales + value_scales) * h;
    // Grow once per thread to the largest block.
    thread_local std::vector<float> scores, row_scales;
    thread_local std::vector<int32_t> tiles;
    scores.resize(std::max(scores.size(), static_cast<size_t>(rows) * n_kv));
    row_scales.resize(std::max(row_scales.size(), static_cast<size_t>(rows)));
    tiles.resize(std::max(tiles.size(), int16_group_words(rows, std::max(n_kv, d_head), kInt16TileRows)));
    float* s = scores.data();
    int16_quantize_rows(kernel, rows, d_head, q + static_cast<size_t>(i0) * ldq + h * d_head, static_cast<size_t>(ldq),
                        kInt16TileRows, tiles.data(), row_scales.data());
    for (int i = 0; i < rows; ++i) row_scales[i] *= scale;
    int16_gemm(kernel, rows, n_kv, d_head, tiles.data(), row_scales.data(), head_words, head_scales, s,
               static_cast<size_t>(n_kv), false);
    for (int i = 0; i < rows; ++i) kt.softmax(s + static_cast<size_t>(i) * n_kv, n_kv, n_kv);
    int16_quantize_rows(kernel, rows, n_kv, s, static_cast<size_t>(n_kv), kInt16TileRows, tiles.data(),
                        row_scales.data());
    int16_gemm(kernel, rows, d_head, n_kv, tiles.data(), row_scales.data(), head_words + key_words,
               head_scales + key_scales, out + static_cast<size_t>(i0) * ldo + h * d_head, static_cast<size_t>(ldo),
               false);
  });
}

}  // namespace wisp
