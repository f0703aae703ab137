// whisper.cpp's ggml model files (ggml-tiny.bin, ...): magic, hparams, mel filters, vocabulary,
// then tensors until the end of the file, each with dims in ggml order (innermost first).
// Every tensor, block-quantized ones (q4_0 ... q8_0) included, stays in the mapping as stored;
// ModelWeights uses matrices in place and widens what must be f32.
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/ggml_quant.h"
#include "model/model_parts.h"
#include "wisp/error.h"

namespace wisp {

namespace {

constexpr uint32_t kGgmlMagic = 0x67676d6c;  // "ggml"
constexpr int kQuantVersionFactor = 1000;    // ftype = quant_version * 1000 + type

// Sequential reader over the mapped file that turns every overrun into a "truncated" error.
class Cursor {
 public:
  explicit Cursor(const MappedFile& file) : file_(file) {}
  bool at_end() const { return pos_ == file_.size(); }
  size_t pos() const { return pos_; }
  const std::byte* take(size_t n, const std::string& what) {
    if (n > file_.size() - pos_) {
      throw Error(file_.path() + ": truncated ggml file while reading " + what +
                  " (re-download or re-convert the model)");
    }
    const std::byte* p = file_.data() + pos_;
    pos_ += n;
    return p;
  }
  int32_t i32(const std::string& what) {
    int32_t v;
    std::memcpy(&v, take(4, what), 4);
    return v;
  }

