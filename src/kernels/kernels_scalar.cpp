// Plain C++ kernels: the fallback on CPUs without AVX2 and the reference the SIMD tables are
// tested against (std::erf, std::exp, double accumulation).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/kernel_table.h"
#include "model/ggml_quant.h"

namespace wisp {

namespace {

void gemv(const float* x, int n_rows, int ldx, const WeightMatrix& w, int col_begin, int col_end,
          const float* bias, bool accumulate, float* y, int ldy) {
  const int k = w.cols;
  // Each weight row widened once by the reference converters (ggml's dequantizers for the
  // quantized types), then double-precision dots.
  std::vector<float> row(static_cast<size_t>(k));
  for (int j = col_begin; j < col_end; ++j) {
    w.rows_to_f32(j, j + 1, row.data());
    for (int r = 0; r < n_rows; ++r) {
      const float* xr = x + static_cast<size_t>(r) * ldx;
      double sum = 0.0;
      for (int i = 0; i < k; ++i) sum += static_cast<double>(xr[i]) * row[static_cast<size_t>(i)];
      float& out = y[static_cast<size_t>(r) * ldy + j];
      out = (accumulate ? out : 0.0f) + (static_cast<float>(sum) + (bias ? bias[j] : 0.0f));
    }
  }
}

void rows_to_f32(const WeightMatrix& w, int row_begin, int row_end, float* dst) {
  w.rows_to_f32(row_begin, row_end, dst);
}

void bias_gelu(float* x, int n, const float* bias) {
  constexpr float kInvSqrt2 = 0.70710678118654752f;
  for (int i = 0; i < n; ++i) {
    const float v = x[i] + (bias ? bias[i] : 0.0f);
    x[i] = 0.5f * v * (1.0f + std::erf(v * kInvSqrt2));
  }
}

void add_bias(float* x, int n, const float* bias) {
  for (int i = 0; i < n; ++i) x[i] += bias[i];
}

void layer_norm(const float* x, int dim, const float* gamma, const float* beta, float eps, float* y) {
  double sum = 0.0;
  for (int j = 0; j < dim; ++j) sum += x[j];
  const float mean = static_cast<float>(sum / dim);
  double var = 0.0;
  for (int j = 0; j < dim; ++j) {
    const float c = x[j] - mean;
    var += static_cast<double>(c) * c;
  }
  const float inv_std = static_cast<float>(1.0 / std::sqrt(var / dim + eps));
  for (int j = 0; j < dim; ++j) y[j] = (x[j] - mean) * inv_std * gamma[j] + beta[j];
}

void softmax(float* row, int n_visible, int n_total) {
  float max_score = -std::numeric_limits<float>::infinity();
  for (int j = 0; j < n_visible; ++j) max_score = std::max(max_score, row[j]);
  double sum = 0.0;
  for (int j = 0; j < n_visible; ++j) {
    row[j] = std::exp(row[j] - max_score);
    sum += row[j];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int j = 0; j < n_visible; ++j) row[j] *= inv;
  for (int j = n_visible; j < n_total; ++j) row[j] = 0.0f;
}

float load_cached(MatrixType type, const void* base, size_t index) {
  return type == MatrixType::F16 ? fp16_to_fp32(static_cast<const uint16_t*>(base)[index])
                                 : static_cast<const float*>(base)[index];
}

void attend_query(MatrixType type, const float* q, const void* k, int ldk, const void* v, int ldv, int n_visible,
                  int d_head, float scale, float* scores, float* out) {
  for (int j = 0; j < n_visible; ++j) {
    double dot = 0.0;
    for (int i = 0; i < d_head; ++i) {
      dot += static_cast<double>(q[i]) * load_cached(type, k, static_cast<size_t>(j) * ldk + i);
    }
    scores[j] = static_cast<float>(dot) * scale;
  }
  softmax(scores, n_visible, n_visible);
  for (int i = 0; i < d_head; ++i) {
    double sum = 0.0;
    for (int j = 0; j < n_visible; ++j) {
      sum += static_cast<double>(scores[j]) * load_cached(type, v, static_cast<size_t>(j) * ldv + i);
    }
    out[i] = static_cast<float>(sum);
  }
}

void attend_queries_panels(MatrixType type, const float* q, int ldq, int n_q, const void* key_panels, const void* v,
                           int ldv, int n_kv, int d_head, float scale, float* scores, float* out, int ldo) {
  for (int r = 0; r < n_q; ++r) {
    const float* qr = q + static_cast<size_t>(r) * ldq;
    float* row = scores + static_cast<size_t>(r) * n_kv;
    for (int j = 0; j < n_kv; ++j) {
      const size_t panel = static_cast<size_t>(j / kPanelWidth) * d_head;
      double dot = 0.0;
      for (int i = 0; i < d_head; ++i) {
        dot += static_cast<double>(qr[i]) * load_cached(type, key_panels, (panel + i) * kPanelWidth + j % kPanelWidth);
      }
      row[j] = static_cast<float>(dot) * scale;
    }
    softmax(row, n_kv, n_kv);
    for (int i = 0; i < d_head; ++i) {
      double sum = 0.0;
      for (int j = 0; j < n_kv; ++j) sum += static_cast<double>(row[j]) * load_cached(type, v, static_cast<size_t>(j) * ldv + i);
      out[static_cast<size_t>(r) * ldo + i] = static_cast<float>(sum);
    }
  }
}

float max_value(const float* x, int n) { return *std::max_element(x, x + n); }

double sum_exp(const float* x, int n, float shift) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    const float d = x[i] - shift;
    if (d >= -87.0f) sum += std::exp(static_cast<double>(d));
  }
  return sum;
}

}  // namespace

const KernelTable kScalarKernels = {gemv,       rows_to_f32, bias_gelu,    add_bias,
                                    layer_norm, softmax,     attend_query, attend_queries_panels,
                                    max_value,  sum_exp};

}  // namespace wisp
