// Multi-head scaled dot-product attention, heads and query blocks in parallel. Each task
// scores one block of queries against all keys (a [block][n_kv] tile in per-thread scratch,
// never the whole [n_q][n_kv] matrix), applies a vectorised softmax and multiplies by V.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/weight_matrix.h"

namespace wisp {

// q: [n_q][*] with row stride ldq, k/v: [n_kv][*] with strides ldk/ldv; head h uses columns
// [h*d_head, (h+1)*d_head). out: [n_q][n_head*d_head], stride ldo. With `causal`, query i
// (absolute position q_offset+i) sees keys 0..q_offset+i.
void attention(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out, int ldo,
               int n_q, int n_kv, int n_head, int d_head, bool causal, int q_offset);

// attention() of `batch` independent sequences in one parallel job (a decode step of several
// beams): sequence s's queries are at q + s*q_stride, its keys and values (stride ldkv) at
// k + s*kv_stride and v + s*kv_stride, its output at out + s*out_stride. Same results as one
// attention() call per sequence.
void attention_sequences(const float* q, int ldq, size_t q_stride, const float* k, const float* v, int ldkv,
                         size_t kv_stride, float* out, int ldo, size_t out_stride, int batch, int n_q, int n_kv,
                         int n_head, int d_head, bool causal, int q_offset);

// attention() without a causal mask on the panel product (kernels/panel_gemm.h): each head's
// keys (pre-scaled) and values are packed as panels once, then query blocks run both products
// with no per-call packing. For the encoder on AVX2-only CPUs.
void attention_panels(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out, int ldo,
                      int n_q, int n_kv, int n_head, int d_head);

// The decoder's cross-attention cache: each head's keys stored as panels of 16 keys
// ([ceil(n_kv/16)][d_head][16], zero-padded: kernels/panel_gemm.h's layout, key_panel_elements
// values per head), so that a decode step streams them contiguously and prompts multiply them
// with no repacking; values head-major ([n_head][n_kv][d_head]), so that each head's values
// are one contiguous stream too. Elements are `type`: F32, or F16 with reduced-precision
// compute (half the bytes a decode step streams).
size_t key_panel_elements(int n_kv, int d_head);
void pack_key_panels(const float* k, int ldk, int n_kv, int n_head, int d_head, MatrixType type, void* panels);
// Values v[n_kv][ldv] (head h at columns [h*d_head, (h+1)*d_head)) into the head-major layout.
void pack_head_values(const float* v, int ldv, int n_kv, int n_head, int d_head, MatrixType type, void* values);
// Non-causal attention over such a cache. A few queries (decode steps) read it directly, all
// queries of a head at once; more (prompts) run the panel product for the scores and a GEMM for
// the values, over an f32 copy of a half cache's values widened into v_scratch
// (n_kv*n_head*d_head floats; unused for F32).
void attention_key_panels(const float* q, int ldq, MatrixType type, const void* key_panels, const void* values,
                          float* out, int ldo, int n_q, int n_kv, int n_head, int d_head, float* v_scratch);

}  // namespace wisp
