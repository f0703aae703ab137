// The text decoder with its caches: self-attention K/V grow one step at a time per sequence;
// cross-attention K/V are computed once per audio window and shared by all sequences.
// All buffers are allocated at construction (the optional alignment capture when it is turned
// on), so decode steps do not allocate.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "common/huge_pages.h"
#include "kernels/ops.h"
#include "wisp/model.h"

namespace wisp {

class Decoder {
 public:
  // `max_batch` sequences (beams) decoded together over one audio window.
  Decoder(const Model& model, int max_batch = 1);

  // Computes every layer's cross-attention K/V from the encoder output [n_audio_ctx][n_state]
  // and empties the self-attention cache.
  void set_audio_features(const float* audio_features);

  // Runs `n_tokens` new tokens per sequence (tokens[b * n_tokens + i]) at positions
  // [offset, offset + n_tokens), extending each sequence's cache; offset must equal the
  // tokens already cached. Returns logits [batch][n_vocab] of each sequence's last token, or
  // with `all_positions` [batch][n_tokens][n_vocab]. Valid until the next call.
  const float* forward(const int* tokens, int batch, int n_tokens, int offset, bool all_positions = false);

  // Logits [n_vocab] of token i of sequence `seq` in the last forward (e.g. the position of
  // <|startoftranscript|>, whose distribution gives the no-speech probability).
  const float* position_logits(int seq, int i);

  // Sequence b's cache becomes a copy of sequence source[b]'s (beam search reordering); only
  // the first `n_positions` cached positions are copied (-1: the whole context).
  void reorder_cache(const std::vector<int>& source, int n_positions = -1);

  // Opt-in capture of cross-attention scores for word timestamps: while `heads` ((layer, head)
  // pairs) is non-empty, every forward also stores, for sequence 0, the pre-softmax scores
  // q.k/sqrt(d_head) of those heads (openai's `qk`) for its token positions [offset, offset+n).
  // Buffers for `max_tokens` positions (0: the whole text context) are allocated here, never
  // per step; an empty `heads` turns capture off and keeps them. Capture off costs nothing.
  void set_alignment_heads(std::vector<std::pair<int, int>> heads, int max_tokens = 0);
  int n_alignment_heads() const { return static_cast<int>(alignment_heads_.size()); }
  // Captured scores of the i-th head given to set_alignment_heads: [max_tokens][n_audio_ctx],
  // row t = token position t (rows not yet written are stale).
  const float* alignment_qk(int i) const;

  int n_vocab() const { return n_vocab_; }
  int n_ctx() const { return n_ctx_; }
  int max_batch() const { return max_batch_; }
  // Bytes per stored value of the cross- and self-attention K/V caches (what a decode step
  // streams besides the weights).
  size_t kv_cache_element_bytes() const { return half_caches_ ? sizeof(uint16_t) : sizeof(float); }

 private:
  // Sequence seq's self-attention cache of one layer: [n_head][n_ctx][d_head] as kv_type().
  void* self_k(int layer, int seq);
  void* self_v(int layer, int seq);
  void capture_cross_scores(int layer, int n_tokens, int offset, int d_head);

  const Model& model_;
  int n_ctx_, n_state_, n_vocab_, n_audio_ctx_, max_batch_;
  int n_layer_;
  int row_capacity_ = 0;  // batch * n_tokens a forward can take
  // Cross-attention cache per layer, keys as panels per head (see pack_key_panels,
  // key_panels_per_layer_ elements a layer) and values head-major (pack_head_values): f32 in
  // cross_k_/cross_v_, or with reduced-precision compute (every type but Float32) IEEE
  // half in cross_k16_/cross_v16_. projection_scratch_ (f32) takes one layer's key or value
  // projection before it is packed; with a half cache, cross_v_ holds one layer's widened values
  // for many-query passes.
  size_t key_panels_per_layer_ = 0;
  bool half_caches_ = false;
  Precision precision_ = Precision::Exact;  // Reduced unless ComputeType::Float32
  // The caches a step streams sit on huge pages (common/huge_pages.h).
  HugeVector<float> cross_k_, cross_v_;
  std::vector<float> projection_scratch_;
  HugeVector<uint16_t> cross_k16_, cross_v16_;
  MatrixType kv_type() const { return half_caches_ ? MatrixType::F16 : MatrixType::F32; }  // both caches'
  void* cross_keys(int layer);
  void* cross_values(int layer);
  // Self-attention caches [layer][seq][n_head][n_ctx][d_head]: f32, or half like the
  // cross-attention cache (reduced precision).
  HugeVector<float> self_k_, self_v_;
  HugeVector<uint16_t> self_k16_, self_v16_;
  std::vector<float> x_, h_, q_, k_, v_, attn_, mlp_, logits_, reorder_scratch_;
  std::vector<float> position_logits_;
  int last_n_tokens_ = 0;
  std::vector<std::pair<int, int>> alignment_heads_;  // captured (layer, head) pairs
  int alignment_max_tokens_ = 0;
  std::vector<float> alignment_qk_;  // [head][alignment_max_tokens_][n_audio_ctx]
};

}  // namespace wisp
