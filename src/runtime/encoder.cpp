#include "runtime/encoder.h"

#include <algorithm>

#include "kernels/attention.h"
#include "kernels/bf16_gemm.h"
#include "kernels/int16_gemm.h"
#include "kernels/ops.h"
#include "model/weights.h"
#include "runtime/packed_weights.h"
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
  const size_t n = static_cast<size_t>(n_ctx_) * d;
  conv1_out_.resize(frames * d);
  x_.resize(n);
  h_.resize(n);
  work_.resize(std::max({frames * n_mels_ * 3, n * 3, 4 * n, n_ctx_ * ffn}));
  columns_ = work_.data();
  q_ = work_.data();
  k_ = q_ + n;
  v_ = k_ + n;
  attn_ = v_ + n;
  mlp_ = work_.data();
}

// A kernel-3, padding-1 convolution over time as one GEMM: rows of `columns` hold, for each
// output step t, the inputs in[c][stride*t + k - 1] in the weight's [c][k] order.
// `in` is read through in(c, t); out is time-major [n_out][n_channels_out].
template <typename Input>
static void conv1d_k3(Input in, int in_channels, int in_len, int stride, const ConvWeights& w,
                      const Bf16Linear* bf16, const PanelLinear* panels, const Int16Linear* int16, float* columns,
                      float* out) {
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
  if (bf16 != nullptr) {
    linear_bf16(columns, out_len, bf16->weight, w.bias, out, Epilogue::Gelu);
    return;
  }
  if (panels != nullptr) {
    linear_panels(columns, out_len, panels->weight, w.bias, out, Epilogue::Gelu);
    return;
  }
  if (int16 != nullptr) {
    linear_int16(columns, out_len, int16->weight, w.bias, out, Epilogue::Gelu);
    return;
  }
  const WeightMatrix weight{w.weight, MatrixType::F32, w.out, width};
  linear(columns, out_len, width, weight, w.bias, w.out, out, Epilogue::Gelu);
}

namespace {

// The packed forms of one matrix the model may hold (all null: the stored weights).
struct Packed {
  const Bf16Linear* bf16 = nullptr;
  const PanelLinear* panels = nullptr;
  const Int16Linear* int16 = nullptr;
};

// x W^T + b on the model's packed weights: bf16 products, AVX2 panels or integer panels where
// the model packed them, else linear() on the stored ones.
void project(const float* x, int rows, const LinearWeights& w, Packed packed, float* y,
             Epilogue epilogue = Epilogue::Store) {
  if (packed.bf16 != nullptr) {
    linear_bf16(x, rows, packed.bf16->weight, w.bias, y, epilogue);
  } else if (packed.panels != nullptr) {
    linear_panels(x, rows, packed.panels->weight, w.bias, y, epilogue);
  } else if (packed.int16 != nullptr) {
    linear_int16(x, rows, packed.int16->weight, w.bias, y, epilogue);
  } else {
    linear(x, rows, w.in, w.weight, w.bias, w.out, y, epilogue);
  }
}

}  // namespace

const float* Encoder::forward(const float* mel) {
  const ModelWeights& w = model_.weights();
  const Bf16Weights* bf16 = model_.bf16_weights();
  const PanelWeights* panels = model_.panel_weights();
  const Int16Weights* int16 = model_.int16_weights();
  const int frames = 2 * n_ctx_;
  const int d = n_state_;
  const size_t n = static_cast<size_t>(n_ctx_) * d;

  conv1d_k3([&](int c, int t) { return mel[static_cast<size_t>(c) * frames + t]; }, n_mels_, frames, 1,
            w.conv1, bf16 ? &bf16->conv[0] : nullptr, panels ? &panels->conv[0] : nullptr,
            int16 ? &int16->conv[0] : nullptr, columns_, conv1_out_.data());
  const float* c1 = conv1_out_.data();
  conv1d_k3([&](int c, int t) { return c1[static_cast<size_t>(t) * d + c]; }, d, frames, 2, w.conv2,
            bf16 ? &bf16->conv[1] : nullptr, panels ? &panels->conv[1] : nullptr, int16 ? &int16->conv[1] : nullptr,
            columns_, x_.data());
  add_inplace(x_.data(), w.encoder_positions, n);

  const int n_head = model_.dims().n_audio_head;
  const int d_head = d / n_head;
  for (size_t l = 0; l < w.encoder_blocks.size(); ++l) {
    const EncoderBlockWeights& b = w.encoder_blocks[l];
    const Bf16EncoderBlock* p = bf16 ? &bf16->encoder_blocks[l] : nullptr;
    const PanelEncoderBlock* pp = panels ? &panels->encoder_blocks[l] : nullptr;
    const Int16EncoderBlock* pi = int16 ? &int16->encoder_blocks[l] : nullptr;
    auto packed = [&](EncoderLinear which) {
      return Packed{p ? &(*p)[which] : nullptr, pp ? &(*pp)[which] : nullptr, pi ? &(*pi)[which] : nullptr};
    };
    layer_norm(x_.data(), n_ctx_, d, b.attn_ln.gamma, b.attn_ln.beta, h_.data());
    project(h_.data(), n_ctx_, b.attn.query, packed(EncoderLinear::Query), q_);
    project(h_.data(), n_ctx_, b.attn.key, packed(EncoderLinear::Key), k_);
    project(h_.data(), n_ctx_, b.attn.value, packed(EncoderLinear::Value), v_);
    if (p != nullptr) {
      attention_bf16(q_, d, k_, d, v_, d, attn_, d, n_ctx_, n_ctx_, n_head, d_head);
    } else if (pi != nullptr) {
      attention_int16(q_, d, k_, d, v_, d, attn_, d, n_ctx_, n_ctx_, n_head, d_head);
    } else if (pp != nullptr) {
      attention_panels(q_, d, k_, d, v_, d, attn_, d, n_ctx_, n_ctx_, n_head, d_head);
    } else {
      attention(q_, d, k_, d, v_, d, attn_, d, n_ctx_, n_ctx_, n_head, d_head,
                /*causal=*/false, 0);
    }
    project(attn_, n_ctx_, b.attn.out, packed(EncoderLinear::Out), x_.data(), Epilogue::Accumulate);

    layer_norm(x_.data(), n_ctx_, d, b.mlp_ln.gamma, b.mlp_ln.beta, h_.data());
    project(h_.data(), n_ctx_, b.fc1, packed(EncoderLinear::Fc1), mlp_, Epilogue::Gelu);
    project(mlp_, n_ctx_, b.fc2, packed(EncoderLinear::Fc2), x_.data(), Epilogue::Accumulate);
  }
  layer_norm(x_.data(), n_ctx_, d, w.encoder_ln.gamma, w.encoder_ln.beta, h_.data());
  return h_.data();
}

}  // namespace wisp
