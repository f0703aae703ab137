#include "runtime/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/attention.h"
#include "kernels/bf16_gemm.h"
#include "kernels/convert.h"
#include "kernels/thread_pool.h"
#include "kernels/ops.h"
#include "model/weights.h"
#include "runtime/packed_weights.h"
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
  // Rows of one forward: a whole prompt of one sequence, or one token of every sequence (every
  // caller runs prompts as batch 1, then copies the cache to the group).
  const size_t rows = static_cast<size_t>(std::max(max_batch_, n_ctx_));
  row_capacity_ = static_cast<int>(rows);
  const size_t ffn = model.weights().decoder_blocks.empty()
                         ? 4 * d
                         : static_cast<size_t>(model.weights().decoder_blocks[0].fc1.out);
  half_caches_ = model.compute_type() != ComputeType::Float32;
  precision_ = half_caches_ ? Precision::Reduced : Precision::Exact;
  const size_t cross_per_layer = static_cast<size_t>(n_audio_ctx_) * d;
  const int n_head = model.dims().n_text_head;
  key_panels_per_layer_ = n_head * key_panel_elements(n_audio_ctx_, n_state_ / n_head);
  cross_k_.resize(half_caches_ ? 0 : n_layer_ * key_panels_per_layer_);
  cross_v_.resize(half_caches_ ? cross_per_layer : n_layer_ * cross_per_layer);
  projection_scratch_.resize(cross_per_layer);
  if (half_caches_) {
    cross_k16_.resize(n_layer_ * key_panels_per_layer_);
    cross_v16_.resize(n_layer_ * cross_per_layer);
  }
  const size_t self_elements = static_cast<size_t>(n_layer_) * max_batch_ * n_ctx_ * d;
  if (half_caches_) {
    self_k16_.resize(self_elements);
    self_v16_.resize(self_elements);
  } else {
    self_k_.resize(self_elements);
    self_v_.resize(self_elements);
  }
  for (auto* buffer : {&x_, &h_, &q_, &k_, &v_, &attn_}) buffer->resize(rows * d);
  mlp_.resize(rows * ffn);
  logits_.resize(static_cast<size_t>(max_batch_) * n_vocab_);
  reorder_scratch_.resize(static_cast<size_t>(max_batch_) * n_ctx_ * d);
  position_logits_.resize(n_vocab_ + d);
}

void* Decoder::self_k(int layer, int seq) {
  const size_t offset = (static_cast<size_t>(layer) * max_batch_ + seq) * n_ctx_ * n_state_;
  return half_caches_ ? static_cast<void*>(self_k16_.data() + offset) : self_k_.data() + offset;
}

void* Decoder::self_v(int layer, int seq) {
  const size_t offset = (static_cast<size_t>(layer) * max_batch_ + seq) * n_ctx_ * n_state_;
  return half_caches_ ? static_cast<void*>(self_v16_.data() + offset) : self_v_.data() + offset;
}

void* Decoder::cross_keys(int layer) {
  const size_t offset = static_cast<size_t>(layer) * key_panels_per_layer_;
  return half_caches_ ? static_cast<void*>(cross_k16_.data() + offset) : cross_k_.data() + offset;
}

void* Decoder::cross_values(int layer) {
  const size_t offset = static_cast<size_t>(layer) * n_audio_ctx_ * n_state_;
  return half_caches_ ? static_cast<void*>(cross_v16_.data() + offset) : cross_v_.data() + offset;
}

