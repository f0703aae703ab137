#include "model/weights.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "common/huge_pages.h"
#include "kernels/q5_0r.h"
#include "kernels/q8_0r.h"
#include "kernels/thread_pool.h"
#include "model/mapped_file.h"
#include "wisp/error.h"

namespace wisp {

static MatrixType matrix_type(StorageType type) {
  switch (type) {
    case StorageType::F32: return MatrixType::F32;
    case StorageType::F16: return MatrixType::F16;
    case StorageType::BF16: return MatrixType::BF16;
    case StorageType::Q8_0: return MatrixType::Q8_0;
    case StorageType::Q5_0: return MatrixType::Q5_0;
    case StorageType::Q5_1: return MatrixType::Q5_1;
    case StorageType::Q4_0: return MatrixType::Q4_0;
    case StorageType::Q4_1: return MatrixType::Q4_1;
  }
  return MatrixType::F32;
}

static WeightType weight_type(StorageType type) {
  switch (type) {
    case StorageType::F32: return WeightType::F32;
    case StorageType::F16: return WeightType::F16;
    case StorageType::BF16: return WeightType::BF16;
    case StorageType::Q8_0: return WeightType::Q8_0;
    case StorageType::Q5_0: return WeightType::Q5_0;
    case StorageType::Q5_1: return WeightType::Q5_1;
    case StorageType::Q4_0: return WeightType::Q4_0;
    case StorageType::Q4_1: return WeightType::Q4_1;
  }
  return WeightType::F32;
}

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
  bytes_ += t.nbytes();
  return t;
}

WeightMatrix ModelWeights::matrix(const std::string& name, int rows, int cols) {
  const RawTensor& t = checked(name, {rows, cols});
  const MatrixType type = matrix_type(t.type);
  if (type == MatrixType::F32) return WeightMatrix(as_f32(t), type, rows, cols);
  // Half-precision and quantized matrices are read in place at any byte offset (ggml files do
  // not align tensor data; the kernels use unaligned loads and memcpy for scalars), as in
  // whisper.cpp: no copy, so the weights are resident once.
  if (is_quantized(type) && cols % kMatrixQuantBlock != 0) {
    throw Error(t.file + ": quantized tensor '" + name + "' has rows of " + std::to_string(cols) +
                " values, not a multiple of 32");
  }
  return WeightMatrix(t.data, type, rows, cols);  // used in place, from the mapping
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
  if (t.type == StorageType::F32) {
    std::memcpy(buffer.get(), t.data, n * sizeof(float));
  } else {
    // f16/bf16 or (rarely: a vector somebody quantized) ggml blocks, by the reference converters.
    const int64_t row = t.shape.empty() ? 1 : t.shape.back();
    if (storage_type_quantized(t.type) && row % kMatrixQuantBlock != 0) {
      throw Error(t.file + ": quantized tensor of shape " + t.shape_string() + " has rows not a multiple of 32");
    }
    WeightMatrix(t.data, matrix_type(t.type), static_cast<int>(n / static_cast<size_t>(row)), static_cast<int>(row))
        .rows_to_f32(0, static_cast<int>(n / static_cast<size_t>(row)), buffer.get());
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
    stored_type_ = weight_type(it->second.type);
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

void ModelWeights::release_stored(const WeightMatrix& m) const { release_pages(raw_.files, m.data, m.bytes()); }

namespace {

// ModelWeights::decode_step_matrices, as pointers of the weights' constness.
template <class Weights>
auto decode_matrices(Weights& w) {
  using Matrix = std::conditional_t<std::is_const_v<Weights>, const WeightMatrix, WeightMatrix>;
  std::vector<Matrix*> matrices{&w.token_embedding};
  for (auto& b : w.decoder_blocks) {
    for (auto* l : {&b.attn.query, &b.attn.key, &b.attn.value, &b.attn.out, &b.cross_attn.query, &b.cross_attn.out,
                    &b.fc1, &b.fc2}) {
      matrices.push_back(&l->weight);
    }
  }
  return matrices;
}

}  // namespace

std::vector<const WeightMatrix*> ModelWeights::decode_step_matrices() const { return decode_matrices(*this); }

bool ModelWeights::in_mapped_file(const WeightMatrix& m) const {
  return std::any_of(raw_.files.begin(), raw_.files.end(),
                     [&](const auto& file) { return file->contains(m.data, m.bytes()); });
}

void ModelWeights::place_decode_matrices(DecodeRegrouping regroup_types) {
  // The type a matrix is regrouped to, or its own.
  auto regrouped_type = [&](const WeightMatrix& m) {
    if (regroup_types.q5_0 && m.type == MatrixType::Q5_0 && q5_0r_regroupable(m.cols)) return MatrixType::Q5_0R;
    if (regroup_types.q8_0 && m.type == MatrixType::Q8_0 && q8_0r_regroupable(m.cols)) return MatrixType::Q8_0R;
    return m.type;
  };
  auto regrouped = [&](const WeightMatrix& m) { return regrouped_type(m) != m.type; };
  // Without huge pages a plain copy would read the same way as the mapping: only regroup.
  const bool copy_all = huge_pages_available();
  // Each copy starts on a cache line.
  auto padded = [](const WeightMatrix& m) { return (m.bytes() + 63) / 64 * 64; };
  std::vector<WeightMatrix*> moved;
  size_t total = 0;
  for (WeightMatrix* m : decode_matrices(*this)) {
    if (regrouped(*m) || (copy_all && in_mapped_file(*m))) {
      moved.push_back(m);
      total += padded(*m);
    }
  }
  if (moved.empty()) return;
  decode_arena_ = HugeBuffer(total);
  uint8_t* next = decode_arena_.data();
  for (WeightMatrix* m : moved) {
    const WeightMatrix source = *m;
    const MatrixType type = regrouped_type(source);
    // Row chunks of ~1 MB, each released once copied, so the copy never holds a matrix twice.
    const int chunk_rows = std::max<int>(1, static_cast<int>((size_t{1} << 20) / source.row_bytes));
    const int n_blocks = source.cols / kMatrixQuantBlock;
    parallel_for((source.rows + chunk_rows - 1) / chunk_rows, [&](int task) {
      const int r0 = task * chunk_rows;
      const int r1 = std::min(source.rows, r0 + chunk_rows);
      uint8_t* to = next + source.row_bytes * static_cast<size_t>(r0);
      if (type == MatrixType::Q5_0R) {
        for (int r = r0; r < r1; ++r, to += source.row_bytes) q5_0r_regroup_row(source.row_data(r), n_blocks, to);
      } else if (type == MatrixType::Q8_0R) {
        for (int r = r0; r < r1; ++r, to += source.row_bytes) q8_0r_regroup_row(source.row_data(r), n_blocks, to);
      } else {
        std::memcpy(to, source.row_data(r0), source.row_bytes * static_cast<size_t>(r1 - r0));
      }
      release_pages(raw_.files, source.row_data(r0), source.row_bytes * static_cast<size_t>(r1 - r0));
    });
    *m = WeightMatrix(next, type, source.rows, source.cols);
    m->on_huge_pages = copy_all;
    next += padded(source);
  }
}

}  // namespace wisp
