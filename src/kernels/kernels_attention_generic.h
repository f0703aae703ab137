// Attention kernels of the generic SIMD table (kernels_generic.h, which includes this file inside
// its anonymous namespace, after softmax_impl): one query against f32 or f16 keys and values
// (self-attention at decode), several queries against 16-key panels and head-major values (f32
// or f16: cross-attention), values weighted as they stream by.
#pragma once

// out[c*W, (c+N)*W) of sum_j p[j] v[j] from columns [col, col + N*W) of the values: N
// accumulator vectors with compile-time bounds, so they stay in registers (with a runtime
// bound GCC keeps such arrays in memory and stores them on every step). With fewer than 8
// vectors, keys alternate between two sets of accumulators, for twice the independent FMA chains.
template <class S, MatrixType T, int N>
void weighted_values_columns(const float* p, const void* v, int ldv, int n, int col, float* out) {
  using V = typename S::V;
  constexpr int W = S::kWidth;
  constexpr int U = N >= 8 ? 1 : 2;
  V acc[U][N];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) {
#pragma GCC unroll 8
    for (int c = 0; c < N; ++c) acc[u][c] = S::zero();
  }
  // Decode steps stream the values from memory: rows kAhead keys ahead are prefetched.
  constexpr int kAhead = 48;
  constexpr size_t kElement = T == MatrixType::F32 ? 4 : 2;
  constexpr size_t kRowBytes = static_cast<size_t>(N) * W * kElement;
  const char* base = static_cast<const char*>(v) + static_cast<size_t>(col) * kElement;
  auto step = [&](int j, V(&into)[N]) {
    if (j + kAhead < n) {
      const char* row = base + static_cast<size_t>(j + kAhead) * ldv * kElement;
      for (size_t line = 0; line < kRowBytes; line += 64) S::prefetch(row + line);
    }
    const V pj = S::set1(p[j]);
    const size_t vj = static_cast<size_t>(j) * ldv + col;
#pragma GCC unroll 8
    for (int c = 0; c < N; ++c) into[c] = S::fma(pj, S::template load_weight<T>(v, vj + c * W), into[c]);
  };
  int j = 0;
  for (; j + U <= n; j += U) {
#pragma GCC unroll 2
    for (int u = 0; u < U; ++u) step(j + u, acc[u]);
  }
  for (; j < n; ++j) step(j, acc[0]);
#pragma GCC unroll 8
  for (int c = 0; c < N; ++c) S::store(out + c * W, U == 2 ? S::add(acc[0][c], acc[U - 1][c]) : acc[0][c]);
}

// out[0, d_head) = sum_j p[j] v[j], values stored as T and widened as they stream by.
template <class S, MatrixType T>
void weighted_values(const float* p, const void* v, int ldv, int n, int d_head, float* out) {
  constexpr int W = S::kWidth;
  // Output vectors kept in registers while the values stream by, as many as a head needs up to 8
  // (a 64-wide head: 8 AVX2 or 4 AVX-512 vectors), so the values pass once.
  const int vec_end = d_head / W * W;
  int i0 = 0;
  for (; i0 + 8 * W <= vec_end; i0 += 8 * W) weighted_values_columns<S, T, 8>(p, v, ldv, n, i0, out + i0);
  if (i0 + 4 * W <= vec_end) {
    weighted_values_columns<S, T, 4>(p, v, ldv, n, i0, out + i0);
    i0 += 4 * W;
  }
  if (i0 + 2 * W <= vec_end) {
    weighted_values_columns<S, T, 2>(p, v, ldv, n, i0, out + i0);
    i0 += 2 * W;
  }
  if (i0 < vec_end) weighted_values_columns<S, T, 1>(p, v, ldv, n, i0, out + i0);
  for (int i = vec_end; i < d_head; ++i) {
    float sum = 0.0f;
    for (int j = 0; j < n; ++j) sum += p[j] * load_weight_scalar<T>(v, static_cast<size_t>(j) * ldv + i);
    out[i] = sum;
  }
}

