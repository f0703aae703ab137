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

// The decoder's self-attention cache: per sequence and layer, keys and values head-major,
// [n_head][n_ctx][d_head] as `type` (F32, or F16 with reduced-precision compute), so that a
// decode step streams each head's keys and values contiguously (and half the bytes in F16).
// Rows [position, position + n_rows) of every head from rows[n_rows][ld] (head h at columns
// [h*d_head, (h+1)*d_head)):
void store_head_major(const float* rows, int ld, int n_rows, int n_head, int d_head, MatrixType type, void* cache,
                      int n_ctx, int position);
// ... and back: positions [0, n_rows) widened into rows[n_rows][ld].
void load_head_major(const void* cache, MatrixType type, int n_ctx, int n_rows, int n_head, int d_head, float* rows,
                     int ld);
// Causal attention of `batch` sequences over such caches in one parallel job (a decode step of
// several beams): sequence s's queries at q + s*q_stride, its caches kv_stride elements after
// sequence s-1's, its output at out + s*out_stride; query i (position q_offset + i) sees keys
// 0..q_offset+i. Few queries read the cache directly; more (prompts) run attention() per
// sequence on the rows widened into k_scratch and v_scratch (n_kv*n_head*d_head floats each).
void attention_head_major(const float* q, int ldq, size_t q_stride, MatrixType type, const void* k, const void* v,
                          int n_ctx, size_t kv_stride, float* out, int ldo, size_t out_stride, int batch, int n_q,
                          int n_kv, int n_head, int d_head, int q_offset, float* k_scratch, float* v_scratch);

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
