// Panel packing, kernel choice and the pool-parallel linear() on panels.
#include "kernels/panel_gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "kernels/convert.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "kernels/panel_gemm_internal.h"
#include "wisp/error.h"

namespace wisp {

namespace {

template <typename Out, typename Convert>
void pack_rows(int n, int k, Convert&& value_at, Out* dst) {
  // Panel p holds columns [16p, 16p+16) for every k; padding columns are zero.
  const int n_panels = (n + kPanelWidth - 1) / kPanelWidth;
  for (int p = 0; p < n_panels; ++p) {
    Out* panel = dst + static_cast<size_t>(p) * k * kPanelWidth;
    for (int j = 0; j < kPanelWidth; ++j) {
      const int col = p * kPanelWidth + j;
      for (int kk = 0; kk < k; ++kk) panel[static_cast<size_t>(kk) * kPanelWidth + j] = col < n ? value_at(col, kk) : Out{};
    }
  }
}

}  // namespace

void pack_panels_from_rows(const float* src, int n, int k, size_t ld, float scale, float* dst) {
  pack_rows<float>(n, k, [&](int col, int kk) { return scale * src[static_cast<size_t>(col) * ld + kk]; }, dst);
}

void pack_panels_from_cols(const float* src, int k, int n, size_t ld, float* dst) {
  const int n_panels = (n + kPanelWidth - 1) / kPanelWidth;
  for (int p = 0; p < n_panels; ++p) {
    float* panel = dst + static_cast<size_t>(p) * k * kPanelWidth;
    const int j0 = p * kPanelWidth;
    const int width = std::min(kPanelWidth, n - j0);
    for (int kk = 0; kk < k; ++kk) {
      float* out = panel + static_cast<size_t>(kk) * kPanelWidth;
      std::copy_n(src + static_cast<size_t>(kk) * ld + j0, width, out);
      std::fill(out + width, out + kPanelWidth, 0.0f);
    }
  }
}

bool panel_packable(const WeightMatrix& w) { return w.type == MatrixType::F32 || w.type == MatrixType::F16; }

void PanelMatrix::Free::operator()(void* p) const { std::free(p); }

PanelMatrix::PanelMatrix(const WeightMatrix& w)
    : type_(w.type == MatrixType::F16 ? PanelType::F16 : PanelType::F32), out_(w.rows), in_(w.cols) {
  if (!panel_packable(w)) {
    throw Error(std::string("panel packing supports f32 and f16 weights, not ") + matrix_type_name(w.type));
  }
  const size_t bytes = this->bytes();
  data_.reset(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
  if (!data_) throw std::bad_alloc();
  // Values are copied as they are stored (halves stay halves). A ggml file may place a tensor at
  // an odd offset, so each value is read bytewise.
  const auto* src = static_cast<const unsigned char*>(w.data);
  auto stored = [&](auto value) {
    return [&, value](int col, int kk) mutable {
      std::memcpy(&value, src + sizeof(value) * (static_cast<size_t>(col) * in_ + kk), sizeof(value));
      return value;
    };
  };
  if (type_ == PanelType::F16) {
    pack_rows<uint16_t>(out_, in_, stored(uint16_t{}), static_cast<uint16_t*>(data_.get()));
  } else {
    pack_rows<float>(out_, in_, stored(0.0f), static_cast<float*>(data_.get()));
  }
}

size_t PanelMatrix::bytes() const { return panel_elements(out_, in_) * (type_ == PanelType::F16 ? 2 : 4); }

bool panel_gemm_preferred() { return active_isa() == Isa::Avx2 && !std::getenv("WISP_NO_PANELS"); }

PanelKernel active_panel_kernel() { return active_isa() == Isa::Scalar ? PanelKernel::Scalar : PanelKernel::Avx2; }


void panel_gemm(PanelKernel kernel, int m, int n, int k, const float* a, size_t lda, PanelType type,
                const void* panels, float* c, size_t ldc, bool accumulate) {
  const PanelBlockFn fn = kernel == PanelKernel::Avx2 ? panel_block_avx2 : panel_block_scalar;
  accumulate_or_store(m, n, c, ldc, accumulate, [&] { fn(m, n, k, a, lda, type, panels, c, ldc); });
}

void panel_gemm_rows(PanelKernel kernel, int m, int n, int k, const float* a, size_t lda, PanelType type,
                     const void* w, size_t ldw, float* c, size_t ldc, bool accumulate) {
  const RowsBlockFn fn = kernel == PanelKernel::Avx2 ? panel_block_rows_avx2 : panel_block_rows_scalar;
  accumulate_or_store(m, n, c, ldc, accumulate, [&] { fn(m, n, k, a, lda, type, w, ldw, c, ldc); });
}

void linear_panels(const float* x, int rows, const PanelMatrix& w, const float* bias, float* y, Epilogue epilogue) {
  const PanelKernel kernel = active_panel_kernel();
  const int out = w.out(), in = w.in();
  const size_t element = w.type() == PanelType::F16 ? 2 : 4;
  linear_tasks(rows, out, bias, y, epilogue, [&](int m0, int m1, int j0, int j1, float* y_block, bool add) {
    const void* panels = static_cast<const char*>(w.data()) + static_cast<size_t>(j0) * in * element;
    panel_gemm(kernel, m1 - m0, j1 - j0, in, x + static_cast<size_t>(m0) * in, static_cast<size_t>(in), w.type(),
               panels, y_block, static_cast<size_t>(out), add);
  });
}

void linear_weight_rows(const float* x, int rows, const WeightMatrix& w, const float* bias, float* y,
                        Epilogue epilogue) {
  const PanelKernel kernel = active_panel_kernel();
  if (w.quantized()) {
    const auto fn = kernel == PanelKernel::Avx2 ? panel_block_quant_rows_avx2 : panel_block_quant_rows_scalar;
    linear_tasks(rows, w.rows, bias, y, epilogue, [&](int m0, int m1, int j0, int j1, float* y_block, bool add) {
      WeightMatrix block(w.row_data(j0), w.type, j1 - j0, w.cols);
      block.row_bytes = w.row_bytes;
      accumulate_or_store(m1 - m0, j1 - j0, y_block, static_cast<size_t>(w.rows), add, [&] {
        fn(m1 - m0, j1 - j0, w.cols, x + static_cast<size_t>(m0) * w.cols, static_cast<size_t>(w.cols), block, y_block,
           static_cast<size_t>(w.rows));
      });
    });
    return;
  }
  if (!panel_packable(w)) {
    throw Error(std::string("the panel product reads f32, f16 and block-quantized weight rows, not ") +
                matrix_type_name(w.type));
  }
  const PanelType type = w.type == MatrixType::F16 ? PanelType::F16 : PanelType::F32;
  const int out = w.rows, in = w.cols;
  const size_t element = type == PanelType::F16 ? 2 : 4;
  linear_tasks(rows, out, bias, y, epilogue, [&](int m0, int m1, int j0, int j1, float* y_block, bool add) {
    const void* w_rows = static_cast<const char*>(w.data) + static_cast<size_t>(j0) * in * element;
    panel_gemm_rows(kernel, m1 - m0, j1 - j0, in, x + static_cast<size_t>(m0) * in, static_cast<size_t>(in), type,
                    w_rows, static_cast<size_t>(in), y_block, static_cast<size_t>(out), add);
  });
}

}  // namespace wisp
