#include "model/safetensors.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "wisp/error.h"

namespace wisp {

static StorageType parse_dtype(const std::string& dtype, const std::string& path,
                               const std::string& name) {
  if (dtype == "F32") return StorageType::F32;
  if (dtype == "F16") return StorageType::F16;
  if (dtype == "BF16") return StorageType::BF16;
  throw Error(path + ": tensor '" + name + "' has unsupported dtype " + dtype +
              " (wisp loads F32, F16 and BF16 weights)");
}

void read_safetensors(const std::string& path, const TensorRenamer& rename, RawTensorSet& out) {
  auto file = MappedFile::open(path);
  const size_t size = file->size();
  if (size < 8) throw Error(path + ": truncated safetensors file (no header)");
  uint64_t header_len = 0;
  std::memcpy(&header_len, file->data(), 8);
  if (header_len > size - 8) {
    throw Error(path + ": corrupt safetensors file (header length " + std::to_string(header_len) +
                " exceeds file size " + std::to_string(size) + ")");
  }
  const char* header_begin = reinterpret_cast<const char*>(file->data()) + 8;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_begin, header_begin + header_len);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": corrupt safetensors header (" + std::string(e.what()) + ")");
  }
  if (!header.is_object()) throw Error(path + ": corrupt safetensors header (not an object)");
  const std::byte* data_begin = file->data() + 8 + header_len;
  const size_t data_size = size - 8 - header_len;

  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    auto new_name = rename(name);
    if (!new_name) continue;
    try {
      RawTensor t;
      t.type = parse_dtype(entry.at("dtype").get<std::string>(), path, name);
      t.shape = entry.at("shape").get<std::vector<int64_t>>();
      auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size) {
        throw Error(path + ": tensor '" + name + "' lies outside the file (truncated download?)");
      }
      for (int64_t d : t.shape) {
        if (d < 0) throw Error(path + ": tensor '" + name + "' has a negative dimension");
      }
      if (static_cast<uint64_t>(t.numel()) * storage_type_size(t.type) != offsets[1] - offsets[0]) {
        throw Error(path + ": tensor '" + name + "' byte size does not match its shape " +
                    t.shape_string());
      }
      t.data = data_begin + offsets[0];
      t.file = path;
      out.tensors[*new_name] = std::move(t);
    } catch (const nlohmann::json::exception& e) {
      throw Error(path + ": corrupt header entry for tensor '" + name + "' (" + e.what() + ")");
    }
  }
  out.files.push_back(std::move(file));
}

}  // namespace wisp
