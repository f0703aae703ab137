// The audio encoder: two GELU convolutions (the second with stride 2), positional embedding,
// pre-LayerNorm transformer blocks and a final LayerNorm. Buffers are allocated once.
#pragma once

#include <vector>

#include "wisp/model.h"

namespace wisp {

class Encoder {
 public:
  explicit Encoder(const Model& model);

  // mel: [n_mels][2 * n_audio_ctx] (one 30 s window). Returns [n_audio_ctx][n_audio_state],
  // valid until the next call.
  const float* forward(const float* mel);

  int n_ctx() const { return n_ctx_; }
  int n_state() const { return n_state_; }

 private:
  const Model& model_;
  int n_ctx_, n_state_, n_mels_;
  std::vector<float> columns_;  // im2col rows of the convolutions
  std::vector<float> conv1_out_;  // [2 * n_ctx][n_state]
  std::vector<float> x_, h_, q_, k_, v_, attn_, mlp_;
};

}  // namespace wisp