void Decoder::set_audio_features(const float* audio_features) {
  const ModelWeights& w = model_.weights();
  const int n_head = model_.dims().n_text_head;
  const int d_head = n_state_ / n_head;
  float* scratch = projection_scratch_.data();  // one projection at a time, then packed into the cache
  const Bf16Weights* bf16 = model_.bf16_weights();
  const PanelWeights* panels = model_.panel_weights();
  const Int16Weights* int16 = model_.int16_weights();
  for (int l = 0; l < n_layer_; ++l) {
    const AttentionWeights& a = w.decoder_blocks[l].cross_attn;
    // 1500 rows: compute bound like the encoder.
    auto project = [&](const LinearWeights& stored, const float* bias, bool key) {
      if (bf16 != nullptr) {
        linear_bf16(audio_features, n_audio_ctx_, (key ? bf16->cross_key : bf16->cross_value)[l].weight, bias, scratch);
      } else if (panels != nullptr) {
        linear_panels(audio_features, n_audio_ctx_, (key ? panels->cross_key : panels->cross_value)[l].weight, bias,
                      scratch);
      } else if (int16 != nullptr) {
        linear_int16(audio_features, n_audio_ctx_, (key ? int16->cross_key : int16->cross_value)[l].weight, bias,
                     scratch);
      } else {
        linear(audio_features, n_audio_ctx_, n_state_, stored.weight, bias, n_state_, scratch);
      }
    };
    project(a.key, nullptr, true);
    pack_key_panels(scratch, n_state_, n_audio_ctx_, n_head, d_head, kv_type(), cross_keys(l));
    project(a.value, a.value.bias, false);
    pack_head_values(scratch, n_state_, n_audio_ctx_, n_head, d_head, kv_type(), cross_values(l));
  }
}

const float* Decoder::forward(const int* tokens, int batch, int n_tokens, int offset, bool all_positions) {
  if (batch < 1 || batch > max_batch_) throw Error("decoder batch size out of range");
  if (n_tokens < 1 || offset < 0 || offset + n_tokens > n_ctx_) {
    throw Error("decoder context overflow: " + std::to_string(offset + n_tokens) +
                " tokens exceed the model's text context of " + std::to_string(n_ctx_));
  }
  if (batch * n_tokens > row_capacity_) {
    throw Error("decoder forward of " + std::to_string(batch) + " sequences x " + std::to_string(n_tokens) +
                " tokens exceeds its " + std::to_string(row_capacity_) + " rows: run prompts one sequence at a time");
  }
  const ModelWeights& w = model_.weights();
  const int d = n_state_;
  const int rows = batch * n_tokens;

  for (int r = 0; r < rows; ++r) {
    const int token = tokens[r];
    if (token < 0 || token >= n_vocab_) throw Error("token id " + std::to_string(token) + " out of range");
    const float* pos = w.decoder_positions + static_cast<size_t>(offset + r % n_tokens) * d;
    float* xr = x_.data() + static_cast<size_t>(r) * d;
    w.token_embedding.rows_to_f32(token, token + 1, xr);
    for (int j = 0; j < d; ++j) xr[j] += pos[j];
  }

  const int n_head = model_.dims().n_text_head;
  const int d_head = d / n_head;
  for (int l = 0; l < n_layer_; ++l) {
    const DecoderBlockWeights& b = w.decoder_blocks[l];
    // Causal self-attention over each sequence's cache.
    layer_norm(x_.data(), rows, d, b.attn_ln.gamma, b.attn_ln.beta, h_.data());
    linear(h_.data(), rows, d, b.attn.query.weight, b.attn.query.bias, d, q_.data(), Epilogue::Store, precision_);
    // K/V of every sequence's new tokens in one product each (the weights are read once), then
    // appended to the per-sequence caches (head-major, kernels/attention.h).
    linear(h_.data(), rows, d, b.attn.key.weight, nullptr, d, k_.data(), Epilogue::Store, precision_);
    linear(h_.data(), rows, d, b.attn.value.weight, b.attn.value.bias, d, v_.data(), Epilogue::Store, precision_);
    const size_t seq_floats = static_cast<size_t>(n_tokens) * d;
    for (int s = 0; s < batch; ++s) {
      store_head_major(k_.data() + s * seq_floats, d, n_tokens, n_head, d_head, kv_type(), self_k(l, s), n_ctx_,
                       offset);
      store_head_major(v_.data() + s * seq_floats, d, n_tokens, n_head, d_head, kv_type(), self_v(l, s), n_ctx_,
                       offset);
    }
    // Every sequence against its own cache, all in one job (beams would otherwise each wait
    // for their heads' slowest task); k_ and v_ are free again, scratch for prompts.
    const size_t cache_elements = static_cast<size_t>(n_ctx_) * d;
    attention_head_major(q_.data(), d, seq_floats, kv_type(), self_k(l, 0), self_v(l, 0), n_ctx_, cache_elements,
                         attn_.data(), d, seq_floats, batch, n_tokens, offset + n_tokens, n_head, d_head, offset,
                         k_.data(), v_.data());
    linear(attn_.data(), rows, d, b.attn.out.weight, b.attn.out.bias, d, x_.data(), Epilogue::Accumulate, precision_);

    // Cross-attention: all sequences attend to the same audio.
    layer_norm(x_.data(), rows, d, b.cross_attn_ln.gamma, b.cross_attn_ln.beta, h_.data());
    linear(h_.data(), rows, d, b.cross_attn.query.weight, b.cross_attn.query.bias, d, q_.data(), Epilogue::Store,
           precision_);
    attention_key_panels(q_.data(), d, kv_type(), cross_keys(l), cross_values(l), attn_.data(), d, rows,
                         n_audio_ctx_, b.cross_attn.n_head, d_head, cross_v_.data());
    if (!alignment_heads_.empty()) capture_cross_scores(l, n_tokens, offset, d_head);
    linear(attn_.data(), rows, d, b.cross_attn.out.weight, b.cross_attn.out.bias, d, x_.data(), Epilogue::Accumulate,
           precision_);

    residual_mlp(x_.data(), rows, d, b.mlp_ln, b.fc1, b.fc2, h_.data(), mlp_.data(), precision_);
  }

  last_n_tokens_ = n_tokens;
  // Logits against the (tied) token embedding, for the rows asked for.
  if (all_positions) {
    const size_t needed = static_cast<size_t>(rows) * n_vocab_;
    if (logits_.size() < needed) logits_.resize(needed);  // teacher forcing only, not the decode loop
    layer_norm(x_.data(), rows, d, w.decoder_ln.gamma, w.decoder_ln.beta, h_.data());
    linear(h_.data(), rows, d, w.token_embedding, nullptr, n_vocab_, logits_.data(), Epilogue::Store, precision_);
  } else {
    for (int s = 0; s < batch; ++s) {
      const float* last = x_.data() + (static_cast<size_t>(s) * n_tokens + n_tokens - 1) * d;
      layer_norm(last, 1, d, w.decoder_ln.gamma, w.decoder_ln.beta, h_.data() + static_cast<size_t>(s) * d);
    }
    linear(h_.data(), batch, d, w.token_embedding, nullptr, n_vocab_, logits_.data(), Epilogue::Store, precision_);
  }
  return logits_.data();
}

