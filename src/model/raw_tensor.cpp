#include "model/raw_tensor.h"

namespace wisp {

size_t storage_type_size(StorageType type) {
  switch (type) {
    case StorageType::F32: return 4;
    case StorageType::F16:
    case StorageType::BF16: return 2;
    case StorageType::Q8_0:
    case StorageType::Q5_0:
    case StorageType::Q5_1:
    case StorageType::Q4_0:
    case StorageType::Q4_1: break;
  }
  return 0;
}

bool storage_type_quantized(StorageType type) { return storage_type_size(type) == 0; }

// Bytes per 32-value block (as ggml_quant.h's Block* structs).
static size_t block_bytes(StorageType type) {
  switch (type) {
    case StorageType::Q8_0: return 34;
    case StorageType::Q5_0: return 22;
    case StorageType::Q5_1: return 24;
    case StorageType::Q4_0: return 18;
    case StorageType::Q4_1: return 20;
    case StorageType::F32:
    case StorageType::F16:
    case StorageType::BF16: break;
  }
  return 0;
}

const char* storage_type_name(StorageType type) {
  switch (type) {
    case StorageType::F32: return "F32";
    case StorageType::F16: return "F16";
    case StorageType::BF16: return "BF16";
    case StorageType::Q8_0: return "Q8_0";
    case StorageType::Q5_0: return "Q5_0";
    case StorageType::Q5_1: return "Q5_1";
    case StorageType::Q4_0: return "Q4_0";
    case StorageType::Q4_1: return "Q4_1";
  }
  return "?";
}

int64_t RawTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t RawTensor::nbytes() const {
  const auto n = static_cast<size_t>(numel());
  return storage_type_quantized(type) ? n / 32 * block_bytes(type) : n * storage_type_size(type);
}

std::string RawTensor::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace wisp
