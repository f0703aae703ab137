#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/convert.h"
#include "kernels/kernel_table.h"
#include "kernels/ops.h"
#include "kernels/panel_gemm.h"

namespace wisp {

namespace {

// Queries per task: a [64][1500] score tile (384 KB) stays in L2 between its two GEMMs.
constexpr int kQueryBlock = 64;
// The same for the panel product, in whole 6-row register tiles.
constexpr int kPanelQueryBlock = 48;
// Up to this many queries (decode steps), a head runs on the vector kernels (one query at a
// time over row-major keys, all together over key panels): GEMM calls would spend more
// time packing K and V than multiplying.
constexpr int kSmallQueries = 8;
// Scores of the few-query paths (n floats): on the stack up to kSmallQueries rows of 1536 keys
// (Whisper attends over at most 1500), so that a decode step never allocates, whichever thread
// takes which head; beyond that in per-thread memory.
class ScoreRow {
 public:
  explicit ScoreRow(int n_kv) : data_(stack_) {
    if (n_kv > kStackKeys) {
      thread_local std::vector<float> heap;
      if (heap.size() < static_cast<size_t>(n_kv)) heap.resize(n_kv);
      data_ = heap.data();
    }
  }
  float* data() { return data_; }

 private:
  static constexpr int kStackKeys = kSmallQueries * 1536;  // Whisper attends over 1500 keys
  float stack_[kStackKeys];
  float* data_;
};

// Keys and values of `batch` independent sequences, as `type`: sequence s's start `seq`
// elements after sequence s-1's, head h's `head` elements after head h-1's, rows ldk / ldv apart.
struct KvLayout {
  MatrixType type = MatrixType::F32;
  const void* k = nullptr;
  const void* v = nullptr;
  size_t seq = 0, head = 0;
  int ldk = 0, ldv = 0;
};

// Every (sequence, head) pair as one job; sequence s's queries and outputs start q_stride and
// out_stride floats after sequence s-1's.
void attention_few_queries(const KernelTable& kt, const float* q, int ldq, size_t q_stride, const KvLayout& kv,
                           float* out, int ldo, size_t out_stride, int batch, int n_q, int n_kv, int n_head,
                           int d_head, bool causal, int q_offset, float scale) {
  const size_t element = kv.type == MatrixType::F16 ? sizeof(uint16_t) : sizeof(float);
  parallel_for(batch * n_head, [&](int task) {
    const int s = task / n_head;
    const int h = task % n_head;
    ScoreRow score_row(n_kv);
    float* scores = score_row.data();
    const size_t at = (s * kv.seq + h * kv.head) * element;
    const void* k = static_cast<const char*>(kv.k) + at;
    const void* v = static_cast<const char*>(kv.v) + at;
    const float* qs = q + s * q_stride + h * d_head;
    float* os = out + s * out_stride + h * d_head;
    for (int i = 0; i < n_q; ++i) {
      const int n_visible = causal ? std::min(n_kv, q_offset + i + 1) : n_kv;
      kt.attend_query(kv.type, qs + static_cast<size_t>(i) * ldq, k, kv.ldk, v, kv.ldv, n_visible, d_head, scale,
                      scores, os + static_cast<size_t>(i) * ldo);
    }
  });
}

}  // namespace

size_t key_panel_elements(int n_kv, int d_head) { return panel_elements(n_kv, d_head); }

void pack_key_panels(const float* k, int ldk, int n_kv, int n_head, int d_head, MatrixType type, void* panels) {
  const size_t per_head = key_panel_elements(n_kv, d_head);
  parallel_for(n_head, [&](int h) {
    const float* keys = k + h * d_head;
    const size_t head = static_cast<size_t>(h) * per_head;
    for (int j = 0; j < n_kv + (kPanelWidth - n_kv % kPanelWidth) % kPanelWidth; ++j) {
      const size_t panel = head + static_cast<size_t>(j / kPanelWidth) * d_head * kPanelWidth + j % kPanelWidth;
      for (int i = 0; i < d_head; ++i) {
        const float value = j < n_kv ? keys[static_cast<size_t>(j) * ldk + i] : 0.0f;
        const size_t at = panel + static_cast<size_t>(i) * kPanelWidth;
        if (type == MatrixType::F16) {
          static_cast<uint16_t*>(panels)[at] = f32_to_f16(value);
        } else {
          static_cast<float*>(panels)[at] = value;
        }
      }
    }
  });
}

void pack_head_values(const float* v, int ldv, int n_kv, int n_head, int d_head, MatrixType type, void* values) {
  const size_t element = type == MatrixType::F16 ? sizeof(uint16_t) : sizeof(float);
  parallel_for(n_head, [&](int h) {
    char* head = static_cast<char*>(values) + static_cast<size_t>(h) * n_kv * d_head * element;
    for (int j = 0; j < n_kv; ++j) {
      const float* src = v + static_cast<size_t>(j) * ldv + h * d_head;
      void* dst = head + static_cast<size_t>(j) * d_head * element;
      if (type == MatrixType::F16) {
        convert_f32_to_f16(src, static_cast<uint16_t*>(dst), d_head);
      } else {
        std::copy_n(src, d_head, static_cast<float*>(dst));
      }
    }
  });
}

void attention_key_panels(const float* q, int ldq, MatrixType type, const void* key_panels, const void* values,
                          float* out, int ldo, int n_q, int n_kv, int n_head, int d_head, float* v_scratch) {
  const KernelTable& kernel = kernels();
  const float scale = 1.0f / std::sqrt(static_cast<float>(d_head));
  const size_t element = type == MatrixType::F16 ? sizeof(uint16_t) : sizeof(float);
  const size_t per_head = key_panel_elements(n_kv, d_head);
  const size_t head_values = static_cast<size_t>(n_kv) * d_head;
  if (n_q <= kSmallQueries) {
    parallel_for(n_head, [&](int h) {
      ScoreRow score_rows(n_q * n_kv);
      kernel.attend_queries_panels(type, q + h * d_head, ldq, n_q,
                                   static_cast<const char*>(key_panels) + h * per_head * element,
                                   static_cast<const char*>(values) + h * head_values * element, d_head, n_kv,
                                   d_head, scale, score_rows.data(), out + h * d_head, ldo);
    });
    return;
  }
  const float* v32 = static_cast<const float*>(values);
  if (type == MatrixType::F16) {  // prompts: values widened once for the GEMMs
    const size_t total = head_values * n_head;
    const size_t block = static_cast<size_t>(split_size(static_cast<int>(total), 4096, 2));
    parallel_for(static_cast<int>((total + block - 1) / block), [&](int task) {
      const size_t begin = static_cast<size_t>(task) * block;
      convert_f16_to_f32(static_cast<const uint16_t*>(values) + begin, v_scratch + begin, std::min(block, total - begin));
    });
    v32 = v_scratch;
  }
  const PanelKernel panel_kernel = active_panel_kernel();
  const PanelType panel_type = type == MatrixType::F16 ? PanelType::F16 : PanelType::F32;
  const int n_blocks = (n_q + kQueryBlock - 1) / kQueryBlock;
  parallel_for(n_head * n_blocks, [&](int task) {
    const int h = task % n_head;
    const int col = h * d_head;
    const int i0 = (task / n_head) * kQueryBlock;
    const int i1 = std::min(n_q, i0 + kQueryBlock);
    thread_local std::vector<float> scores;  // grows once per thread to the largest tile
    const size_t needed = static_cast<size_t>(i1 - i0) * n_kv;
    if (scores.size() < needed) scores.resize(needed);
    float* s = scores.data();
    // Scores sum over d_head in order and are then scaled, as the few-query kernels do.
    panel_gemm(panel_kernel, i1 - i0, n_kv, d_head, q + static_cast<size_t>(i0) * ldq + col, static_cast<size_t>(ldq),
               panel_type, static_cast<const char*>(key_panels) + h * per_head * element, s,
               static_cast<size_t>(n_kv), false);
    for (size_t i = 0; i < needed; ++i) s[i] *= scale;
    for (int i = i0; i < i1; ++i) kernel.softmax(s + static_cast<size_t>(i - i0) * n_kv, n_kv, n_kv);
    gemm_nn(i1 - i0, d_head, n_kv, s, n_kv, v32 + h * head_values, d_head, out + static_cast<size_t>(i0) * ldo + col,
            ldo);
  });
}

void attention(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out, int ldo,
               int n_q, int n_kv, int n_head, int d_head, bool causal, int q_offset) {
  const KernelTable& kt = kernels();
  const float scale = 1.0f / std::sqrt(static_cast<float>(d_head));
  if (n_q <= kSmallQueries) {
    attention_few_queries(kt, q, ldq, 0, {MatrixType::F32, k, v, 0, static_cast<size_t>(d_head), ldk, ldv}, out, ldo,
                          0, 1, n_q, n_kv, n_head, d_head, causal, q_offset, scale);
    return;
  }
  const int n_blocks = (n_q + kQueryBlock - 1) / kQueryBlock;
  parallel_for(n_head * n_blocks, [&](int task) {
    const int col = (task % n_head) * d_head;
    const int i0 = (task / n_head) * kQueryBlock;
    const int i1 = std::min(n_q, i0 + kQueryBlock);
    // Keys no query of this block can see are skipped.
    const int n_keys = causal ? std::min(n_kv, q_offset + i1) : n_kv;
    thread_local std::vector<float> scores;  // grows once per thread to the largest tile
    const size_t needed = static_cast<size_t>(i1 - i0) * n_keys;
    if (scores.size() < needed) scores.resize(needed);
    float* s = scores.data();
    gemm_nt(i1 - i0, n_keys, d_head, q + static_cast<size_t>(i0) * ldq + col, ldq, k + col, ldk, s, n_keys, scale);
    for (int i = i0; i < i1; ++i) {
      const int n_visible = causal ? std::min(n_kv, q_offset + i + 1) : n_kv;
      kt.softmax(s + static_cast<size_t>(i - i0) * n_keys, n_visible, n_keys);
    }
    gemm_nn(i1 - i0, d_head, n_keys, s, n_keys, v + col, ldv, out + static_cast<size_t>(i0) * ldo + col, ldo);
  });
}

void store_head_major(const float* rows, int ld, int n_rows, int n_head, int d_head, MatrixType type, void* cache,
                      int n_ctx, int position) {
  for (int r = 0; r < n_rows; ++r) {
    for (int h = 0; h < n_head; ++h) {
      const float* src = rows + static_cast<size_t>(r) * ld + h * d_head;
      const size_t at = (static_cast<size_t>(h) * n_ctx + position + r) * d_head;
      if (type == MatrixType::F16) {
        convert_f32_to_f16(src, static_cast<uint16_t*>(cache) + at, d_head);
      } else {
        std::copy_n(src, d_head, static_cast<float*>(cache) + at);
      }
    }
  }
}

void load_head_major(const void* cache, MatrixType type, int n_ctx, int n_rows, int n_head, int d_head, float* rows,
                     int ld) {
  for (int h = 0; h < n_head; ++h) {
    for (int r = 0; r < n_rows; ++r) {
      const size_t at = (static_cast<size_t>(h) * n_ctx + r) * d_head;
      float* dst = rows + static_cast<size_t>(r) * ld + h * d_head;
      if (type == MatrixType::F16) {
        convert_f16_to_f32(static_cast<const uint16_t*>(cache) + at, dst, d_head);
      } else {
        std::copy_n(static_cast<const float*>(cache) + at, d_head, dst);
      }
    }
  }
}

void attention_head_major(const float* q, int ldq, size_t q_stride, MatrixType type, const void* k, const void* v,
                          int n_ctx, size_t kv_stride, float* out, int ldo, size_t out_stride, int batch, int n_q,
                          int n_kv, int n_head, int d_head, int q_offset, float* k_scratch, float* v_scratch) {
  if (n_q > kSmallQueries) {
    const int d = n_head * d_head;
    const size_t element = type == MatrixType::F16 ? sizeof(uint16_t) : sizeof(float);
    for (int s = 0; s < batch; ++s) {
      // Prompts: the visible rows widened back to [n_kv][d] for the GEMMs.
      load_head_major(static_cast<const char*>(k) + s * kv_stride * element, type, n_ctx, n_kv, n_head, d_head,
                      k_scratch, d);
      load_head_major(static_cast<const char*>(v) + s * kv_stride * element, type, n_ctx, n_kv, n_head, d_head,
                      v_scratch, d);
      attention(q + s * q_stride, ldq, k_scratch, d, v_scratch, d, out + s * out_stride, ldo, n_q, n_kv, n_head, d_head,
                /*causal=*/true, q_offset);
    }
    return;
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(d_head));
  const KvLayout layout{type, k, v, kv_stride, static_cast<size_t>(n_ctx) * d_head, d_head, d_head};
  attention_few_queries(kernels(), q, ldq, q_stride, layout, out, ldo, out_stride, batch, n_q, n_kv, n_head, d_head,
                        /*causal=*/true, q_offset, scale);
}

void attention_panels(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, float* out, int ldo,
                      int n_q, int n_kv, int n_head, int d_head) {
  const KernelTable& kt = kernels();
  const PanelKernel kernel = active_panel_kernel();
  const float scale = 1.0f / std::sqrt(static_cast<float>(d_head));
  // Per head: K^T as panels of 16 keys (depth d_head), V as panels of 16 value columns (depth
  // n_kv). Grows once per calling thread; tasks use the pointer taken here.
  const size_t key_floats = panel_elements(n_kv, d_head), value_floats = panel_elements(d_head, n_kv);
  const size_t head_floats = key_floats + value_floats;
  thread_local std::vector<float> packed_heads;
  if (packed_heads.size() < head_floats * n_head) packed_heads.resize(head_floats * n_head);
  float* packed = packed_heads.data();
  parallel_for(2 * n_head, [&](int task) {
    const int h = task / 2;
    float* head = packed + head_floats * h;
    if (task % 2 == 0) {
      pack_panels_from_rows(k + h * d_head, n_kv, d_head, static_cast<size_t>(ldk), scale, head);
    } else {
      pack_panels_from_cols(v + h * d_head, n_kv, d_head, static_cast<size_t>(ldv), head + key_floats);
    }
  });
  const int n_blocks = (n_q + kPanelQueryBlock - 1) / kPanelQueryBlock;
  parallel_for(n_head * n_blocks, [&](int task) {
    const int h = task % n_head;
    const int i0 = (task / n_head) * kPanelQueryBlock;
    const int rows = std::min(n_q, i0 + kPanelQueryBlock) - i0;
    const float* head = packed + head_floats * h;
    thread_local std::vector<float> scores;  // grows once per thread to the largest tile
    const size_t needed = static_cast<size_t>(rows) * n_kv;
    if (scores.size() < needed) scores.resize(needed);
    float* s = scores.data();
    panel_gemm(kernel, rows, n_kv, d_head, q + static_cast<size_t>(i0) * ldq + h * d_head, static_cast<size_t>(ldq),
               PanelType::F32, head, s, static_cast<size_t>(n_kv), false);
    for (int i = 0; i < rows; ++i) kt.softmax(s + static_cast<size_t>(i) * n_kv, n_kv, n_kv);
    panel_gemm(kernel, rows, d_head, n_kv, s, static_cast<size_t>(n_kv), PanelType::F32, head + key_floats,
               out + static_cast<size_t>(i0) * ldo + h * d_head, static_cast<size_t>(ldo), false);
  });
}

}  // namespace wisp