void Decoder::set_alignment_heads(std::vector<std::pair<int, int>> heads, int max_tokens) {
  const int n_head = model_.dims().n_text_head;
  for (const auto& [layer, head] : heads) {
    if (layer < 0 || layer >= n_layer_ || head < 0 || head >= n_head) {
      throw Error("alignment head (" + std::to_string(layer) + ", " + std::to_string(head) +
                  ") is outside the decoder's " + std::to_string(n_layer_) + " layers x " + std::to_string(n_head) +
                  " heads; fix alignment_heads in the model's generation_config.json");
    }
  }
  if (max_tokens <= 0 || max_tokens > n_ctx_) max_tokens = n_ctx_;
  alignment_heads_ = std::move(heads);
  if (alignment_heads_.empty()) return;
  alignment_max_tokens_ = max_tokens;
  const size_t needed = alignment_heads_.size() * static_cast<size_t>(max_tokens) * n_audio_ctx_;
  if (alignment_qk_.size() < needed) alignment_qk_.resize(needed);
}

const float* Decoder::alignment_qk(int i) const {
  if (i < 0 || i >= n_alignment_heads()) throw Error("alignment_qk: head index out of range");
  return alignment_qk_.data() + static_cast<size_t>(i) * alignment_max_tokens_ * n_audio_ctx_;
}

