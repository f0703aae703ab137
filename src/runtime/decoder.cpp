#include "runtime/decoder.h"

#include <algorithm>
#include <cstring>

#include "kernels/ops.h"
#include "model/weights.h"
#include "runtime/mlp_block.h"
#include "wisp/error.h"

namespace wisp {

Decoder::Decoder(const Model& model, int max_batch)
    : model_(model),
      n_ctx_(model.dims().n_text_ctx),
      n_state_(model.dims().n_text_state),
      n_vocab_(model.dims().n_vocab),
      n_audio_ctx_(model.dims().n_audio_ctx),
      max_batch_(max_batch),
      n_layer_(model.dims().n_text_layer) {
  const size_t d = n_state_;
  const size_t rows = static_cast<size_t>(max_batch_) * n_ctx_;  // a whole prompt per sequence
  const size_t ffn = model.weights().decoder_blocks.empty()
                         ? 4 * d
                         : static_cast<size_t>(model.weights().decoder_blocks[0].fc1.out);
  cross_k_.resize(static_cast<size_t>(n_layer_) * n_audio_ctx_ * d);
  cross_v_.resize(cross_k_.size());
  self_k_.resize(static_cast<size_t>(n_layer_) * max_batch_ * n_ctx_ * d);
  self_v_.resize(self_k_.size());
  for (auto* buffer : {&x_, &h_, &q_, &k_, &v_, &attn_}) buffer->resize(rows * d);
  mlp_.resize(rows * ffn);
  scores_.resize(rows * std::max(n_ctx_, n_audio_ctx_));
  logits_.resize(static_cast<size_t>(max_batch_) * n_vocab_);
  reorder_scratch_.resize(static_cast<size_t>(max_batch_) * n_ctx_ * d);
  position_logits_.resize(n_vocab_ + d);
}

float* Decoder::self_k(int layer, int seq) {
  return self_k_.data() + (static_cast<size_t>(layer) * max_batch_ + seq) * n_ctx_ * n_state_;
}

float* Decoder::self_v(int layer, int seq) {
  return self_v_.data() + (static_cast<size_t>(layer) * max_batch_ + seq) * n_ctx_ * n_state_;
}

void Decoder::set_audio_features(const float* audio_features) {
  const ModelWeights& w = model_.weights();
  const size_t per_layer = static_cast<size_t>(n_audio_ctx_) * n_state_;
  for (int l = 0; l < n_layer_; ++l) {
    const AttentionWeights& a = w.decoder_blocks[l].cross_attn;
    linear(audio_features, n_audio_ctx_, n_state_, a.key.weight, nullptr, n_state_,
           cross_k_.data() + l * per_layer);
    linear(audio_features, n_audio_ctx_, n_state_, a.value.weight, a.value.bias, n_state_,
           cross_v_.data() + l * per_layer);
  }
}

const float* Decoder::forward(const int* tokens, int batch, int n_tokens, int offset, bool all_positions) {
  if (batch < 1 || batch > max_batch_) throw Error("decoder batch size out of range");
  if (n_tokens < 1 || offset < 0 || offset + n_tokens > n_ctx_) {
    throw Error("decoder context overflow: " + std::to_string(offset + n_tokens) +
                " tokens exceed the model's text context of " + std::to_string(n_ctx_));
  }
  const ModelWeights& w = model_.weights();
  const int d = n_state_;
  const int rows = batch * n_tokens;
  const size_t n = static_cast<size_t>(rows) * d;

  for (int r = 0; r < rows; ++r) {
    const int token = tokens[r];
    if (token < 0 || token >= n_vocab_) throw Error("token id " + std::to_string(token) + " out of range");
    const float* emb = w.token_embedding + static_cast<size_t>(token) * d;
    const float* pos = w.decoder_positions + static_cast<size_t>(offset + r % n_tokens) * d;
    float* xr = x_.data() + static_cast<size_t>(r) * d;
    for (int j = 0; j < d; ++j) xr[j] = emb[j] + pos[j];
  }

  const int d_head = d / model_.dims().n_text_head;
  const size_t cross_per_layer = static_cast<size_t>(n_audio_ctx_) * d;
  for (int l = 0; l < n_layer_; ++l) {
    const DecoderBlockWeights& b = w.decoder_blocks[l];
    // Causal self-attention over each sequence's cache.
    layer_norm(x_.data(), rows, d, b.attn_ln.gamma, b.attn_ln.beta, h_.data());
    linear(h_.data(), rows, d, b.attn.query.weight, b.attn.query.bias, d, q_.data());
    for (int s = 0; s < batch; ++s) {
      const float* hs = h_.data() + static_cast<size_t>(s) * n_tokens * d;
      float* ks = self_k(l, s) + static_cast<size_t>(offset) * d;
      float* vs = self_v(l, s) + static_cast<size_t>(offset) * d;
      linear(hs, n_tokens, d, b.attn.key.weight, nullptr, d, ks);
      linear(hs, n_tokens, d, b.attn.value.weight, b.attn.value.bias, d, vs);
      attention(q_.data() + static_cast<size_t>(s) * n_tokens * d, d, self_k(l, s), d, self_v(l, s), d,
                attn_.data() + static_cast<size_t>(s) * n_tokens * d, d, n_tokens, offset + n_tokens,
                b.attn.n_head, d_head, /*causal=*/true, offset, scores_.data());
    }
    linear(attn_.data(), rows, d, b.attn.out.weight, b.attn.out.bias, d, h_.data());
    add_inplace(x_.data(), h_.data(), n);

    // Cross-attention: all sequences attend to the same audio.
    layer_norm(x_.data(), rows, d, b.cross_attn_ln.gamma, b.cross_attn_ln.beta, h_.data());
    linear(h_.data(), rows, d, b.cross_attn.query.weight, b.cross_attn.query.bias, d, q_.data());
    attention(q_.data(), d, cross_k_.data() + l * cross_per_layer, d, cross_v_.data() + l * cross_per_layer,
              d, attn_.data(), d, rows, n_audio_ctx_, b.cross_attn.n_head, d_head, /*causal=*/false, 0,
              scores_.data());
    linear(attn_.data(), rows, d, b.cross_attn.out.weight, b.cross_attn.out.bias, d, h_.data());
    add_inplace(x_.data(), h_.data(), n);

    residual_mlp(x_.data(), rows, d, b.mlp_ln, b.fc1, b.fc2, h_.data(), mlp_.data());
  }

  last_n_tokens_ = n_tokens;
  // Logits against the (tied) token embedding, for the rows asked for.
  if (all_positions) {
    const size_t needed = static_cast<size_t>(rows) * n_vocab_;
    if (logits_.size() < needed) logits_.resize(needed);  // teacher forcing only, not the decode loop
    layer_norm(x_.data(), rows, d, w.decoder_ln.gamma, w.decoder_ln.beta, h_.data());
    linear(h_.data(), rows, d, w.token_embedding, nullptr, n_vocab_, logits_.data());
  } else {
    for (int s = 0; s < batch; ++s) {
      const float* last = x_.data() + (static_cast<size_t>(s) * n_tokens + n_tokens - 1) * d;
      layer_norm(last, 1, d, w.decoder_ln.gamma, w.decoder_ln.beta, h_.data() + static_cast<size_t>(s) * d);
    }
    linear(h_.data(), batch, d, w.token_embedding, nullptr, n_vocab_, logits_.data());
  }
  return logits_.data();
}

const float* Decoder::position_logits(int seq, int i) {
  if (i < 0 || i >= last_n_tokens_) throw Error("position_logits: position out of range");
  const ModelWeights& w = model_.weights();
  const float* x = x_.data() + (static_cast<size_t>(seq) * last_n_tokens_ + i) * n_state_;
  float* normed = position_logits_.data() + n_vocab_;
  layer_norm(x, 1, n_state_, w.decoder_ln.gamma, w.decoder_ln.beta, normed);
  linear(normed, 1, n_state_, w.token_embedding, nullptr, n_vocab_, position_logits_.data());
  return position_logits_.data();
}

void Decoder::reorder_cache(const std::vector<int>& source) {
  const size_t per_seq = static_cast<size_t>(n_ctx_) * n_state_;
  const int batch = static_cast<int>(source.size());
  for (int l = 0; l < n_layer_; ++l) {
    for (float* (Decoder::*cache)(int, int) : {&Decoder::self_k, &Decoder::self_v}) {
      for (int s = 0; s < batch; ++s) {
        std::memcpy(reorder_scratch_.data() + s * per_seq, (this->*cache)(l, source[s]), per_seq * sizeof(float));
      }
      for (int s = 0; s < batch; ++s) {
        std::memcpy((this->*cache)(l, s), reorder_scratch_.data() + s * per_seq, per_seq * sizeof(float));
      }
    }
  }
}

}  // namespace wisp
