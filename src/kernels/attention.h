// Multi-head scaled dot-product attention, heads and query blocks in parallel. Each task
// scores one block of queries against all keys (a [block][n_kv] tile in per-thread scratch,
// never the whole [n_q][n_kv] matrix), applies a vectorised softmax and multiplies by V.
#pragma once

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace wisp {

// q: [n_q][*] with row stride ldq, k/v: [n_kv][*] with strides ldk/ldv; head h uses columns
// [h*d_head, (h+1)*d_head). out: [n_q][n_head*d_head], stride ldo. With `causal`, query i
// (absolute position q_offset+i) sees keys 0..q_offset+i.
void attention(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out, int ldo,
               int n_q, int n_kv, int n_head, int d_head, bool causal, int q_offset);

// attention() without a causal mask on the panel product (kernels/panel_gemm.h): each head's
// keys (pre-scaled) and values are packed as panels once, then query blocks run both products
// with no per-call packing. For the encoder on AVX2-only CPUs.
void attention_panels(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out, int ldo,
                      int n_q, int n_kv, int n_head, int d_head);

// The decoder's cross-attention cache: keys stored transposed per head, kt = [n_head][d_head][n_kv],
// so that scores are axpy's over contiguous keys; values [n_kv][ldv]. Elements are `type`: F32,
// or F16 with reduced-precision compute (half the bytes a decode step streams).
void pack_keys_transposed(const float* k, int ldk, int n_kv, int n_head, int d_head, MatrixType type, void* kt);
// Non-causal attention over such a cache. A few queries (decode steps) read it directly, all
// queries of a head at once; more (prompts) run GEMMs per head, over f32 copies of a half cache
// widened into k_scratch/v_scratch (n_kv*n_head*d_head floats each; unused for F32).
void attention_kt(const float* q, int ldq, MatrixType type, const void* kt, const void* v, int ldv, float* out,
                  int ldo, int n_q, int n_kv, int n_head, int d_head, float* k_scratch, float* v_scratch);

}  // namespace wisp
