#include "runtime/encoder.h"

#include <algorithm>

#include "kernels/attention.h"
#include "kernels/ops.h"
#include "model/weights.h"
#include "runtime/mlp_block.h"
#include "wisp/error.h"

namespace wisp {

Encoder::Encoder(const Model& model)
    : model_(model),
      n_ctx_(model.dims().n_audio_ctx),
      n_state_(model.dims().n_audio_state),
      n_mels_(model.dims().n_mels) {
  const size_t frames = 2 * static_cast<size_t>(n_ctx_);
  const size_t d = static_cast<size_t>(n_state_);
  const size_t ffn = model.weights().encoder_blocks.empty()
                         ? 4 * d
                         : static_cast<size_t>(model.weights().encoder_blocks[0].fc1.out);
  columns_.resize(std::max(frames * n_mels_ * 3, n_ctx_ * d * 3));
  conv1_out_.resize(frames * d);
  x_.resize(n_ctx_ * d);
  h_.resize(n_ctx_ * d);
  q_.resize(n_ctx_ * d);
  k_.resize(n_ctx_ * d);
  v_.resize(n_ctx_ * d);
  attn_.resize(n_ctx_ * d);
  mlp_.resize(n_ctx_ * ffn);
}

// A kernel-3, padding-1 convolution over time as one GEMM: rows of `columns` hold, for each
// output step t, the inputs in[c][stride*t + k - 1] in the weight's [c][k] order.
// `in` is read through in(c, t); out is time-major [n_out][n_channels_out].
template <typename Input>
static void conv1d_k3(Input in, int in_channels, int in_len, int stride, const ConvWeights& w,
                      float* columns, float* out) {
  const int out_len = in_len / stride;
  const int width = in_channels * 3;
  const int block = split_size(out_len, 8);
  parallel_for((out_len + block - 1) / block, [&](int task) {
    const int t1 = std::min(out_len, (task + 1) * block);
    for (int t = task * block; t < t1; ++t) {
      float* row = columns + static_cast<size_t>(t) * width;
      for (int c = 0; c < in_channels; ++c) {
        for (int k = 0; k < 3; ++k) {
          const int src = stride * t + k - 1;
          row[c * 3 + k] = (src >= 0 && src < in_len) ? in(c, src) : 0.0f;
        }
      }
    }
  });
  const WeightMatrix weight{w.weight, MatrixType::F32, w.out, width};
  linear(columns, out_len, width, weight, w.bias, w.out, out, Epilogue::Gelu);
}

const float* Encoder::forward(const float* mel) {
  const ModelWeights& w = model_.weights();
  const int frames = 2 * n_ctx_;
  const int d = n_state_;
  const size_t n = static_cast<size_t>(n_ctx_) * d;

  conv1d_k3([&](int c, int t) { return mel[static_cast<size_t>(c) * frames + t]; }, n_mels_, frames, 1,
            w.conv1, columns_.data(), conv1_out_.data());
  const float* c1 = conv1_out_.data();
  conv1d_k3([&](int c, int t) { return c1[static_cast<size_t>(t) * d + c]; }, d, frames, 2, w.conv2,
            columns_.data(), x_.data());
  add_inplace(x_.data(), w.encoder_positions, n);

  const int d_head = d / model_.dims().n_audio_head;
  for (const EncoderBlockWeights& b : w.encoder_blocks) {
    layer_norm(x_.data(), n_ctx_, d, b.attn_ln.gamma, b.attn_ln.beta, h_.data());
    linear(h_.data(), n_ctx_, d, b.attn.query.weight, b.attn.query.bias, d, q_.data());
    linear(h_.data(), n_ctx_, d, b.attn.key.weight, nullptr, d, k_.data());
    linear(h_.data(), n_ctx_, d, b.attn.value.weight, b.attn.value.bias, d, v_.data());
    attention(q_.data(), d, k_.data(), d, v_.data(), d, attn_.data(), d, n_ctx_, n_ctx_,
              b.attn.n_head, d_head, /*causal=*/false, 0);
    linear(attn_.data(), n_ctx_, d, b.attn.out.weight, b.attn.out.bias, d, x_.data(), Epilogue::Accumulate);

    residual_mlp(x_.data(), n_ctx_, d, b.mlp_ln, b.fc1, b.fc2, h_.data(), mlp_.data());
  }
  layer_norm(x_.data(), n_ctx_, d, w.encoder_ln.gamma, w.encoder_ln.beta, h_.data());
  return h_.data();
}

}  // namespace wisp
