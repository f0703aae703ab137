// SIMD kernels written once over a vector-traits type S and instantiated by kernels_avx2.cpp
// and kernels_avx512.cpp inside their `#pragma GCC target` regions. Include only there, after
// the standard headers and kernels/q5_0r_avx2.h, inside an anonymous namespace.
//
// S provides: V, kWidth, kRegisters, kMaxRows (rows a gemv pass keeps in registers), zero, set1, load,
// store, add, sub, mul, div, fma(a, b, c) = a*b + c, min, max, abs, round (to nearest),
// exp2i (2^n for integral n in [-126, 127]), select_negative(x, a, b) = x < 0 ? a : b,
// reduce_add, reduce_max, prefetch(address), load_weight<MatrixType>(const void* base,
// size_t index) for the float types, and load_quant (see kernels_quant_generic.h).

#include "kernels/kernels_quant_generic.h"

// One weight widened to f32 (the tails of the vector loops).
template <MatrixType T>
float load_weight_scalar(const void* base, size_t index) {
  if constexpr (T == MatrixType::F32) {
    return static_cast<const float*>(base)[index];
  } else {
    uint16_t bits;  // weights sit at any byte offset of the model file
    std::memcpy(&bits, static_cast<const unsigned char*>(base) + 2 * index, sizeof bits);
    if constexpr (T == MatrixType::F16) return _cvtsh_ss(bits);
    const uint32_t wide = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &wide, sizeof f);
    return f;
  }
}

template <class S>
typename S::V exp_v(typename S::V x) {
  using V = typename S::V;
  // Cephes expf: x = n ln2 + r, |r| <= ln2/2, exp(r) by a degree-6 polynomial.
  x = S::min(S::max(x, S::set1(-87.33654f)), S::set1(88.0f));
  const V n = S::round(S::mul(x, S::set1(1.44269504088896341f)));
  V r = S::fma(n, S::set1(-0.693359375f), x);
  r = S::fma(n, S::set1(2.12194440e-4f), r);
  V p = S::set1(1.9875691500e-4f);
  p = S::fma(p, r, S::set1(1.3981999507e-3f));
  p = S::fma(p, r, S::set1(8.3334519073e-3f));
  p = S::fma(p, r, S::set1(4.1665795894e-2f));
  p = S::fma(p, r, S::set1(1.6666665459e-1f));
  p = S::fma(p, r, S::set1(5.0000001201e-1f));
  p = S::fma(p, S::mul(r, r), S::add(r, S::set1(1.0f)));
  return S::mul(p, S::exp2i(n));
}

template <class S>
typename S::V gelu_v(typename S::V x) {
  using V = typename S::V;
  // erfc(z) for z = |x|/sqrt(2) >= 0 (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7); then
  // 1 + erf(x) = erfc(z) for x < 0 and 2 - erfc(z) otherwise, which avoids cancellation.
  const V z = S::mul(S::abs(x), S::set1(0.70710678118654752f));
  const V t = S::div(S::set1(1.0f), S::fma(S::set1(0.3275911f), z, S::set1(1.0f)));
  V p = S::set1(1.061405429f);
  p = S::fma(p, t, S::set1(-1.453152027f));
  p = S::fma(p, t, S::set1(1.421413741f));
  p = S::fma(p, t, S::set1(-0.284496736f));
  p = S::fma(p, t, S::set1(0.254829592f));
  p = S::mul(p, t);
  const V erfc = S::mul(p, exp_v<S>(S::mul(S::sub(S::zero(), z), z)));
  const V one_plus_erf = S::select_negative(x, erfc, S::sub(S::set1(2.0f), erfc));
  return S::mul(S::mul(S::set1(0.5f), x), one_plus_erf);
}

// x[i] = Op::apply(x[i] + bias[i]) a vector at a time; the tail goes through a zero-padded
// vector. (Op is a struct, not a lambda: GCC does not apply the target pragma to lambdas.)
template <class S, class Op>
void map_inplace(float* x, int n, const float* bias) {
  constexpr int W = S::kWidth;
  int i = 0;
  for (; i + W <= n; i += W) {
    typename S::V v = S::load(x + i);
    if (bias) v = S::add(v, S::load(bias + i));
    S::store(x + i, Op::apply(v));
  }
  if (i < n) {
    float tail[W] = {};
    for (int j = i; j < n; ++j) tail[j - i] = x[j] + (bias ? bias[j] : 0.0f);
    S::store(tail, Op::apply(S::load(tail)));
    for (int j = i; j < n; ++j) x[j] = tail[j - i];
  }
}

