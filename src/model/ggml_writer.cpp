#include "model/ggml_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "model/weights.h"
#include "wisp/audio.h"
#include "wisp/error.h"

namespace wisp {

namespace {

constexpr uint32_t kGgmlMagic = 0x67676d6c;
constexpr int kQuantVersion = 2;  // GGML_QNT_VERSION of the block layouts written here
constexpr int kQuantVersionFactor = 1000;

// A tensor to write: openai-whisper's name, numpy-order shape as stored, f32 values (owned when
// widened from f16/bf16 or dequantized from a quantized source by the reference dequantizers).
struct OutTensor {
  std::string name;
  std::vector<int64_t> shape;
  const float* data;
  std::shared_ptr<const std::vector<float>> owned = nullptr;
};

OutTensor matrix_tensor(std::string name, std::vector<int64_t> shape, const WeightMatrix& m) {
  if (const float* f32 = m.f32_data()) return {std::move(name), std::move(shape), f32};
  auto values = std::make_shared<const std::vector<float>>(m.to_f32());
  return {std::move(name), std::move(shape), values->data(), values};
}

void add_linear(std::vector<OutTensor>& out, const std::string& prefix, const LinearWeights& w) {
  out.push_back(matrix_tensor(prefix + ".weight", {w.out, w.in}, w.weight));
  if (w.bias) out.push_back({prefix + ".bias", {w.out}, w.bias});
}

void add_norm(std::vector<OutTensor>& out, const std::string& prefix, const LayerNormWeights& n) {
  out.push_back({prefix + ".weight", {n.dim}, n.gamma});
  out.push_back({prefix + ".bias", {n.dim}, n.beta});
}

void add_attention(std::vector<OutTensor>& out, const std::string& prefix, const AttentionWeights& a) {
  add_linear(out, prefix + ".query", a.query);
  add_linear(out, prefix + ".key", a.key);
  add_linear(out, prefix + ".value", a.value);
  add_linear(out, prefix + ".out", a.out);
}

// Every tensor of the model in the layout whisper.cpp's converter writes (conv biases as [n, 1]).
std::vector<OutTensor> ggml_tensors(const Model& model) {
  const ModelDims& d = model.dims();
  const ModelWeights& w = model.weights();
  std::vector<OutTensor> out;
  out.push_back({"encoder.positional_embedding", {d.n_audio_ctx, d.n_audio_state}, w.encoder_positions});
  out.push_back({"encoder.conv1.weight", {w.conv1.out, w.conv1.in, w.conv1.kernel}, w.conv1.weight});
  out.push_back({"encoder.conv1.bias", {w.conv1.out, 1}, w.conv1.bias});
  out.push_back({"encoder.conv2.weight", {w.conv2.out, w.conv2.in, w.conv2.kernel}, w.conv2.weight});
  out.push_back({"encoder.conv2.bias", {w.conv2.out, 1}, w.conv2.bias});
  for (size_t i = 0; i < w.encoder_blocks.size(); ++i) {
    const EncoderBlockWeights& b = w.encoder_blocks[i];
    const std::string p = "encoder.blocks." + std::to_string(i);
    add_attention(out, p + ".attn", b.attn);
    add_norm(out, p + ".attn_ln", b.attn_ln);
    add_linear(out, p + ".mlp.0", b.fc1);
    add_linear(out, p + ".mlp.2", b.fc2);
    add_norm(out, p + ".mlp_ln", b.mlp_ln);
  }
  add_norm(out, "encoder.ln_post", w.encoder_ln);
  out.push_back({"decoder.positional_embedding", {d.n_text_ctx, d.n_text_state}, w.decoder_positions});
  out.push_back(matrix_tensor("decoder.token_embedding.weight", {d.n_vocab, d.n_text_state}, w.token_embedding));
  for (size_t i = 0; i < w.decoder_blocks.size(); ++i) {
    const DecoderBlockWeights& b = w.decoder_blocks[i];
    const std::string p = "decoder.blocks." + std::to_string(i);
    add_attention(out, p + ".attn", b.attn);
    add_norm(out, p + ".attn_ln", b.attn_ln);
    add_attention(out, p + ".cross_attn", b.cross_attn);
    add_norm(out, p + ".cross_attn_ln", b.cross_attn_ln);
    add_linear(out, p + ".mlp.0", b.fc1);
    add_linear(out, p + ".mlp.2", b.fc2);
    add_norm(out, p + ".mlp_ln", b.mlp_ln);
  }
  add_norm(out, "decoder.ln", w.decoder_ln);
  return out;
}

// Buffered little-endian writer that turns every failure into one clear error.
class OutFile {
 public:
  OutFile(const std::string& path, const std::string& shown) : shown_(shown) {
    file_ = std::fopen(path.c_str(), "wb");
    if (!file_) fail();
  }
  ~OutFile() {
    if (file_) std::fclose(file_);
  }
  void bytes(const void* data, size_t n) {
    if (n && std::fwrite(data, 1, n, file_) != n) fail();
  }
  void i32(int32_t v) { bytes(&v, 4); }
  void close() {
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) fail();
  }

