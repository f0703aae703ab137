// Multi-head scaled dot-product attention, heads and query blocks in parallel. Each task
// scores one block of queries against all keys (a [block][n_kv] tile in per-thread scratch,
// never the whole [n_q][n_kv] matrix), applies a vectorised softmax and multiplies by V.
#pragma once

#include <cstdint>

namespace wisp {

// q: [n_q][*] with row stride ldq, k/v: [n_kv][*] with strides ldk/ldv; head h uses columns
// [h*d_head, (h+1)*d_head). out: [n_q][n_head*d_head], stride ldo. With `causal`, query i
// (absolute position q_offset+i) sees keys 0..q_offset+i.
void attention(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out, int ldo,
               int n_q, int n_kv, int n_head, int d_head, bool causal, int q_offset);

// The decoder's cross-attention cache in half precision (reduced-precision compute: half the
// bytes a decode step streams). Keys are stored transposed per head, kt = [n_head][d_head][n_kv],
// so that a query's scores are axpy's over contiguous keys; values are [n_kv][ldv].
void pack_half_keys(const float* k, int ldk, int n_kv, int n_head, int d_head, uint16_t* kt);
void unpack_half_keys(const uint16_t* kt, int n_kv, int n_head, int d_head, float* k, int ldk);
// Non-causal attention over such a cache. A few queries read the halves directly; more widen K
// and V into k_scratch/v_scratch ([n_kv][n_head*d_head] floats each) and run attention().
void attention_half_kv(const float* q, int ldq, const uint16_t* kt, const uint16_t* v, int ldv, float* out, int ldo,
                       int n_q, int n_kv, int n_head, int d_head, float* k_scratch, float* v_scratch);

}  // namespace wisp
