#include "kernels/ops.h"

#include <cblas.h>

#include <algorithm>
#include <vector>

#include "kernels/int16_gemm.h"
#include "kernels/kernel_table.h"
#include "kernels/panel_gemm.h"
#include "kernels/quant_dot.h"

namespace wisp {

namespace {

// Up to this many rows, linear() streams the stored weights through the gemv kernel (each
// weight read once per up-to-4 rows); beyond it, sgemm on widened panels is faster.
constexpr int kGemvMaxRows = 16;
// Largest widened weight panel (floats) for f16/bf16 weights on the sgemm path.
constexpr size_t kMaxPanelFloats = size_t{1} << 22;
// From this many rows (the encoder's 1500), the sgemm path splits rows across tasks rather than
// weight columns. Each row task's sgemm packs the whole weight panel again, so for 256-row
// products (whisper-bench's prompts) splitting columns, where each task widens and packs only
// its own, runs 0.74-0.87x the time (small and base f16 decoder prompts, Zen 4, 1 and 2 threads).
constexpr int kSplitRowsMin = 512;
// Up to this many rows, quantized products on AVX2-only CPUs read the stored blocks slice by
// slice (linear_weight_rows) rather than widening for sgemm.
constexpr int kWeightRowsMaxRows = 1024;

void sgemm_nt(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc, float alpha,
              float beta) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void apply_epilogue(const KernelTable& kt, float* y, int ldy, int rows, int col_begin, int col_end,
                    const float* bias, Epilogue epilogue) {
  const int n = col_end - col_begin;
  const float* b = bias ? bias + col_begin : nullptr;
  for (int r = 0; r < rows; ++r) {
    float* row = y + static_cast<size_t>(r) * ldy + col_begin;
    if (epilogue == Epilogue::Gelu) {
      kt.bias_gelu(row, n, b);
    } else if (b) {
      kt.add_bias(row, n, b);  // Accumulate: sgemm already added the old y (beta = 1)
    }
  }
}

void linear_gemv(const float* x, int rows, int in, const WeightMatrix& w, const float* bias, int out, float* y,
                 Epilogue epilogue) {
  const KernelTable& kt = kernels();
  parallel_column_blocks(out, rows, [&](int j0, int j1) {
    kt.gemv(x, rows, in, w, j0, j1, bias, epilogue == Epilogue::Accumulate, y, out);
    if (epilogue == Epilogue::Gelu) apply_epilogue(kt, y, out, rows, j0, j1, nullptr, epilogue);
  });
}

void linear_gemm(const float* x, int rows, int in, const WeightMatrix& w, const float* bias, int out, float* y,
                 Epilogue epilogue) {
  const KernelTable& kt = kernels();
  // Widened f16/bf16 weights; grows to the largest panel once per calling thread. Tasks use the
  // pointer taken here (a thread_local named inside them would be the worker's own).
  thread_local std::vector<float> panel_buffer;
  const int panel_rows =
      w.type == MatrixType::F32 ? out : std::max(16, static_cast<int>(std::min<size_t>(out, kMaxPanelFloats / in)));
  // Many rows: split rows (each task packs the whole panel once, amortised over its rows). Few
  // rows (prompts): split weight rows instead, so no weight is packed twice.
  const bool split_rows = rows >= kSplitRowsMin;
  const int row_block = split_size(rows, 16, 4);
  const int n_row_tasks = (rows + row_block - 1) / row_block;
  if (!split_rows) {
    // Each task widens (if needed) and multiplies its own block of weight rows.
    const int col_block = split_size(out, 64, 4);
    parallel_for((out + col_block - 1) / col_block, [&](int task) {
      const int c0 = task * col_block;
      const int c1 = std::min(out, c0 + col_block);
      const float* block = w.f32_data();
      if (block != nullptr) {
        block += static_cast<size_t>(c0) * in;
      } else {
        thread_local std::vector<float> widened_block;
        const size_t needed = static_cast<size_t>(c1 - c0) * in;
        if (widened_block.size() < needed) widened_block.resize(needed);
        kt.rows_to_f32(w, c0, c1, widened_block.data());
        block = widened_block.data();
      }
      sgemm_nt(rows, c1 - c0, in, x, in, block, in, y + c0, out, 1.0f, epilogue == Epilogue::Accumulate ? 1.0f : 0.0f);
      apply_epilogue(kt, y, out, rows, c0, c1, bias, epilogue);
    });
    return;
  }
  for (int p0 = 0; p0 < out; p0 += panel_rows) {
    const int p1 = std::min(out, p0 + panel_rows);
    const float* panel = w.f32_data();
    if (panel != nullptr) {
      panel += static_cast<size_t>(p0) * in;
    } else {
      const size_t needed = static_cast<size_t>(p1 - p0) * in;
      if (panel_buffer.size() < needed) panel_buffer.resize(needed);
      float* widened = panel_buffer.data();
      const int convert_block = split_size(p1 - p0, 16, 2);
      parallel_for((p1 - p0 + convert_block - 1) / convert_block, [&](int task) {
        const int r0 = p0 + task * convert_block;
        const int r1 = std::min(p1, r0 + convert_block);
        kt.rows_to_f32(w, r0, r1, widened + static_cast<size_t>(r0 - p0) * in);
      });
      panel = widened;
    }
    parallel_for(n_row_tasks, [&](int task) {
      const int m0 = task * row_block;
      const int m1 = std::min(rows, m0 + row_block);
      float* y_block = y + static_cast<size_t>(m0) * out;
      sgemm_nt(m1 - m0, p1 - p0, in, x + static_cast<size_t>(m0) * in, in, panel, in, y_block + p0, out, 1.0f,
               epilogue == Epilogue::Accumulate ? 1.0f : 0.0f);
      apply_epilogue(kt, y_block, out, m1 - m0, p0, p1, bias, epilogue);
    });
  }
}

}  // namespace

int split_size(int n, int granule, int tasks_per_thread) {
  const int pieces = std::max(1, compute_threads() * tasks_per_thread);
  int size = (n + pieces - 1) / pieces;
  size = (size + granule - 1) / granule * granule;
  return std::max(size, std::max(granule, 1));
}

void gemm_nt(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc, float alpha,
             float beta) {
  sgemm_nt(m, n, k, a, lda, b, ldb, c, ldc, alpha, beta);
}

void gemm_nn(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc, float beta,
             float alpha) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void linear(const float* x, int rows, int in, const WeightMatrix& w, const float* bias, int out, float* y,
            Epilogue epilogue, Precision precision) {
  if (precision == Precision::Reduced && rows <= kGemvMaxRows && w.quantized() &&
      linear_quant_int8(x, rows, in, w, bias, out, y, epilogue)) {
    return;
  }
  if (rows <= kGemvMaxRows) {
    linear_gemv(x, rows, in, w, bias, out, y, epilogue);
  } else if (precision == Precision::Reduced && int16_block_readable(w.type) && in == w.cols && out == w.rows &&
             int16_blocks_preferred()) {
    // Reduced-precision products of quantized weights (the decoder's prompts): 12-bit activations
    // against the stored blocks rounded to 12 bits per row, as decode steps meet int8 activation
    // blocks (small q8_0, 256-token prompt: 0.7x the time of the f32 panel product on Zen 3,
    // 0.56-0.7x that of widening for sgemm on Zen 4; bench/README.md).
    linear_int16_blocks(x, rows, w, bias, y, epilogue);
  } else if (panel_packable(w) && in == w.cols && out == w.rows && panel_gemm_preferred()) {
    // AVX2-only CPUs: the panel product reads f16/f32 weight rows as they are stored, with
    // no widened copy for sgemm (small f16 decoder prompts ~1.45x faster, bench/README.md).
    linear_weight_rows(x, rows, w, bias, y, epilogue);
  } else if (w.quantized() && rows < kWeightRowsMaxRows && in == w.cols && out == w.rows && panel_gemm_preferred()) {
    // Quantized prompts likewise, each slice dequantized when its turn comes (small q8_0, 256-token
    // prompt, interleaved runs: 0.70-0.85x the time of widening for sgemm). Not the 1500 rows
    // of a quantized encoder: its slices would be dequantized once per 96-row block (16 times).
    linear_weight_rows(x, rows, w, bias, y, epilogue);
  } else {
    linear_gemm(x, rows, in, w, bias, out, y, epilogue);
  }
}

void layer_norm(const float* x, int rows, int dim, const float* gamma, const float* beta, float* y, float eps) {
  const KernelTable& kt = kernels();
  const int block = split_size(rows, 1, 2);
  parallel_for((rows + block - 1) / block, [&](int task) {
    const int r1 = std::min(rows, (task + 1) * block);
    for (int r = task * block; r < r1; ++r) {
      kt.layer_norm(x + static_cast<size_t>(r) * dim, dim, gamma, beta, eps, y + static_cast<size_t>(r) * dim);
    }
  });
}

void gelu_inplace(float* x, size_t n) {
  const KernelTable& kt = kernels();
  constexpr size_t kChunk = 16384;
  parallel_for(static_cast<int>((n + kChunk - 1) / kChunk), [&](int task) {
    const size_t begin = static_cast<size_t>(task) * kChunk;
    kt.bias_gelu(x + begin, static_cast<int>(std::min(kChunk, n - begin)), nullptr);
  });
}

void add_inplace(float* x, const float* y, size_t n) {
  const KernelTable& kt = kernels();
  constexpr size_t kChunk = 65536;
  parallel_for(static_cast<int>((n + kChunk - 1) / kChunk), [&](int task) {
    const size_t begin = static_cast<size_t>(task) * kChunk;
    kt.add_bias(x + begin, static_cast<int>(std::min(kChunk, n - begin)), y + begin);
  });
}

uint64_t parallel_sum_words(const uint64_t* words, size_t n) {
  const int n_threads = compute_threads();
  const size_t share = (n + n_threads - 1) / n_threads;
  std::vector<uint64_t> sums(static_cast<size_t>(n_threads));
  parallel_for(n_threads, [&](int task) {
    const size_t begin = std::min(n, share * task), end = std::min(n, begin + share);
    uint64_t sum = 0;
    for (size_t i = begin; i < end; ++i) sum += words[i];  // vectorised by the compiler
    sums[task] = sum;
  });
  uint64_t total = 0;
  for (uint64_t s : sums) total += s;
  return total;
}

}  // namespace wisp