template <class S>
struct GeluOp {
  static typename S::V apply(typename S::V v) { return gelu_v<S>(v); }
};

template <class S>
struct IdentityOp {
  static typename S::V apply(typename S::V v) { return v; }
};

template <class S>
void bias_gelu_impl(float* x, int n, const float* bias) {
  map_inplace<S, GeluOp<S>>(x, n, bias);
}

template <class S>
void add_bias_impl(float* x, int n, const float* bias) {
  map_inplace<S, IdentityOp<S>>(x, n, bias);
}

template <class S>
void layer_norm_impl(const float* x, int dim, const float* gamma, const float* beta, float eps, float* y) {
  using V = typename S::V;
  constexpr int W = S::kWidth;
  const int vec_end = dim / W * W;
  V acc = S::zero();
  for (int j = 0; j < vec_end; j += W) acc = S::add(acc, S::load(x + j));
  float sum = S::reduce_add(acc);
  for (int j = vec_end; j < dim; ++j) sum += x[j];
  const float mean = sum / static_cast<float>(dim);
  const V mean_v = S::set1(mean);
  acc = S::zero();
  for (int j = 0; j < vec_end; j += W) {
    const V c = S::sub(S::load(x + j), mean_v);
    acc = S::fma(c, c, acc);
  }
  float var = S::reduce_add(acc);
  for (int j = vec_end; j < dim; ++j) var += (x[j] - mean) * (x[j] - mean);
  const float inv_std = 1.0f / std::sqrt(var / static_cast<float>(dim) + eps);
  const V inv_v = S::set1(inv_std);
  for (int j = 0; j < vec_end; j += W) {
    const V c = S::mul(S::sub(S::load(x + j), mean_v), inv_v);
    S::store(y + j, S::fma(c, S::load(gamma + j), S::load(beta + j)));
  }
  for (int j = vec_end; j < dim; ++j) y[j] = (x[j] - mean) * inv_std * gamma[j] + beta[j];
}

template <class S>
void softmax_impl(float* row, int n_visible, int n_total) {
  using V = typename S::V;
  constexpr int W = S::kWidth;
  const int vec_end = n_visible / W * W;
  V max_v = S::set1(-std::numeric_limits<float>::infinity());
  for (int j = 0; j < vec_end; j += W) max_v = S::max(max_v, S::load(row + j));
  float max_score = S::reduce_max(max_v);
  for (int j = vec_end; j < n_visible; ++j) max_score = std::max(max_score, row[j]);
  const V shift = S::set1(max_score);
  V sum_v = S::zero();
  for (int j = 0; j < vec_end; j += W) {
    const V e = exp_v<S>(S::sub(S::load(row + j), shift));
    S::store(row + j, e);
    sum_v = S::add(sum_v, e);
  }
  float sum = S::reduce_add(sum_v);
  for (int j = vec_end; j < n_visible; ++j) {
    row[j] = std::exp(row[j] - max_score);
    sum += row[j];
  }
  const float inv = 1.0f / sum;
  const V inv_v = S::set1(inv);
  for (int j = 0; j < vec_end; j += W) S::store(row + j, S::mul(S::load(row + j), inv_v));
  for (int j = vec_end; j < n_visible; ++j) row[j] *= inv;
  for (int j = n_visible; j < n_total; ++j) row[j] = 0.0f;
}

template <class S>
float max_value_impl(const float* x, int n) {
  using V = typename S::V;
  constexpr int W = S::kWidth;
  const int vec_end = n / W * W;
  float result = -std::numeric_limits<float>::infinity();
  if (vec_end > 0) {
    V a = S::load(x), b = a;  // two chains
    int i = W;
    for (; i + 2 * W <= vec_end; i += 2 * W) {
      a = S::max(a, S::load(x + i));
      b = S::max(b, S::load(x + i + W));
    }
    for (; i < vec_end; i += W) a = S::max(a, S::load(x + i));
    result = S::reduce_max(S::max(a, b));
  }
  for (int i = vec_end; i < n; ++i) result = std::max(result, x[i]);
  return result;
}

