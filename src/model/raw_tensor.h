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

enum class StorageType { F32, F16, BF16 };
size_t storage_type_size(StorageType type);
const char* storage_type_name(StorageType type);

struct RawTensor {
  StorageType type = StorageType::F32;
  std::vector<int64_t> shape;  // numpy order: last axis is contiguous
  const std::byte* data = nullptr;
  std::string file;  // for error messages
  int64_t numel() const;
  std::string shape_string() const;
};

// All tensors of a model under openai-whisper's names ("encoder.blocks.0.attn.query.weight"),
// and the mapped files their data points into.
struct RawTensorSet {
  std::map<std::string, RawTensor> tensors;
  std::vector<std::shared_ptr<MappedFile>> files;
};

}  // namespace wisp