// One query over keys and values stored as T (row strides ldk/ldv).
template <class S, MatrixType T>
void attend_query_typed(const float* q, const void* k, int ldk, const void* v, int ldv, int n_visible, int d_head,
                        float scale, float* scores, float* out) {
  using V = typename S::V;
  constexpr int W = S::kWidth;
  const int vec_end = d_head / W * W;
  auto key = [&](int j, int i) { return load_weight_scalar<T>(k, static_cast<size_t>(j) * ldk + i); };
  // Four keys at a time: four independent FMA chains where one key alone is a single chain.
  constexpr int kKeys = 4;
  int j = 0;
  for (; j + kKeys <= n_visible; j += kKeys) {
    V acc[kKeys];
#pragma GCC unroll 4
    for (int c = 0; c < kKeys; ++c) acc[c] = S::zero();
    for (int i = 0; i < vec_end; i += W) {
      const V qi = S::load(q + i);
#pragma GCC unroll 4
      for (int c = 0; c < kKeys; ++c) {
        acc[c] = S::fma(qi, S::template load_weight<T>(k, static_cast<size_t>(j + c) * ldk + i), acc[c]);
      }
    }
#pragma GCC unroll 4
    for (int c = 0; c < kKeys; ++c) {
      float dot = S::reduce_add(acc[c]);
      for (int i = vec_end; i < d_head; ++i) dot += q[i] * key(j + c, i);
      scores[j + c] = dot * scale;
    }
  }
  for (; j < n_visible; ++j) {
    V acc = S::zero();
    for (int i = 0; i < vec_end; i += W) {
      acc = S::fma(S::load(q + i), S::template load_weight<T>(k, static_cast<size_t>(j) * ldk + i), acc);
    }
    float dot = S::reduce_add(acc);
    for (int i = vec_end; i < d_head; ++i) dot += q[i] * key(j, i);
    scores[j] = dot * scale;
  }
  softmax_impl<S>(scores, n_visible, n_visible);
  weighted_values<S, T>(scores, v, ldv, n_visible, d_head, out);
}

template <class S>
void attend_query_impl(MatrixType type, const float* q, const void* k, int ldk, const void* v, int ldv, int n_visible,
                       int d_head, float scale, float* scores, float* out) {
  if (type == MatrixType::F16) {
    attend_query_typed<S, MatrixType::F16>(q, k, ldk, v, ldv, n_visible, d_head, scale, scores, out);
  } else {
    attend_query_typed<S, MatrixType::F32>(q, k, ldk, v, ldv, n_visible, d_head, scale, scores, out);
  }
}

// Scaled scores of Q queries against panels [p0, p1) of a head's key panels (16 keys x d_head,
// kernels/panel_gemm.h's layout), into rows of `scores` (stride lds, n_kv valid columns): each
// panel streams contiguously and is loaded once per group of queries; each score sums over
// d_head in order, one accumulator chain per key lane. P panels at a time give few queries more
// independent chains.
template <class S, MatrixType T, int Q, int P>
void key_panel_scores(const float* q, int ldq, const void* panels, int p0, int p1, int n_kv, int d_head, float scale,
                      float* scores, int lds) {
  using V = typename S::V;
  constexpr int W = S::kWidth;
  constexpr int C = kPanelWidth / W;  // vectors per panel row
  constexpr size_t kElement = T == MatrixType::F32 ? 4 : 2;
  constexpr size_t kStepBytes = static_cast<size_t>(P) * kPanelWidth * kElement;  // a group's bytes per step
  for (int p = p0; p + P <= p1; p += P) {
    V acc[Q][P * C];
#pragma GCC unroll 8
    for (int r = 0; r < Q; ++r) {
#pragma GCC unroll 8
      for (int c = 0; c < P * C; ++c) acc[r][c] = S::zero();
    }
    // The group of panels two ahead (the panels are contiguous) is prefetched a share per step
    // of depth: decode steps stream the keys from memory (measured: 10-15 % faster than no
    // prefetch; one group ahead did as well within the noise).
    const char* next = p + 3 * P <= p1 ? static_cast<const char*>(panels) +
                                             static_cast<size_t>(p + 2 * P) * d_head * kPanelWidth * kElement
                                       : nullptr;
    for (int i = 0; i < d_head; ++i) {
      if (next != nullptr) {
        for (size_t line = 0; line < kStepBytes; line += 64) S::prefetch(next + i * kStepBytes + line);
      }
      V key[P * C];
#pragma GCC unroll 8
      for (int c = 0; c < P * C; ++c) {
        const size_t panel = static_cast<size_t>(p + c / C) * d_head;
        key[c] = S::template load_weight<T>(panels, (panel + i) * kPanelWidth + (c % C) * W);
      }
#pragma GCC unroll 8
      for (int r = 0; r < Q; ++r) {
        const V qi = S::set1(q[static_cast<size_t>(r) * ldq + i]);
#pragma GCC unroll 8
        for (int c = 0; c < P * C; ++c) acc[r][c] = S::fma(qi, key[c], acc[r][c]);
      }
    }
    const V scale_v = S::set1(scale);
#pragma GCC unroll 8
    for (int r = 0; r < Q; ++r) {
      float* row = scores + static_cast<size_t>(r) * lds;
#pragma GCC unroll 8
      for (int c = 0; c < P * C; ++c) {
        const int j = p * kPanelWidth + c * W;
        if (j + W <= n_kv) {
          S::store(row + j, S::mul(acc[r][c], scale_v));
        } else if (j < n_kv) {  // the last, partial panel: padding keys are not stored
          float lanes[W];
          S::store(lanes, S::mul(acc[r][c], scale_v));
          std::copy_n(lanes, n_kv - j, row + j);
        }
      }
    }
  }
}