 private:
  [[noreturn]] void fail() {
    throw Error("cannot write " + shown_ + ": " + std::strerror(errno) +
                " (choose a writable output path with free space)");
  }
  std::FILE* file_ = nullptr;
  std::string shown_;
};

}  // namespace

GgmlType ggml_tensor_type(const std::string& name, int n_dims, GgmlType file_type) {
  const bool kept_f32 = name == "encoder.conv1.bias" || name == "encoder.conv2.bias" ||
                        name == "encoder.positional_embedding" || name == "decoder.positional_embedding";
  if (file_type == GgmlType::F32 || n_dims < 2 || kept_f32) return GgmlType::F32;
  if (n_dims == 3) return GgmlType::F16;  // conv kernels
  return file_type;
}

int ggml_file_ftype(GgmlType file_type) {
  int ftype = 0;
  switch (file_type) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: ftype = 2; break;
    case GgmlType::Q4_1: ftype = 3; break;
    case GgmlType::Q8_0: ftype = 7; break;
    case GgmlType::Q5_0: ftype = 8; break;
    case GgmlType::Q5_1: ftype = 9; break;
    case GgmlType::BF16:
      throw Error("whisper.cpp has no bf16 model files; convert to f16, f32 or a q* type");
  }
  return kQuantVersion * kQuantVersionFactor + ftype;
}

void write_ggml_model(const Model& model, const std::string& path, GgmlType file_type) {
  const int ftype = ggml_file_ftype(file_type);
  const ModelDims& d = model.dims();
  const std::vector<OutTensor> tensors = ggml_tensors(model);
  const std::string tmp = path + ".tmp";
  try {
    OutFile out(tmp, path);
    out.i32(static_cast<int32_t>(kGgmlMagic));
    for (int v : {d.n_vocab, d.n_audio_ctx, d.n_audio_state, d.n_audio_head, d.n_audio_layer, d.n_text_ctx,
                  d.n_text_state, d.n_text_head, d.n_text_layer, d.n_mels, ftype}) {
      out.i32(v);
    }
    const std::vector<float> filters = model.mel_filters().empty() ? mel_filters(d.n_mels) : model.mel_filters();
    out.i32(d.n_mels);
    out.i32(static_cast<int32_t>(filters.size() / static_cast<size_t>(d.n_mels)));
    out.bytes(filters.data(), filters.size() * sizeof(float));
    // The BPE ranks only; whisper.cpp appends the special tokens itself.
    const int n_ranks = d.n_vocab == 51864 ? 50256 : 50257;
    out.i32(n_ranks);
    for (int id = 0; id < n_ranks; ++id) {
      const std::string token = model.tokenizer().token_bytes(id);
      out.i32(static_cast<int32_t>(token.size()));
      out.bytes(token.data(), token.size());
    }
    std::vector<std::byte> encoded;
    for (const OutTensor& t : tensors) {
      const int n_dims = static_cast<int>(t.shape.size());
      const GgmlType type = ggml_tensor_type(t.name, n_dims, file_type);
      int64_t numel = 1;
      for (int64_t dim : t.shape) numel *= dim;
      const int64_t row = t.shape.back();
      if (ggml_is_quantized(type) && row % kQuantBlock != 0) {
        throw Error(model.info().path + ": tensor '" + t.name + "' has rows of " + std::to_string(row) +
                    " values, which " + ggml_type_name(static_cast<int32_t>(type)) +
                    " cannot hold (needs multiples of 32); convert to f16 instead");
      }
      out.i32(n_dims);
      out.i32(static_cast<int32_t>(t.name.size()));
      out.i32(static_cast<int32_t>(type));
      for (int i = n_dims - 1; i >= 0; --i) out.i32(static_cast<int32_t>(t.shape[static_cast<size_t>(i)]));
      out.bytes(t.name.data(), t.name.size());
      encoded.resize(ggml_row_bytes(type, row) * static_cast<size_t>(numel / row));
      ggml_encode(type, t.data, encoded.data(), numel);
      out.bytes(encoded.data(), encoded.size());
    }
    out.close();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);  // no half-written file left behind
    throw;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Error("cannot write " + path + ": " + ec.message() + " (choose a writable output path)");
  }
}

}  // namespace wisp