// The same scaled product the attention kernel forms before its softmax, for sequence 0's rows.
void Decoder::capture_cross_scores(int layer, int n_tokens, int offset, int d_head) {
  if (offset + n_tokens > alignment_max_tokens_) {
    throw Error("alignment capture holds " + std::to_string(alignment_max_tokens_) +
                " tokens; call set_alignment_heads with a larger max_tokens");
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(d_head));
  const size_t per_head = key_panel_elements(n_audio_ctx_, d_head);
  const size_t element = half_caches_ ? sizeof(uint16_t) : sizeof(float);
  for (size_t i = 0; i < alignment_heads_.size(); ++i) {
    if (alignment_heads_[i].first != layer) continue;
    const int head = alignment_heads_[i].second;
    const void* panels = static_cast<const char*>(cross_keys(layer)) + head * per_head * element;
    float* out = alignment_qk_.data() + (i * alignment_max_tokens_ + offset) * static_cast<size_t>(n_audio_ctx_);
    panel_gemm(active_panel_kernel(), n_tokens, n_audio_ctx_, d_head, q_.data() + head * d_head,
               static_cast<size_t>(n_state_), half_caches_ ? PanelType::F16 : PanelType::F32, panels, out,
               static_cast<size_t>(n_audio_ctx_), false);
    for (size_t j = 0; j < static_cast<size_t>(n_tokens) * n_audio_ctx_; ++j) out[j] *= scale;
  }
}

const float* Decoder::position_logits(int seq, int i) {
  if (i < 0 || i >= last_n_tokens_) throw Error("position_logits: position out of range");
  const ModelWeights& w = model_.weights();
  const float* x = x_.data() + (static_cast<size_t>(seq) * last_n_tokens_ + i) * n_state_;
  float* normed = position_logits_.data() + n_vocab_;
  layer_norm(x, 1, n_state_, w.decoder_ln.gamma, w.decoder_ln.beta, normed);
  linear(normed, 1, n_state_, w.token_embedding, nullptr, n_vocab_, position_logits_.data(), Epilogue::Store,
         precision_);
  return position_logits_.data();
}

void Decoder::reorder_cache(const std::vector<int>& source, int n_positions) {
  const int batch = static_cast<int>(source.size());
  if (batch > max_batch_) throw Error("reorder_cache: more sequences than the decoder holds");
  bool identity = true;
  for (int s = 0; s < batch; ++s) identity = identity && source[s] == s;
  if (identity) return;
  const size_t positions = n_positions < 0 ? n_ctx_ : std::min(n_positions, n_ctx_);
  const int n_head = model_.dims().n_text_head;
  const size_t head_bytes = positions * (n_state_ / n_head) * kv_cache_element_bytes();  // a head's rows in use
  const size_t head_stride = static_cast<size_t>(n_ctx_) * (n_state_ / n_head) * kv_cache_element_bytes();
  char* scratch = reinterpret_cast<char*>(reorder_scratch_.data());
  for (int l = 0; l < n_layer_; ++l) {
    for (void* (Decoder::*cache)(int, int) : {&Decoder::self_k, &Decoder::self_v}) {
      // Only the sequences that change are copied (through scratch: a source may itself be
      // overwritten); beam search keeps most beams in place most steps.
      for (int s = 0; s < batch; ++s) {
        if (source[s] == s) continue;
        const char* from = static_cast<const char*>((this->*cache)(l, source[s]));
        for (int h = 0; h < n_head; ++h) {
          std::memcpy(scratch + (static_cast<size_t>(s) * n_head + h) * head_bytes, from + h * head_stride, head_bytes);
        }
      }
      for (int s = 0; s < batch; ++s) {
        if (source[s] == s) continue;
        char* to = static_cast<char*>((this->*cache)(l, s));
        for (int h = 0; h < n_head; ++h) {
          std::memcpy(to + h * head_stride, scratch + (static_cast<size_t>(s) * n_head + h) * head_bytes, head_bytes);
        }
      }
    }
  }
}

}  // namespace wisp
