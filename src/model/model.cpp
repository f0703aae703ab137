#include "wisp/model.h"

#include <filesystem>

#include "model/model_parts.h"
#include "kernels/bf16_gemm.h"
#include "kernels/int16_gemm.h"
#include "kernels/panel_gemm.h"
#include "kernels/quant_dot_internal.h"
#include "model/weights.h"
#include "runtime/packed_weights.h"
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

const char* compute_type_name(ComputeType type) {
  switch (type) {
    case ComputeType::Auto: return "auto";
    case ComputeType::Float32: return "float32";
    case ComputeType::Float16: return "float16";
    case ComputeType::BFloat16: return "bfloat16";
    case ComputeType::Int16: return "int16";
  }
  return "?";
}

ComputeType compute_type_from_name(const std::string& name) {
  for (ComputeType t : {ComputeType::Auto, ComputeType::Float32, ComputeType::Float16, ComputeType::BFloat16,
                        ComputeType::Int16}) {
    if (name == compute_type_name(t)) return t;
  }
  throw Error("unknown compute type '" + name + "'; use auto, float32, float16, bfloat16 or int16");
}

Model::Model(ModelInfo info, Tokenizer tokenizer, std::shared_ptr<const ModelWeights> weights,
             std::vector<float> mel_filters)
    : info_(std::move(info)),
      tokenizer_(std::move(tokenizer)),
      weights_(std::move(weights)),
      mel_filters_(std::move(mel_filters)) {}

Model::~Model() = default;

std::shared_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
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
  auto weights = std::make_shared<ModelWeights>(parts.info.dims, parts.n_audio_ffn, parts.n_text_ffn,
                                                std::move(parts.tensors));
  // Quantized files keep their type in the info even where tensors are expanded for compute.
  const WeightType from_file = parts.info.weight_type;
  const bool float_file = from_file == WeightType::F32 || from_file == WeightType::F16 || from_file == WeightType::BF16;
  parts.info.weight_type = float_file ? weights->stored_type() : from_file;
  auto model = std::make_shared<Model>(std::move(parts.info), std::move(parts.tokenizer), weights,
                                       std::move(parts.mel_filters));
  ComputeType compute = options.compute_type;
  if (compute == ComputeType::Auto) {
    // q8_0/q5_0/q4_0 files on every SIMD CPU: integer encoder products on the stored blocks,
    // which round activations to 12 bits where whisper.cpp rounds them to 8 (on AVX2-only CPUs
    // 1.6-1.8x faster than widening to f32 for sgemm). No copy of the weights: on AVX512_BF16
    // CPUs bfloat16's encoder copy put small q8_0's peak RSS at 1.13x whisper.cpp's, and int16
    // is the more accurate of the two (bench/README.md).
    compute = model->info().weight_type == WeightType::F32 ? ComputeType::Float32
              : int16_blocks_preferred() && Int16Weights::reads_in_place(*weights) ? ComputeType::Int16
              : cpu_has_bf16()                                                      ? ComputeType::BFloat16
                                                                                    : ComputeType::Float16;
  }
  if (compute == ComputeType::BFloat16) {
    if (!cpu_has_bf16()) {
      throw Error("bfloat16 compute needs a CPU with AVX512_BF16; this one has none (use --compute_type float16 or float32)");
    }
    model->bf16_weights_ = std::make_shared<const Bf16Weights>(*weights);
  } else if (compute == ComputeType::Int16) {
    model->int16_weights_ = std::make_shared<const Int16Weights>(*weights);
  } else if (panel_gemm_preferred() && PanelWeights::supports(*weights)) {
    model->panel_weights_ = std::make_shared<const PanelWeights>(*weights);
  }
  // Decode steps (int8 activations) on q5_0 files, wherever they run the AVX2 int8 kernel (or
  // its VNNI twins on AVX-512 CPUs): regrouped blocks unpack in five vector operations instead of
  // nine, which brings the step to memory speed on AVX2-only CPUs and to 0.8x the time on Zen 4
  // (bench/README.md). On q8_0 files, where the 512-bit kernel runs: two blocks' values in one
  // load. The prompts' integer product and the widening for sgemm read them too.
  const Int8Kernel int8 = int8_kernel_for(active_isa());
  ModelWeights::DecodeRegrouping regroup;
  regroup.q5_0 = compute != ComputeType::Float32 && int8_kernel_is_avx2_family(int8);
  regroup.q8_0 = compute != ComputeType::Float32 && int8 == Int8Kernel::Avx512;
  weights->place_decode_matrices(regroup);
  model->compute_type_ = compute;
  return model;
}

}  // namespace wisp
