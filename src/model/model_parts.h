// What a format loader hands to the weight builder: dims, tokenizer and raw tensors under
// openai-whisper's names, whatever the file format.
#pragma once

#include <string>
#include <vector>

#include "model/raw_tensor.h"
#include "wisp/model.h"
#include "wisp/tokenizer.h"

namespace wisp {

struct ModelParts {
  ModelInfo info;
  int n_audio_ffn = 0;  // MLP width; 4 * n_audio_state in every published Whisper
  int n_text_ffn = 0;
  Tokenizer tokenizer;
  RawTensorSet tensors;
  std::vector<float> mel_filters;  // from the file, or empty
};

// Hugging Face directory: config.json, model.safetensors (or shards + index), generation config,
// tokenizer files.
ModelParts load_hf_parts(const std::string& dir);
// whisper.cpp ggml file (magic "ggml").
ModelParts load_ggml_parts(const std::string& path);

}  // namespace wisp
