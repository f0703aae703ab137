#include "model/raw_tensor.h"

namespace wisp {

size_t storage_type_size(StorageType type) { return type == StorageType::F32 ? 4 : 2; }

const char* storage_type_name(StorageType type) {
  switch (type) {
    case StorageType::F32: return "F32";
    case StorageType::F16: return "F16";
    case StorageType::BF16: return "BF16";
  }
  return "?";
}

int64_t RawTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string RawTensor::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace wisp
