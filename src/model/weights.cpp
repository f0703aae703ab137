#include "model/weights.h"

#include <cstdint>
#include <cstring>

#include "kernels/convert.h"
#include "wisp/error.h"

namespace wisp {

// Size-1 axes are ignored when comparing shapes: whisper.cpp stores conv biases as [n, 1].
static std::vector<int64_t> squeezed(const std::vector<int64_t>& shape) {
  std::vector<int64_t> out;
  for (int64_t d : shape) {
    if (d != 1) out.push_back(d);
  }
  return out;
}

static std::string shape_string(const std::vector<int64_t>& shape) {
  RawTensor t;
  t.shape = shape;
  return t.shape_string();
}

const RawTensor& ModelWeights::checked(const std::string& name, const std::vector<int64_t>& expected_shape) {
  auto it = raw_.tensors.find(name);
  if (it == raw_.tensors.end()) {
    const std::string where = raw_.files.empty() ? std::string("model") : raw_.files.front()->path();
    throw Error(where + ": missing tensor '" + name + "' (incomplete or non-Whisper model file)");
  }
  const RawTensor& t = it->second;
  if (squeezed(t.shape) != squeezed(expected_shape)) {
    throw Error(t.file + ": tensor '" + name + "' has shape " + t.shape_string() + ", expected " +
                shape_string(expected_shape) + " from the model's config");
  }
  bytes_ += static_cast<size_t>(t.numel()) * storage_type_size(t.type);
  return t;
}

WeightMatrix ModelWeights::matrix(const std::string& name, int rows, int cols) {
  const RawTensor& t = checked(name, {rows, cols});
  WeightMatrix m;
  m.rows = rows;
  m.cols = cols;
  switch (t.type) {
    case StorageType::F32: m.type = MatrixType::F32; break;
    case StorageType::F16: m.type = MatrixType::F16; break;
    case StorageType::BF16: m.type = MatrixType::BF16; break;
  }
  if (m.type == MatrixType::F32) {
    m.data = as_f32(t);
    return m;
  }
  if (reinterpret_cast<uintptr_t>(t.data) % alignof(uint16_t) == 0) {
    m.data = t.data;  // used in place, from the mapping
    return m;
  }
  const size_t n = static_cast<size_t>(t.numel());
  auto buffer = std::make_unique<uint16_t[]>(n);
  std::memcpy(buffer.get(), t.data, n * sizeof(uint16_t));
  m.data = buffer.get();
  realigned_.push_back(std::move(buffer));
  return m;
}

const float* ModelWeights::tensor(const std::string& name, std::vector<int64_t> expected_shape) {
  return as_f32(checked(name, expected_shape));
}

const float* ModelWeights::as_f32(const RawTensor& t) {
  const size_t n = static_cast<size_t>(t.numel());
  if (t.type == StorageType::F32 && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0) {
    return reinterpret_cast<const float*>(t.data);  // used in place, from the mapping
  }
  auto buffer = std::make_unique<float[]>(n);
  switch (t.type) {
    case StorageType::F32: std::memcpy(buffer.get(), t.data, n * sizeof(float)); break;
    case StorageType::F16: convert_f16_to_f32(reinterpret_cast<const uint16_t*>(t.data), buffer.get(), n); break;
    case StorageType::BF16: convert_bf16_to_f32(reinterpret_cast<const uint16_t*>(t.data), buffer.get(), n); break;
  }
  converted_.push_back(std::move(buffer));
  return converted_.back().get();
}

LinearWeights ModelWeights::linear(const std::string& prefix, int out, int in, bool has_bias) {
  LinearWeights w;
  w.out = out;
  w.in = in;
  w.weight = matrix(prefix + ".weight", out, in);
  if (has_bias) w.bias = tensor(prefix + ".bias", {out});
  return w;
}

LayerNormWeights ModelWeights::layer_norm(const std::string& prefix, int dim) {
  return {tensor(prefix + ".weight", {dim}), tensor(prefix + ".bias", {dim}), dim};
}

AttentionWeights ModelWeights::attention(const std::string& prefix, int dim, int n_head) {
  AttentionWeights a;
  a.query = linear(prefix + ".query", dim, dim);
  a.key = linear(prefix + ".key", dim, dim, /*has_bias=*/false);
  a.value = linear(prefix + ".value", dim, dim);
  a.out = linear(prefix + ".out", dim, dim);
  a.n_head = n_head;
  return a;
}

ModelWeights::ModelWeights(const ModelDims& d, int n_audio_ffn, int n_text_ffn, RawTensorSet tensors)
    : raw_(std::move(tensors)) {
  if (d.n_audio_state % d.n_audio_head != 0 || d.n_text_state % d.n_text_head != 0) {
    throw Error("model config: state size is not a multiple of the number of attention heads");
  }
  if (d.n_audio_state != d.n_text_state) {
    throw Error("model config: encoder and decoder widths differ (" + std::to_string(d.n_audio_state) +
                " vs " + std::to_string(d.n_text_state) + "); not a Whisper architecture");
  }
  // The type of the token embedding (the largest matrix) names the file's precision.
  if (auto it = raw_.tensors.find("decoder.token_embedding.weight"); it != raw_.tensors.end()) {
    stored_type_ = it->second.type == StorageType::F16    ? WeightType::F16
                   : it->second.type == StorageType::BF16 ? WeightType::BF16
                                                          : WeightType::F32;
  }
  const int da = d.n_audio_state;
  conv1 = {tensor("encoder.conv1.weight", {da, d.n_mels, 3}), tensor("encoder.conv1.bias", {da}), da, d.n_mels, 3};
  conv2 = {tensor("encoder.conv2.weight", {da, da, 3}), tensor("encoder.conv2.bias", {da}), da, da, 3};
  encoder_positions = tensor("encoder.positional_embedding", {d.n_audio_ctx, da});
  for (int i = 0; i < d.n_audio_layer; ++i) {
    const std::string p = "encoder.blocks." + std::to_string(i);
    EncoderBlockWeights b;
    b.attn_ln = layer_norm(p + ".attn_ln", da);
    b.attn = attention(p + ".attn", da, d.n_audio_head);
    b.mlp_ln = layer_norm(p + ".mlp_ln", da);
    b.fc1 = linear(p + ".mlp.0", n_audio_ffn, da);
    b.fc2 = linear(p + ".mlp.2", da, n_audio_ffn);
    encoder_blocks.push_back(b);
  }
  encoder_ln = layer_norm("encoder.ln_post", da);

  const int dt = d.n_text_state;
  token_embedding = matrix("decoder.token_embedding.weight", d.n_vocab, dt);
  decoder_positions = tensor("decoder.positional_embedding", {d.n_text_ctx, dt});
  for (int i = 0; i < d.n_text_layer; ++i) {
    const std::string p = "decoder.blocks." + std::to_string(i);
    DecoderBlockWeights b;
    b.attn_ln = layer_norm(p + ".attn_ln", dt);
    b.attn = attention(p + ".attn", dt, d.n_text_head);
    b.cross_attn_ln = layer_norm(p + ".cross_attn_ln", dt);
    b.cross_attn = attention(p + ".cross_attn", dt, d.n_text_head);
    b.mlp_ln = layer_norm(p + ".mlp_ln", dt);
    b.fc1 = linear(p + ".mlp.0", n_text_ffn, dt);
    b.fc2 = linear(p + ".mlp.2", dt, n_text_ffn);
    decoder_blocks.push_back(b);
  }
  decoder_ln = layer_norm("decoder.ln", dt);

  // A layer beyond the config means config and weights disagree (e.g. a wrong config.json).
  const std::string extra_encoder = "encoder.blocks." + std::to_string(d.n_audio_layer) + ".attn_ln.weight";
  const std::string extra_decoder = "decoder.blocks." + std::to_string(d.n_text_layer) + ".attn_ln.weight";
  for (const auto& extra : {extra_encoder, extra_decoder}) {
    if (raw_.tensors.count(extra)) {
      throw Error(raw_.tensors.at(extra).file + ": has tensor '" + extra +
                  "' beyond the number of layers in the model's config");
    }
  }
}

}  // namespace wisp
