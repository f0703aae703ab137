// The audio encoder: two GELU convolutions (the second with stride 2), positional embedding,
// pre-LayerNorm transformer blocks and a final LayerNorm. Buffers are allocated once.
#pragma once

#include <vector>

#include "wisp/model.h"

namespace wisp {

class Encoder {
 public:
  explicit Encoder(const Model& model);
  Encoder(const Encoder&) = delete;  // work pointers point into its own buffer
  Encoder& operator=(const Encoder&) = delete;

  // mel: [n_mels][2 * n_audio_ctx] (one 30 s window). Returns [n_audio_ctx][n_audio_state],
  // valid until the next call.
  const float* forward(const float* mel);

  int n_ctx() const { return n_ctx_; }
  int n_state() const { return n_state_; }

 private:
  const Model& model_;
  int n_ctx_, n_state_, n_mels_;
  std::vector<float> conv1_out_;  // [2 * n_ctx][n_state]
  std::vector<float> x_, h_;      // residual stream, normalised input of each sub-block
  // One work area for what is never live at the same time: the convolutions' im2col rows, then
  // per block q/k/v/attention output, then the MLP's hidden layer (which reuses q..attn).
  std::vector<float> work_;
  float *columns_ = nullptr, *q_ = nullptr, *k_ = nullptr, *v_ = nullptr, *attn_ = nullptr, *mlp_ = nullptr;
};

}  // namespace wisp
