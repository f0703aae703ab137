// Tensors as a file stores them (any dtype, numpy-order shape), before conversion for compute.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/mapped_file.h"

namespace wisp {

// F32/F16/BF16 (safetensors, ggml) and ggml's 32-value block-quantized types, kept packed as the
// file stores them.
enum class StorageType { F32, F16, BF16, Q8_0, Q5_0, Q5_1, Q4_0, Q4_1 };
// Bytes per value of the float types (0 for the block-quantized ones; see RawTensor::nbytes).
size_t storage_type_size(StorageType type);
const char* storage_type_name(StorageType type);
bool storage_type_quantized(StorageType type);

struct RawTensor {
  StorageType type = StorageType::F32;
  std::vector<int64_t> shape;  // numpy order: last axis is contiguous
  const std::byte* data = nullptr;
  std::string file;  // for error messages
  int64_t numel() const;
  size_t nbytes() const;  // bytes stored (quantized rows are whole blocks)
  std::string shape_string() const;
};

// All tensors of a model under openai-whisper's names ("encoder.blocks.0.attn.query.weight"),
// and the mapped files their data points into.
struct RawTensorSet {
  std::map<std::string, RawTensor> tensors;
  std::vector<std::shared_ptr<MappedFile>> files;
};

}  // namespace wisp
