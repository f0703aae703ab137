#include "kernels/ops.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

namespace wisp {

static int g_threads = 0;

void set_compute_threads(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  g_threads = n_threads;
  openblas_set_num_threads(n_threads);
  omp_set_num_threads(n_threads);
}

int compute_threads() {
  if (g_threads == 0) set_compute_threads(0);
  return g_threads;
}

void gemm_nt(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
             float alpha, float beta) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm_nn(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
             float beta) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

void linear(const float* x, int rows, int in, const float* weight, const float* bias, int out, float* y) {
  if (rows == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, weight, in, x, 1, 0.0f, y, 1);
  } else {
    gemm_nt(rows, out, in, x, in, weight, in, y, out);
  }
  if (bias) {
#pragma omp parallel for if (rows > 16)
    for (int r = 0; r < rows; ++r) {
      float* row = y + static_cast<size_t>(r) * out;
      for (int j = 0; j < out; ++j) row[j] += bias[j];
    }
  }
}

void layer_norm(const float* x, int rows, int dim, const float* gamma, const float* beta, float* y,
                float eps) {
#pragma omp parallel for if (rows > 16)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<size_t>(r) * dim;
    float* yr = y + static_cast<size_t>(r) * dim;
    double sum = 0.0;
    for (int j = 0; j < dim; ++j) sum += xr[j];
    const float mean = static_cast<float>(sum / dim);
    double var = 0.0;
    for (int j = 0; j < dim; ++j) {
      const float c = xr[j] - mean;
      var += static_cast<double>(c) * c;
    }
    const float inv_std = static_cast<float>(1.0 / std::sqrt(var / dim + eps));
    for (int j = 0; j < dim; ++j) yr[j] = (xr[j] - mean) * inv_std * gamma[j] + beta[j];
  }
}

void gelu_inplace(float* x, size_t n) {
  constexpr float kInvSqrt2 = 0.70710678118654752f;
#pragma omp parallel for if (n > 65536)
  for (size_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * kInvSqrt2));
}

void add_inplace(float* x, const float* y, size_t n) {
#pragma omp parallel for if (n > 65536)
  for (size_t i = 0; i < n; ++i) x[i] += y[i];
}

static void softmax_rows(float* scores, int n_q, int n_kv, bool causal, int q_offset) {
#pragma omp parallel for if (n_q > 16)
  for (int i = 0; i < n_q; ++i) {
    float* row = scores + static_cast<size_t>(i) * n_kv;
    const int n_visible = causal ? std::min(n_kv, q_offset + i + 1) : n_kv;
    float max_score = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < n_visible; ++j) max_score = std::max(max_score, row[j]);
    float sum = 0.0f;
    for (int j = 0; j < n_visible; ++j) {
      row[j] = std::exp(row[j] - max_score);
      sum += row[j];
    }
    const float inv = 1.0f / sum;
    for (int j = 0; j < n_visible; ++j) row[j] *= inv;
    for (int j = n_visible; j < n_kv; ++j) row[j] = 0.0f;
  }
}

void attention(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out,
               int ldo, int n_q, int n_kv, int n_head, int d_head, bool causal, int q_offset,
               float* scores) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(d_head));
  for (int h = 0; h < n_head; ++h) {
    const int col = h * d_head;
    gemm_nt(n_q, n_kv, d_head, q + col, ldq, k + col, ldk, scores, n_kv, scale);
    softmax_rows(scores, n_q, n_kv, causal, q_offset);
    gemm_nn(n_q, d_head, n_kv, scores, n_kv, v + col, ldv, out + col, ldo);
  }
}

}  // namespace wisp
