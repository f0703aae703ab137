// Reader for the safetensors format (Hugging Face): an 8-byte header length, a JSON header of
// {name: {dtype, shape, data_offsets}}, then the raw tensor bytes.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "model/raw_tensor.h"

namespace wisp {

// Maps a file's tensor name to the name to store it under, or nullopt to skip the tensor.
using TensorRenamer = std::function<std::optional<std::string>(const std::string&)>;

// Memory-maps `path` and adds its tensors to `out`; throws wisp::Error on a malformed header,
// an unsupported dtype or offsets outside the file.
void read_safetensors(const std::string& path, const TensorRenamer& rename, RawTensorSet& out);

}  // namespace wisp
