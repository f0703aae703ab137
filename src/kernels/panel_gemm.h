// f32 GEMM against a right-hand matrix stored as 16-column panels: B[k][n] kept as
// [ceil(n/16)][k][16] (f32, or IEEE half widened in registers), zero-padded to whole panels.
// Weights are repacked this way once at load, so the many-row products of the encoder read
// them in the order the register tile consumes them; no per-call packing of either operand
// (the activations are read in place). On AVX2-only CPUs it runs the encoder's products
// 1.1-1.5x faster than OpenBLAS's sgemm with its per-call packing (bench/README.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/ops.h"
#include "kernels/weight_matrix.h"

namespace wisp {

inline constexpr int kPanelWidth = 16;

enum class PanelType { F32, F16 };

enum class PanelKernel { Scalar, Avx2 };

// Elements of n columns of depth k stored as panels.
constexpr size_t panel_elements(int n, int k) {
  return static_cast<size_t>((n + kPanelWidth - 1) / kPanelWidth) * kPanelWidth * static_cast<size_t>(k);
}

// Packs the transpose of rows [n][k] (row stride ld): panel element (k, j) = scale * src[j][k].
// How weights [out][in] and attention keys become B.
void pack_panels_from_rows(const float* src, int n, int k, size_t ld, float scale, float* dst);
// Packs [k][n] (row stride ld) as it stands: how attention values become B.
void pack_panels_from_cols(const float* src, int k, int n, size_t ld, float* dst);

// A weight matrix W [out][in] packed as B = W^T, owning its (64-byte aligned) storage.
class PanelMatrix {
 public:
  // F16 panels from f16 weights, F32 panels from f32 ones; other types are not supported.
  explicit PanelMatrix(const WeightMatrix& w);
  PanelType type() const { return type_; }
  int out() const { return out_; }
  int in() const { return in_; }
  const void* data() const { return data_.get(); }
  size_t bytes() const;

 private:
  struct Free {
    void operator()(void* p) const;
  };
  PanelType type_;
  int out_, in_;
  std::unique_ptr<void, Free> data_;
};

// Whether PanelMatrix can pack w.
bool panel_packable(const WeightMatrix& w);
// Whether many-row products should run on panels: the CPU's best kernels are AVX2 (AVX-512
// CPUs keep OpenBLAS's wider sgemm, or bf16).
bool panel_gemm_preferred();
// The kernel the active instruction set runs: AVX2 (also on AVX-512 CPUs), else scalar.
PanelKernel active_panel_kernel();

// One thread: c[m][n] = a[m][k] * B (+ the old c, added after the sum with `accumulate`), B
// the panels (panel p at panels + p*k*16 elements). Bit-identical between kernels (each output
// sums its k products in order with fused multiply-adds).
void panel_gemm(PanelKernel kernel, int m, int n, int k, const float* a, size_t lda, PanelType type,
                const void* panels, float* c, size_t ldc, bool accumulate);

// panel_gemm with B = W^T read from weight rows W[n][k] (row stride ldw, f32 or f16 at any
// alignment, as a model file stores them): each 16-row slice is widened and transposed into a
// panel slice when its turn comes, so nothing is packed ahead. Same bits as panel_gemm on W
// packed as panels.
void panel_gemm_rows(PanelKernel kernel, int m, int n, int k, const float* a, size_t lda, PanelType type,
                     const void* w, size_t ldw, float* c, size_t ldc, bool accumulate);

// y[rows][out] = epilogue(x[rows][in] W^T + bias) on the pool, in 2-D tasks of rows x columns.
void linear_panels(const float* x, int rows, const PanelMatrix& w, const float* bias, float* y,
                   Epilogue epilogue = Epilogue::Store);

// linear_panels on weights as stored (f32 or f16 rows, see panel_gemm_rows, or block-quantized
// rows, each slice dequantized when its turn comes): the many-row products of matrices that
// are not packed, such as the decoder's during a prompt, whose weights its decode steps read
// row by row.
void linear_weight_rows(const float* x, int rows, const WeightMatrix& w, const float* bias, float* y,
                        Epilogue epilogue = Epilogue::Store);

}  // namespace wisp
