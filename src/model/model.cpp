#include "wisp/model.h"

#include <filesystem>

#include "model/model_parts.h"
#include "model/weights.h"
#include "wisp/error.h"

namespace wisp {

const char* weight_type_name(WeightType type) {
  switch (type) {
    case WeightType::F32: return "f32";
    case WeightType::F16: return "f16";
    case WeightType::BF16: return "bf16";
    case WeightType::Q8_0: return "q8_0";
    case WeightType::Q5_0: return "q5_0";
    case WeightType::Q5_1: return "q5_1";
    case WeightType::Q4_0: return "q4_0";
    case WeightType::Q4_1: return "q4_1";
  }
  return "?";
}

Model::Model(ModelInfo info, Tokenizer tokenizer, std::shared_ptr<const ModelWeights> weights,
             std::vector<float> mel_filters)
    : info_(std::move(info)),
      tokenizer_(std::move(tokenizer)),
      weights_(std::move(weights)),
      mel_filters_(std::move(mel_filters)) {}

Model::~Model() = default;

std::shared_ptr<Model> Model::load(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw Error("model not found: " + path +
                " (pass a Hugging Face Whisper directory or a whisper.cpp ggml .bin file)");
  }
  ModelParts parts = fs::is_directory(path, ec) ? load_hf_parts(path) : load_ggml_parts(path);
  if (parts.tokenizer.n_vocab() != parts.info.dims.n_vocab) {
    throw Error(path + ": tokenizer has " + std::to_string(parts.tokenizer.n_vocab()) +
                " tokens but the model " + std::to_string(parts.info.dims.n_vocab));
  }
  if (parts.info.suppress_tokens.empty()) parts.info.suppress_tokens = parts.tokenizer.non_speech_tokens();
  auto weights = std::make_shared<const ModelWeights>(parts.info.dims, parts.n_audio_ffn,
                                                      parts.n_text_ffn, std::move(parts.tensors));
  // Quantized files keep their type in the info even where tensors are expanded for compute.
  const WeightType from_file = parts.info.weight_type;
  const bool float_file = from_file == WeightType::F32 || from_file == WeightType::F16 || from_file == WeightType::BF16;
  parts.info.weight_type = float_file ? weights->stored_type() : from_file;
  return std::make_shared<Model>(std::move(parts.info), std::move(parts.tokenizer), std::move(weights),
                                 std::move(parts.mel_filters));
}

}  // namespace wisp
