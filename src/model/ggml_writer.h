// Writes a loaded model as a whisper.cpp ggml file, with the per-tensor types whisper.cpp's
// converter (f32/f16) or its `quantize` tool (q*) would produce, so whisper.cpp loads it.
#pragma once

#include <string>

#include "model/ggml_quant.h"
#include "wisp/model.h"

namespace wisp {

// The storage type of tensor `name` (numpy-order rank `n_dims` as stored in the ggml file) in a
// file of precision `file_type`: 2-D weights take the file type except the conv biases and
// positional embeddings, which stay f32 like all 1-D tensors; conv kernels (3-D) are f16 in
// every non-f32 file, as whisper.cpp's loader expects.
GgmlType ggml_tensor_type(const std::string& name, int n_dims, GgmlType file_type);

// hparams.ftype for a file of `file_type`: 0/1 for f32/f16 (as the converter writes), and
// quantization version 2 * 1000 + GGML_FTYPE for the quantized types (as `quantize` writes).
int ggml_file_ftype(GgmlType file_type);

// Writes `model` to `path` (through a temporary file renamed into place). Throws wisp::Error
// if the path cannot be written or `file_type` is not one of f32, f16, q8_0, q5_0, q5_1, q4_0, q4_1.
void write_ggml_model(const Model& model, const std::string& path, GgmlType file_type);

}  // namespace wisp
