// CPU primitives of the transformer on the active kernel table (see kernel_table.h), split
// across the compute thread pool. Activations are row-major [rows][cols] float32; weights are
// WeightMatrix (f32, f16 or bf16, widened on the fly).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/thread_pool.h"
#include "kernels/weight_matrix.h"

namespace wisp {

// Row-major single-precision GEMMs on OpenBLAS (called single-threaded; the pool splits work).
// C[m][n] = alpha * A[m][k] * B[n][k]^T + beta * C.
void gemm_nt(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
             float alpha = 1.0f, float beta = 0.0f);
// C[m][n] = alpha * A[m][k] * B[k][n] + beta * C.
void gemm_nn(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
             float beta = 0.0f, float alpha = 1.0f);

// What linear() does with z = x W^T + bias, fused into the product while the tile is in cache.
enum class Epilogue {
  Store,       // y = z
  Gelu,        // y = gelu(z)
  Accumulate,  // y += z (residual connections)
};

// How exactly linear() must compute. Exact: f32 arithmetic on the stored weights (widened or
// dequantized exactly). Reduced (every compute type but float32): products may round their
// activations, to int8 blocks against quantized weights at decode, to 12-bit rows against
// quantized weights for many-row products on AVX2-only CPUs, where that is faster;
// accumulation stays f32.
enum class Precision { Exact, Reduced };

// y[rows][out] from z = x[rows][in] W^T + bias, W = [out][in] (bias may be null). Few rows
// (decode steps) run the kernels' gemv straight from the stored weights; many rows widen weight
// panels to f32 and run OpenBLAS sgemm on row blocks, with the epilogue applied per block.
void linear(const float* x, int rows, int in, const WeightMatrix& w, const float* bias, int out, float* y,
            Epilogue epilogue = Epilogue::Store, Precision precision = Precision::Exact);

void layer_norm(const float* x, int rows, int dim, const float* gamma, const float* beta, float* y,
                float eps = 1e-5f);
// Exact (erf) GELU in place.
void gelu_inplace(float* x, size_t n);
// x[i] += y[i]
void add_inplace(float* x, const float* y, size_t n);

// The sum of n words, each compute thread summing an equal share: a plain sequential read of
// memory, the read-bandwidth probe of `wisp bench` and of kernels_bench.
uint64_t parallel_sum_words(const uint64_t* words, size_t n);

// Runs fn(j0, j1) over the output columns [0, out) of a decode-step product with `rows`
// activation rows, in whole 16-column groups. One row is a memory-bound weight stream: one
// contiguous share per compute thread, so each core's hardware prefetcher follows one long run
// (Zen 5, 2 threads, base-shaped decode stream: q8_0r 27-40 -> 56-58 GB/s, f16 37 -> 46-59 GB/s
// against 8 dynamically claimed tasks per thread, which restart the stream at every claim).
// Several rows: about 8 tasks per thread, balanced dynamically by the pool.
template <class Fn>
void parallel_column_blocks(int out, int rows, Fn&& fn);

// Splits [0, n) into about `tasks_per_thread` pieces per compute thread, each a multiple of
// `granule` (except the last); returns the piece size.
int split_size(int n, int granule, int tasks_per_thread = 4);

template <class Fn>
void parallel_column_blocks(int out, int rows, Fn&& fn) {
  const int block = split_size(out, 16, rows == 1 ? 1 : 8);
  parallel_for((out + block - 1) / block, [&](int task) {
    const int j0 = task * block;
    fn(j0, std::min(out, j0 + block));
  });
}

}  // namespace wisp