 private:
  const MappedFile& file_;
  size_t pos_ = 0;
};

// ggml's ftype (GGML_FTYPE_*, a published constant) as wisp's WeightType.
WeightType weight_type_of_ftype(int ftype) {
  switch (ftype) {
    case 1: return WeightType::F16;
    case 2: return WeightType::Q4_0;
    case 3: return WeightType::Q4_1;
    case 7: return WeightType::Q8_0;
    case 8: return WeightType::Q5_0;
    case 9: return WeightType::Q5_1;
    default: return WeightType::F32;
  }
}

StorageType storage_type_of(GgmlType type) {
  switch (type) {
    case GgmlType::F32: return StorageType::F32;
    case GgmlType::F16: return StorageType::F16;
    case GgmlType::BF16: return StorageType::BF16;
    case GgmlType::Q8_0: return StorageType::Q8_0;
    case GgmlType::Q5_0: return StorageType::Q5_0;
    case GgmlType::Q5_1: return StorageType::Q5_1;
    case GgmlType::Q4_0: return StorageType::Q4_0;
    case GgmlType::Q4_1: return StorageType::Q4_1;
  }
  return StorageType::F32;
}

}  // namespace

ModelParts load_ggml_parts(const std::string& path) {
  auto file = MappedFile::open(path);
  Cursor in(*file);
  const uint32_t magic = static_cast<uint32_t>(in.i32("magic"));
  if (magic != kGgmlMagic) {
    throw Error(path + " is not a whisper.cpp ggml model (bad magic); expected a ggml-*.bin file "
                "or a Hugging Face model directory");
  }
  ModelParts parts;
  ModelDims& d = parts.info.dims;
  d.n_vocab = in.i32("hparams");
  d.n_audio_ctx = in.i32("hparams");
  d.n_audio_state = in.i32("hparams");
  d.n_audio_head = in.i32("hparams");
  d.n_audio_layer = in.i32("hparams");
  d.n_text_ctx = in.i32("hparams");
  d.n_text_state = in.i32("hparams");
  d.n_text_head = in.i32("hparams");
  d.n_text_layer = in.i32("hparams");
  d.n_mels = in.i32("hparams");
  // Per-tensor types below are authoritative; ftype names the file's precision.
  const int ftype = in.i32("hparams") % kQuantVersionFactor;
  parts.info.weight_type = weight_type_of_ftype(ftype);
  if (d.n_vocab < 51864 || d.n_vocab > 51866 || d.n_audio_state <= 0 || d.n_audio_head <= 0 ||
      d.n_audio_layer <= 0 || d.n_text_state <= 0 || d.n_text_head <= 0 || d.n_text_layer <= 0 ||
      (d.n_mels != 80 && d.n_mels != 128) || d.n_audio_ctx <= 0 || d.n_text_ctx <= 0) {
    throw Error(path + ": implausible ggml hyper-parameters (n_vocab " + std::to_string(d.n_vocab) +
                ", n_mels " + std::to_string(d.n_mels) + "); is this a Whisper model?");
  }
  parts.n_audio_ffn = 4 * d.n_audio_state;
  parts.n_text_ffn = 4 * d.n_text_state;
  parts.info.path = path;
  parts.info.format = "ggml";

  const int n_mel = in.i32("mel filters");
  const int n_fft = in.i32("mel filters");
  if (n_mel != d.n_mels || n_fft != 201) {
    throw Error(path + ": mel filter bank is " + std::to_string(n_mel) + "x" + std::to_string(n_fft) +
                ", expected " + std::to_string(d.n_mels) + "x201");
  }
  parts.mel_filters.resize(static_cast<size_t>(n_mel) * n_fft);
  std::memcpy(parts.mel_filters.data(), in.take(parts.mel_filters.size() * 4, "mel filters"),
              parts.mel_filters.size() * 4);

  const int n_words = in.i32("vocabulary");
  if (n_words <= 0 || n_words > d.n_vocab) {
    throw Error(path + ": corrupt vocabulary size " + std::to_string(n_words));
  }
  std::vector<std::string> words(static_cast<size_t>(n_words));
  for (auto& word : words) {
    const int32_t len = in.i32("vocabulary");
    if (len < 0 || len > 1024) throw Error(path + ": corrupt vocabulary entry");
    const std::byte* bytes = in.take(static_cast<size_t>(len), "vocabulary");
    word.assign(reinterpret_cast<const char*>(bytes), static_cast<size_t>(len));
  }
  // Only the BPE ranks define the tokenizer; special tokens follow from n_vocab.
  const size_t n_base = d.n_vocab == 51864 ? 50256 : 50257;
  if (words.size() < n_base) {
    throw Error(path + ": vocabulary has " + std::to_string(words.size()) + " tokens, expected " +
                std::to_string(n_base));
  }
  words.resize(n_base);
  parts.tokenizer = Tokenizer::from_byte_tokens(std::move(words), d.n_vocab);

  while (!in.at_end()) {
    const int n_dims = in.i32("tensor header");
    const int name_len = in.i32("tensor header");
    const int type = in.i32("tensor header");
    if (n_dims < 1 || n_dims > 4 || name_len <= 0 || name_len > 256) {
      throw Error(path + ": corrupt tensor header at byte " + std::to_string(in.pos()));
    }
    RawTensor t;
    t.shape.resize(static_cast<size_t>(n_dims));
    for (int i = 0; i < n_dims; ++i) t.shape[static_cast<size_t>(n_dims - 1 - i)] = in.i32("tensor dims");
    std::string name(reinterpret_cast<const char*>(in.take(static_cast<size_t>(name_len), "tensor name")),
                     static_cast<size_t>(name_len));
    for (int64_t dim : t.shape) {
      if (dim <= 0) throw Error(path + ": tensor '" + name + "' has a non-positive dimension");
    }
    const std::optional<GgmlType> ggml_type = ggml_type_from_id(type);
    if (!ggml_type) {
      throw Error(path + ": tensor '" + name + "' has ggml type " + std::to_string(type) +
                  ", which wisp cannot load; convert the model to f16 or q8_0 with whisper.cpp's tools");
    }
    const int64_t row = t.shape.back();
    if (ggml_is_quantized(*ggml_type) && row % kQuantBlock != 0) {
      throw Error(path + ": quantized tensor '" + name + "' has rows of " + std::to_string(row) +
                  " values, not a multiple of 32 (corrupt file)");
    }
    const size_t n_bytes = ggml_row_bytes(*ggml_type, row) * static_cast<size_t>(t.numel() / row);
    t.data = in.take(n_bytes, "tensor '" + name + "'");
    t.type = storage_type_of(*ggml_type);
    t.file = path;
    parts.tensors.tensors[name] = std::move(t);
  }
  parts.tensors.files.push_back(std::move(file));
  return parts;
}

}  // namespace wisp
