// The model's parameters in the form the runtime computes with, checked against the model's
// dimensions. Matrices (linear weights, token embedding) keep the file's precision (f32, f16, bf16
// or ggml's q8_0/q5_0/q5_1/q4_0/q4_1 blocks) and stay in the memory-mapped file at whatever byte
// offset it gives them: the kernels widen or dequantize them on the fly. Those that decode steps
// stream may be copied onto huge pages at load (place_decode_matrices). Vectors, convolutions and
// positional embeddings are float32 (converted once at load).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/huge_pages.h"
#include "kernels/weight_matrix.h"
#include "model/raw_tensor.h"
#include "wisp/model.h"

namespace wisp {

// y = x W^T + b, with W row-major [out][in].
struct LinearWeights {
  WeightMatrix weight;  // [out][in]
  const float* bias = nullptr;  // nullptr: no bias (Whisper's key projections)
  int out = 0;
  int in = 0;
};

struct LayerNormWeights {
  const float* gamma = nullptr;
  const float* beta = nullptr;
  int dim = 0;
};

struct AttentionWeights {
  LinearWeights query, key, value, out;
  int n_head = 0;
};

struct EncoderBlockWeights {
  LayerNormWeights attn_ln;
  AttentionWeights attn;
  LayerNormWeights mlp_ln;
  LinearWeights fc1, fc2;
};

struct DecoderBlockWeights {
  LayerNormWeights attn_ln;
  AttentionWeights attn;
  LayerNormWeights cross_attn_ln;
  AttentionWeights cross_attn;
  LayerNormWeights mlp_ln;
  LinearWeights fc1, fc2;
};

struct ConvWeights {
  const float* weight = nullptr;  // [out][in][kernel]
  const float* bias = nullptr;    // [out]
  int out = 0, in = 0, kernel = 3;
};

class ModelWeights {
 public:
  // Checks every tensor the architecture needs against `dims` (throws wisp::Error naming the
  // file and tensor on a missing tensor or wrong shape) and prepares it for compute.
  ModelWeights(const ModelDims& dims, int n_audio_ffn, int n_text_ffn, RawTensorSet tensors);

  ConvWeights conv1, conv2;
  const float* encoder_positions = nullptr;  // [n_audio_ctx][n_audio_state]
  std::vector<EncoderBlockWeights> encoder_blocks;
  LayerNormWeights encoder_ln;
  WeightMatrix token_embedding;              // [n_vocab][n_text_state], also the output projection
  const float* decoder_positions = nullptr;  // [n_text_ctx][n_text_state]
  std::vector<DecoderBlockWeights> decoder_blocks;
  LayerNormWeights decoder_ln;

  // The matrices every decode step reads: the token embedding (the output projection) and each
  // decoder layer's projections but the cross-attention keys/values (run once per window).
  std::vector<const WeightMatrix*> decode_step_matrices() const;

  // Copies decode_step_matrices into one block on huge pages (common/huge_pages.h), which a
  // step then streams with a TLB miss per 2 MB instead of per 4 KB; q5_0 and q8_0 ones are
  // regrouped on the way where `regroup` asks (kernels/q5_0r.h, kernels/q8_0r.h: layouts for
  // the int8 decode kernels). Without huge pages only the regrouped ones are copied. Copied pages of the mapped file are
  // released as they go (release_pages), so resident memory does not grow. Matrices that were
  // converted at load (not in the file) and are not regrouped stay where they are.
  struct DecodeRegrouping {
    bool q5_0 = false, q8_0 = false;
  };
  void place_decode_matrices(DecodeRegrouping regroup);

  // Releases the pages of a matrix of these weights once a packed or regrouped copy replaces it
  // (release_pages, model/mapped_file.h).
  void release_stored(const WeightMatrix& m) const;

  WeightType stored_type() const { return stored_type_; }
  // Bytes of the checked tensors as stored (quantized blocks at their packed size).
  size_t bytes() const { return bytes_; }

 private:
  bool in_mapped_file(const WeightMatrix& m) const;
  const RawTensor& checked(const std::string& name, const std::vector<int64_t>& expected_shape);
  const float* tensor(const std::string& name, std::vector<int64_t> expected_shape);
  WeightMatrix matrix(const std::string& name, int rows, int cols);
  const float* as_f32(const RawTensor& t);
  LinearWeights linear(const std::string& prefix, int out, int in, bool has_bias = true);
  LayerNormWeights layer_norm(const std::string& prefix, int dim);
  AttentionWeights attention(const std::string& prefix, int dim, int n_head);

  RawTensorSet raw_;
  std::vector<std::unique_ptr<float[]>> converted_;
  HugeBuffer decode_arena_;  // place_decode_matrices' copies
  WeightType stored_type_ = WeightType::F32;
  size_t bytes_ = 0;
};

}  // namespace wisp
