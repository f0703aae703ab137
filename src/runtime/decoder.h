// The text decoder with its caches: self-attention K/V grow one step at a time per sequence;
// cross-attention K/V are computed once per audio window and shared by all sequences.
// All buffers are allocated at construction, so decode steps do not allocate.
#pragma once

#include <vector>

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

  // Sequence b's cache becomes a copy of sequence source[b]'s (beam search reordering).
  void reorder_cache(const std::vector<int>& source);

  int n_vocab() const { return n_vocab_; }
  int n_ctx() const { return n_ctx_; }
  int max_batch() const { return max_batch_; }

 private:
  float* self_k(int layer, int seq);
  float* self_v(int layer, int seq);

  const Model& model_;
  int n_ctx_, n_state_, n_vocab_, n_audio_ctx_, max_batch_;
  int n_layer_;
  std::vector<float> cross_k_, cross_v_;  // [layer][n_audio_ctx][n_state]
  std::vector<float> self_k_, self_v_;    // [layer][seq][n_ctx][n_state]
  std::vector<float> x_, h_, q_, k_, v_, attn_, mlp_, scores_, logits_, reorder_scratch_;
  std::vector<float> position_logits_;
  int last_n_tokens_ = 0;
};

}  // namespace wisp