template <class S>
double sum_exp_impl(const float* x, int n, float shift) {
  using V = typename S::V;
  constexpr int W = S::kWidth;
  constexpr int kBlock = 64;  // values summed in f32 before the double total
  const V shift_v = S::set1(shift), cutoff = S::set1(87.0f);
  double sum = 0.0;
  int i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    V acc0 = S::zero(), acc1 = S::zero();
    for (int j = 0; j < kBlock; j += 2 * W) {
      const V d0 = S::sub(S::load(x + i + j), shift_v), d1 = S::sub(S::load(x + i + j + W), shift_v);
      acc0 = S::add(acc0, S::select_negative(S::add(d0, cutoff), S::zero(), exp_v<S>(d0)));
      acc1 = S::add(acc1, S::select_negative(S::add(d1, cutoff), S::zero(), exp_v<S>(d1)));
    }
    sum += S::reduce_add(S::add(acc0, acc1));
  }
  for (; i < n; ++i) {
    const float d = x[i] - shift;
    if (d >= -87.0f) sum += std::exp(d);
  }
  return sum;
}

// R rows of x against C consecutive weight rows starting at j, each weight vector loaded once.
template <class S, MatrixType T, int R, int C>
void gemv_block(const float* x, int ldx, const WeightMatrix& w, int j, const float* bias, bool accumulate, float* y, int ldy) {
  using V = typename S::V;
  constexpr int W = S::kWidth;
  const int k = w.cols;
  const int vec_end = k / W * W;
  V acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) acc[r][c] = S::zero();
  }
  const size_t row0 = static_cast<size_t>(j) * k;
  // Software prefetch of the weight rows two blocks ahead: decode steps stream weights from
  // DRAM, and the hardware prefetcher alone leaves f16 rows short of bandwidth, except for one
  // activation row on 2 MB pages (below).
  constexpr size_t kElement = T == MatrixType::F32 ? 4 : 2;
  const char* ahead = static_cast<const char*>(w.data) + (row0 + static_cast<size_t>(4 * C) * k) * kElement;
  bool prefetch = j + 5 * C <= w.rows;
  if constexpr (R == 1) {
    // One activation row (a decode step): each weight row is read start to end, a purely
    // sequential stream, with four accumulators to hide the FMA latency. On huge pages the
    // hardware prefetcher follows that one stream on its own, and software prefetches only take
    // load slots (base-shaped f16 stream, one thread, Zen 4: 17.6 -> 27.7 GB/s without them;
    // Zen 3: the same within the noise). Several rows at once (below) are several streams, which
    // still gain from them.
    prefetch = prefetch && !w.on_huge_pages;
    constexpr int kUnroll = 4;
    constexpr size_t kChunkBytes = static_cast<size_t>(kUnroll) * W * kElement;
    for (int c = 0; c < C; ++c) {
      const size_t base = row0 + static_cast<size_t>(c) * k;
      const char* row_ahead = ahead + static_cast<size_t>(c) * k * kElement;
      V part[kUnroll];
      for (int u = 0; u < kUnroll; ++u) part[u] = S::zero();
      int i = 0;
      for (; i + kUnroll * W <= vec_end; i += kUnroll * W) {
        if (prefetch) {
          for (size_t line = 0; line < kChunkBytes; line += 64) S::prefetch(row_ahead + i * kElement + line);
        }
        for (int u = 0; u < kUnroll; ++u) {
          part[u] = S::fma(S::load(x + i + u * W), S::template load_weight<T>(w.data, base + i + u * W), part[u]);
        }
      }
      for (; i < vec_end; i += W) part[0] = S::fma(S::load(x + i), S::template load_weight<T>(w.data, base + i), part[0]);
      float sum = S::reduce_add(S::add(S::add(part[0], part[1]), S::add(part[2], part[3])));
      for (int t = vec_end; t < k; ++t) sum += x[t] * load_weight_scalar<T>(w.data, base + t);
      float& out = y[j + c];
      out = (accumulate ? out : 0.0f) + (sum + (bias ? bias[j + c] : 0.0f));
    }
    return;
  }
  for (int i = 0; i < vec_end; i += W) {
    if (prefetch && (i * kElement) % 64 == 0) {
      for (int c = 0; c < C; ++c) S::prefetch(ahead + (static_cast<size_t>(c) * k + i) * kElement);
    }
    V b[C];
    for (int c = 0; c < C; ++c) b[c] = S::template load_weight<T>(w.data, row0 + static_cast<size_t>(c) * k + i);
    for (int r = 0; r < R; ++r) {
      const V a = S::load(x + static_cast<size_t>(r) * ldx + i);
      for (int c = 0; c < C; ++c) acc[r][c] = S::fma(a, b[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r) {
    const float* xr = x + static_cast<size_t>(r) * ldx;
    for (int c = 0; c < C; ++c) {
      float sum = S::reduce_add(acc[r][c]);
      for (int i = vec_end; i < k; ++i) {
        sum += xr[i] * load_weight_scalar<T>(w.data, row0 + static_cast<size_t>(c) * k + i);
      }
      float& out = y[static_cast<size_t>(r) * ldy + j + c];
      out = (accumulate ? out : 0.0f) + (sum + (bias ? bias[j + c] : 0.0f));
    }
  }
}

// Columns per block for R rows: R*C accumulators plus C weight vectors must fit the registers.
template <class S, int R>
constexpr int gemv_columns() {
  return R * 4 + 5 <= S::kRegisters ? 4 : 2;
}

template <class S, MatrixType T, int R>
void gemv_rows(const float* x, int ldx, const WeightMatrix& w, int col_begin, int col_end, const float* bias,
               bool accumulate, float* y, int ldy) {
  if constexpr (is_quantized(T)) {
    gemv_rows_quant<S, T, R>(x, ldx, w, col_begin, col_end, bias, accumulate, y, ldy);
  } else {
    constexpr int C = gemv_columns<S, R>();
    int j = col_begin;
    for (; j + C <= col_end; j += C) gemv_block<S, T, R, C>(x, ldx, w, j, bias, accumulate, y, ldy);
    for (; j < col_end; ++j) gemv_block<S, T, R, 1>(x, ldx, w, j, bias, accumulate, y, ldy);
  }
}

template <class S, MatrixType T, int R = 1>
void gemv_remaining_rows(int n_rows, const float* x, int ldx, const WeightMatrix& w, int col_begin, int col_end,
                         const float* bias, bool accumulate, float* y, int ldy) {
  if constexpr (R < S::kMaxRows) {
    if (n_rows != R) {
      gemv_remaining_rows<S, T, R + 1>(n_rows, x, ldx, w, col_begin, col_end, bias, accumulate, y, ldy);
      return;
    }
  }
  if (n_rows == R) gemv_rows<S, T, R>(x, ldx, w, col_begin, col_end, bias, accumulate, y, ldy);
}

template <class S, MatrixType T>
void gemv_typed(const float* x, int n_rows, int ldx, const WeightMatrix& w, int col_begin, int col_end,
                const float* bias, bool accumulate, float* y, int ldy) {
  int r = 0;
  for (; r + S::kMaxRows <= n_rows; r += S::kMaxRows) {
    gemv_rows<S, T, S::kMaxRows>(x + static_cast<size_t>(r) * ldx, ldx, w, col_begin, col_end, bias,
                                 accumulate, y + static_cast<size_t>(r) * ldy, ldy);
  }
  if (r < n_rows) {
    gemv_remaining_rows<S, T>(n_rows - r, x + static_cast<size_t>(r) * ldx, ldx, w, col_begin, col_end, bias,
                              accumulate, y + static_cast<size_t>(r) * ldy, ldy);
  }
}

template <class S>
void rows_to_f32_impl(const WeightMatrix& w, int row_begin, int row_end, float* dst);

template <class S>
void gemv_impl(const float* x, int n_rows, int ldx, const WeightMatrix& w, int col_begin, int col_end,
               const float* bias, bool accumulate, float* y, int ldy) {
#define WISP_GEMV_CASE(T) \
  case MatrixType::T: gemv_typed<S, MatrixType::T>(x, n_rows, ldx, w, col_begin, col_end, bias, accumulate, y, ldy); break;
  switch (w.type) {
    WISP_GEMV_CASE(F32)
    WISP_GEMV_CASE(F16)
    WISP_GEMV_CASE(BF16)
    WISP_GEMV_CASE(Q8_0)
    WISP_GEMV_CASE(Q5_0)
    WISP_GEMV_CASE(Q5_1)
    WISP_GEMV_CASE(Q4_0)
    WISP_GEMV_CASE(Q4_1)
    case MatrixType::Q5_0R:
    case MatrixType::Q8_0R: {
      // Regrouped blocks are read by the int8 and int16 kernels; any other product on them (none
      // in the decoder) widens a few rows at a time.
      constexpr int kRows = 16;
      thread_local std::vector<float> widened;
      widened.resize(static_cast<size_t>(kRows) * w.cols);
      for (int j0 = col_begin; j0 < col_end; j0 += kRows) {
        const int j1 = std::min(col_end, j0 + kRows);
        rows_to_f32_impl<S>(w, j0, j1, widened.data());
        const WeightMatrix rows(widened.data(), MatrixType::F32, j1 - j0, w.cols);
        gemv_typed<S, MatrixType::F32>(x, n_rows, ldx, rows, 0, j1 - j0, bias ? bias + j0 : nullptr, accumulate,
                                       y + j0, ldy);
      }
      break;
    }
  }
#undef WISP_GEMV_CASE
}

template <class S>
void rows_to_f32_impl(const WeightMatrix& w, int row_begin, int row_end, float* dst) {
  constexpr int W = S::kWidth;
  const size_t begin = static_cast<size_t>(row_begin) * w.cols;
  const size_t n = static_cast<size_t>(row_end - row_begin) * w.cols;
  size_t i = 0;
  switch (w.type) {
    case MatrixType::F32: std::memcpy(dst, w.f32_data() + begin, n * sizeof(float)); return;
    case MatrixType::F16:
      for (; i + W <= n; i += W) S::store(dst + i, S::template load_weight<MatrixType::F16>(w.data, begin + i));
      for (; i < n; ++i) dst[i] = load_weight_scalar<MatrixType::F16>(w.data, begin + i);
      return;
    case MatrixType::BF16:
      for (; i + W <= n; i += W) S::store(dst + i, S::template load_weight<MatrixType::BF16>(w.data, begin + i));
      for (; i < n; ++i) dst[i] = load_weight_scalar<MatrixType::BF16>(w.data, begin + i);
      return;
    case MatrixType::Q8_0: rows_to_f32_quant<S, MatrixType::Q8_0>(w, row_begin, row_end, dst); return;
    case MatrixType::Q5_0: rows_to_f32_quant<S, MatrixType::Q5_0>(w, row_begin, row_end, dst); return;
    case MatrixType::Q5_1: rows_to_f32_quant<S, MatrixType::Q5_1>(w, row_begin, row_end, dst); return;
    case MatrixType::Q4_0: rows_to_f32_quant<S, MatrixType::Q4_0>(w, row_begin, row_end, dst); return;
    case MatrixType::Q4_1: rows_to_f32_quant<S, MatrixType::Q4_1>(w, row_begin, row_end, dst); return;
    case MatrixType::Q5_0R:  // q5_0r_avx2.h, which every includer of this file has
      for (int r = row_begin; r < row_end; ++r) {
        q5_0r_row_to_f32_avx2(w.row_data(r), w.cols, dst + static_cast<size_t>(r - row_begin) * w.cols);
      }
      return;
    case MatrixType::Q8_0R:  // the token embedding's rows at decode: the scalar loop suffices
      w.rows_to_f32(row_begin, row_end, dst);
      return;
  }
}

#include "kernels/kernels_attention_generic.h"

template <class S>
constexpr KernelTable make_kernel_table() {
  return {gemv_impl<S>,       rows_to_f32_impl<S>, bias_gelu_impl<S>,     add_bias_impl<S>,
          layer_norm_impl<S>, softmax_impl<S>,     attend_query_impl<S>,  attend_queries_panels_impl<S>,
          max_value_impl<S>,  sum_exp_impl<S>};
}