template <class S, MatrixType T>
void attend_queries_panels_typed(const float* q, int ldq, int n_q, const void* key_panels, const void* v, int ldv,
                                 int n_kv, int d_head, float scale, float* scores, float* out, int ldo) {
  // Q queries x 2 key vectors of accumulators, 2 key vectors and a broadcast fit the registers.
  constexpr int kGroup = S::kRegisters >= 32 ? 8 : 4;
  const int n_panels = (n_kv + kPanelWidth - 1) / kPanelWidth;
  for (int r0 = 0; r0 < n_q; r0 += kGroup) {
    const float* qg = q + static_cast<size_t>(r0) * ldq;
    float* sg = scores + static_cast<size_t>(r0) * n_kv;
    auto run = [&](auto q_count) {
      constexpr int kQ = decltype(q_count)::value;
      // Several panels at once while registers allow: a lone query needs 4 panels (8 chains)
      // to keep the FMA units busy across each key's dependent steps.
      constexpr int kP = kQ == 1 ? 4 : kQ == 2 ? 2 : 1;
      const int grouped_end = n_panels / kP * kP;
      key_panel_scores<S, T, kQ, kP>(qg, ldq, key_panels, 0, grouped_end, n_kv, d_head, scale, sg, n_kv);
      key_panel_scores<S, T, kQ, 1>(qg, ldq, key_panels, grouped_end, n_panels, n_kv, d_head, scale, sg, n_kv);
    };
    switch (std::min(kGroup, n_q - r0)) {
      case 1: run(std::integral_constant<int, 1>{}); break;
      case 2: run(std::integral_constant<int, 2>{}); break;
      case 3: run(std::integral_constant<int, 3>{}); break;
      case 4: run(std::integral_constant<int, 4>{}); break;
      case 5: run(std::integral_constant<int, std::min(5, kGroup)>{}); break;
      case 6: run(std::integral_constant<int, std::min(6, kGroup)>{}); break;
      case 7: run(std::integral_constant<int, std::min(7, kGroup)>{}); break;
      default: run(std::integral_constant<int, kGroup>{}); break;
    }
  }
  for (int r = 0; r < n_q; ++r) {
    float* row = scores + static_cast<size_t>(r) * n_kv;
    softmax_impl<S>(row, n_kv, n_kv);
    weighted_values<S, T>(row, v, ldv, n_kv, d_head, out + static_cast<size_t>(r) * ldo);
  }
}

template <class S>
void attend_queries_panels_impl(MatrixType type, const float* q, int ldq, int n_q, const void* key_panels,
                                const void* v, int ldv, int n_kv, int d_head, float scale, float* scores, float* out,
                                int ldo) {
  if (type == MatrixType::F16) {
    attend_queries_panels_typed<S, MatrixType::F16>(q, ldq, n_q, key_panels, v, ldv, n_kv, d_head, scale, scores, out,
                                                    ldo);
  } else {
    attend_queries_panels_typed<S, MatrixType::F32>(q, ldq, n_q, key_panels, v, ldv, n_kv, d_head, scale, scores, out,
                                                    ldo);
  }
}
