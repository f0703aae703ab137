// wisp/model.h - loading Whisper models (Hugging Face directories, whisper.cpp ggml files).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wisp/tokenizer.h"

namespace wisp {

// Architecture hyper-parameters, named as openai-whisper's ModelDimensions.
struct ModelDims {
  int n_mels = 80;
  int n_vocab = 51865;
  int n_audio_ctx = 1500;
  int n_audio_state = 0;
  int n_audio_head = 0;
  int n_audio_layer = 0;
  int n_text_ctx = 448;
  int n_text_state = 0;
  int n_text_head = 0;
  int n_text_layer = 0;
};

// How the weights are stored in the file the model came from (quantized: whisper.cpp's ggml block
// formats, 32 values per block).
enum class WeightType { F32, F16, BF16, Q8_0, Q5_0, Q5_1, Q4_0, Q4_1 };
const char* weight_type_name(WeightType type);

struct ModelInfo {
  ModelDims dims;
  std::string path;    // the directory or file loaded
  std::string format;  // "hf" or "ggml"
  WeightType weight_type = WeightType::F32;
  // (decoder layer, head) pairs whose cross-attention aligns with time; empty if unknown.
  std::vector<std::pair<int, int>> alignment_heads;
  // Tokens suppressed at every step by default ("-1"); from generation_config.json when present.
  std::vector<int> suppress_tokens;
  bool multilingual() const { return dims.n_vocab >= 51865; }
};

class ModelWeights;  // defined in src/model/; the tensors the runtime reads
class Bf16Weights;   // defined in src/runtime/; compute-bound weights packed for bf16 products
class PanelWeights;  // likewise, packed as f32/f16 panels for the AVX2 product
class Int16Weights;  // likewise, rounded to 12-bit integers for the AVX2 integer product

// Precision of the computation. Every product accumulates in f32; the reduced types round
// some inputs and caches, the way whisper.cpp always does, for speed.
enum class ComputeType {
  Auto,      // for files whose weights are not f32: BFloat16 where the CPU has AVX512_BF16, else
             // Int16 for q8_0/q5_0/q4_0 files on AVX2-only CPUs, else Float16; for f32 files Float32
  Float32,   // f32 products on the stored weights: matches the float reference to ~1e-5
  Float16,   // f32 products, but the cross-attention key/value cache in IEEE half and, for
             // quantized weights, decode-step activations rounded to int8 blocks and (AVX2-only
             // CPUs) prompt activations to 12-bit rows
  BFloat16,  // Float16, plus bf16 inputs to the compute-bound products (encoder, cross-attention
             // keys/values, prompts): about twice the encoder speed, ~1e-2 relative error
  Int16,     // Float16, plus 12-bit integer inputs to the encoder's products (projections,
             // convolutions, attention) and the cross-attention keys/values: for CPUs without
             // bf16 (AVX2), whose integer multiply-adds outrun f32 FMAs ~1.5x; ~1e-3 relative
             // error per product
};
const char* compute_type_name(ComputeType type);
// "auto", "float32", "float16", "bfloat16" or "int16" -> the type; throws wisp::Error naming the choices otherwise.
ComputeType compute_type_from_name(const std::string& name);

struct LoadOptions {
  ComputeType compute_type = ComputeType::Auto;
};

class Model {
 public:
  // Loads a Hugging Face Whisper directory (config.json + model.safetensors [+ index] +
  // generation_config.json + tokenizer files) or a whisper.cpp ggml .bin file. Every tensor's
  // shape is checked against the config; failures throw wisp::Error naming the file and tensor.
  static std::shared_ptr<Model> load(const std::string& path, const LoadOptions& options = {});

  const ModelInfo& info() const { return info_; }
  const ModelDims& dims() const { return info_.dims; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const ModelWeights& weights() const { return *weights_; }
  // Mel filterbank stored in the model file (ggml), or empty: then computed.
  const std::vector<float>& mel_filters() const { return mel_filters_; }
  // Float32, Float16 or BFloat16 (Auto resolved at load).
  ComputeType compute_type() const { return compute_type_; }
  // The packed weights of BFloat16 compute, or null for the other types.
  const Bf16Weights* bf16_weights() const { return bf16_weights_.get(); }
  // The compute-bound weights packed as panels (f32/f16 files on AVX2-only CPUs without bf16
  // compute), or null.
  const PanelWeights* panel_weights() const { return panel_weights_.get(); }
  // The packed weights of Int16 compute, or null for the other types.
  const Int16Weights* int16_weights() const { return int16_weights_.get(); }

  Model(ModelInfo info, Tokenizer tokenizer, std::shared_ptr<const ModelWeights> weights,
        std::vector<float> mel_filters);
  ~Model();

 private:
  ModelInfo info_;
  Tokenizer tokenizer_;
  std::shared_ptr<const ModelWeights> weights_;
  std::vector<float> mel_filters_;
  ComputeType compute_type_ = ComputeType::Float32;
  std::shared_ptr<const Bf16Weights> bf16_weights_;
  std::shared_ptr<const PanelWeights> panel_weights_;
  std::shared_ptr<const Int16Weights> int16_weights_;
};

}  // namespace wisp
