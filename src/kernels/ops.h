// CPU primitives of the transformer: GEMM (OpenBLAS), LayerNorm, GELU, softmax, attention.
// Activations are row-major [rows][cols] float32.
#pragma once

#include <cstddef>

namespace wisp {

// Sets the threads used by BLAS and our own parallel loops (0 = all cores).
void set_compute_threads(int n_threads);
int compute_threads();

// C[m][n] = alpha * A[m][k] * B[n][k]^T + beta * C (B row-major [n][k], as linear weights are).
void gemm_nt(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
             float alpha = 1.0f, float beta = 0.0f);
// C[m][n] = A[m][k] * B[k][n] (+ beta C).
void gemm_nn(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
             float beta = 0.0f);

// y[rows][out] = x[rows][in] W^T + bias (bias may be null).
void linear(const float* x, int rows, int in, const float* weight, const float* bias, int out, float* y);

void layer_norm(const float* x, int rows, int dim, const float* gamma, const float* beta, float* y,
                float eps = 1e-5f);
// Exact (erf) GELU in place.
void gelu_inplace(float* x, size_t n);
// x[i] += y[i]
void add_inplace(float* x, const float* y, size_t n);

// Multi-head scaled dot-product attention. q: [n_q][*] with row stride ldq, k/v: [n_kv][*] with
// strides ldk/ldv; head h uses columns [h*d_head, (h+1)*d_head). out: [n_q][n_head*d_head], stride
// ldo. With `causal`, query i (absolute position q_offset+i) sees keys 0..q_offset+i.
// `scores` is scratch of at least n_q*n_kv floats.
void attention(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out,
               int ldo, int n_q, int n_kv, int n_head, int d_head, bool causal, int q_offset,
               float* scores);

}  // namespace wisp
